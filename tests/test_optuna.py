"""Pruning with a reason: the Optuna pruner on tiny real studies, the Ray Tune stopper,
and the triage of an Optuna storage."""

import importlib.util
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

optuna = pytest.importorskip("optuna")

from fitdoc.cli import main  # noqa: E402
from fitdoc.integrations.optuna import REASON_ATTR, Pruner, report  # noqa: E402

BENCH = Path(__file__).resolve().parents[1] / "bench"
_spec = importlib.util.spec_from_file_location("sweepgen", BENCH / "sweepgen.py")
sweepgen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sweepgen)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    """A made-up training run: lr >= 3e-3 diverges (sweepgen's seeded region)."""
    p = {"lr": trial.suggest_float("lr", 1e-5, 1e-1, log=True), "dropout": trial.suggest_float("dropout", 0.1, 0.5),
         "batch_size": 64}
    c = sweepgen.curves(p, random.Random(trial.number), epochs=20)
    best = float("inf")
    for epoch in range(20):
        report(trial, epoch, c["val_loss"][epoch], loss=c["loss"][epoch])
        best = min(best, c["val_loss"][epoch])
        if trial.should_prune():
            raise optuna.TrialPruned()
    return best


@pytest.fixture(scope="module")
def study_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("optuna") / "study.db"
    study = optuna.create_study(study_name="mlp", storage=f"sqlite:///{path}",
                                sampler=optuna.samplers.RandomSampler(seed=0), pruner=Pruner())
    study.optimize(objective, n_trials=24)
    return path, study


def test_diverging_trials_are_pruned_with_their_reason(study_db):
    _, study = study_db
    trials = study.get_trials()
    bad = [t for t in trials if t.params["lr"] >= sweepgen.BAD_LR]
    assert bad and all(t.state == optuna.trial.TrialState.PRUNED for t in bad)
    for t in bad:
        reason = t.user_attrs[REASON_ATTR]
        assert reason["code"] in ("FD201", "FD202") and reason["evidence"]
        assert reason["at_epoch"] < 19 and reason["epoch"] <= reason["at_epoch"]
    fine = [t for t in trials if t.params["lr"] < sweepgen.BAD_LR]
    assert all(t.state == optuna.trial.TrialState.COMPLETE and REASON_ATTR not in t.user_attrs for t in fine)


def test_intermediate_values_alone_prune_a_nan():
    def nan_after_three(trial):
        for step, value in enumerate([1.0, 0.8, 0.7, float("nan"), float("nan")]):
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return 0.7

    study = optuna.create_study(pruner=Pruner())
    study.optimize(nan_after_three, n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs[REASON_ATTR]["code"] == "FD201" and trial.user_attrs[REASON_ATTR]["at_epoch"] == 3


def test_a_wrapped_pruner_decides_the_rest():
    def flat(trial):
        level = trial.suggest_float("level", 0.0, 1.0)
        for step in range(8):
            trial.report(1.0 + level + 0.5 * 0.8 ** step, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return 1.0 + level

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1),
                                pruner=Pruner(optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)))
    study.optimize(flat, n_trials=12)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and all(REASON_ATTR not in t.user_attrs for t in pruned)  # pruned by rank, not by fitdoc


def test_triage_of_an_optuna_storage_names_the_region(study_db, tmp_path):
    path, study = study_db
    result = CliRunner().invoke(main, ["triage", f"sqlite:///{path}", "--format", "jsonl", "--cache",
                                       str(tmp_path / "c.sqlite"), "-j", "1"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 24 and {r["state"] for r in rows} == {"complete", "pruned"}
    assert all(r["metric"] == "val_loss" for r in rows)
    text = CliRunner().invoke(main, ["triage", str(path), "--cache", str(tmp_path / "c.sqlite")]).stdout
    assert "have lr ≥" in " ".join(text.split())


def test_ray_tune_stopper_stops_a_diverging_trial_and_says_why():
    raytune = pytest.importorskip("fitdoc.integrations.raytune")
    stopper = raytune.Stopper()
    bad = sweepgen.curves({"lr": 0.03, "dropout": 0.3, "batch_size": 32}, random.Random(0))
    good = sweepgen.curves({"lr": 3e-4, "dropout": 0.3, "batch_size": 32}, random.Random(0))
    stopped = {}
    for name, c in (("bad", bad), ("good", good)):
        for i in range(len(c["loss"])):
            result = {"loss": c["loss"][i], "val_loss": c["val_loss"][i], "training_iteration": i + 1, "time_total_s": i}
            if stopper(name, result):
                stopped[name] = result
                break
    assert list(stopped) == ["bad"] and stopper.reasons["bad"]["code"] in ("FD201", "FD202")
    assert stopped["bad"]["fitdoc"] == stopper.reasons["bad"] and stopped["bad"]["training_iteration"] < 15
