"""Each curve rule fires on a real curve that shows its symptom and stays quiet on one
that does not. Curves: Keras runs trained with seeded faults (tests/data/keras_runs,
made by tests/data/make_keras_runs.py), the seeds' published Keras 2 log, real Keras 3
fixtures and the labelled shapes in tests/data/cases."""

import json

import pytest

import fitdoc
from fitdoc.config import Config
from fitdoc.rules import all_rules

from conftest import DATA, ROOT

RUNS = DATA / "keras_runs"
SEED_LOG = ROOT / "examples" / "keras2_loss_rises_again.txt"


def codes(path, **kw):
    return {f.code: f for f in fitdoc.diagnose(path, lang="en", **kw).findings}


FIRES = [
    ("FD101", "cases/overfit.csv", 8),  # the evaluation after the minimum at epoch 7
    ("FD102", "cases/underfit.csv", 0),
    ("FD102", "runs/lr_too_low.txt", 1),
    ("FD103", "cases/clean.csv", None),
    ("FD104", "cases/plateau.csv", 0),
    ("FD104", "runs/softmax_one_unit.txt", 1),
    ("FD201", "cases/nan.csv", 5),
    ("FD201", "fixtures/keras3_fit_nan_verbose2.txt", 1),
    ("FD202", "cases/diverge.csv", 12),
    ("FD203", "seed", 68),
    ("FD204", "cases/oscillating.csv", None),
    ("FD205", "cases/spike.csv", 20),
    ("FD301", "seed", 1),
    ("FD301", "runs/softmax_one_unit.txt", 1),
    ("FD302", "runs/sorted_split.txt", 1),
    ("FD302", "runs/accuracy_on_regression.txt", 1),
    ("FD303", "runs/labels_out_of_range.txt", 1),
    ("FD306", "runs/accuracy_on_regression.txt", 1),
]

QUIET = [
    ("FD101", "runs/healthy.txt"),
    ("FD101", "seed"),  # train and val rise together at 68: instability, not overfitting
    ("FD102", "runs/healthy.txt"),
    ("FD103", "fixtures/keras3_fit_verbose2.txt"),  # early stopping ended it
    ("FD104", "runs/healthy.txt"),
    ("FD201", "cases/diverge.csv"),
    ("FD202", "cases/overfit.csv"),
    ("FD203", "cases/spike.csv"),  # recovers at once: a spike
    ("FD204", "cases/clean.csv"),
    ("FD205", "runs/overfit_tiny_data.txt"),  # one bad evaluation of a 30-sample val set
    ("FD301", "runs/overfit_tiny_data.txt"),  # val_acc 29/30 repeated while learning
    ("FD301", "runs/lr_too_low.txt"),  # accuracy low but rising
    ("FD302", "runs/healthy.txt"),
    ("FD303", "runs/healthy.txt"),
    ("FD304", "runs/healthy.txt"),
    ("FD305", "cases/plateau.csv"),
    ("FD306", "runs/healthy.txt"),
]


def resolve(name, cases, fixtures):
    if name == "seed":
        return SEED_LOG
    folder, file = name.split("/")
    return {"cases": cases, "fixtures": fixtures, "runs": RUNS}[folder] / file


@pytest.mark.parametrize("code, name, onset", FIRES)
def test_rule_fires_on_a_real_curve_at_its_onset(code, name, onset, cases, fixtures):
    found = codes(resolve(name, cases, fixtures))
    assert code in found, f"{code} missing; got {sorted(found)}"
    if onset is not None:
        assert found[code].epoch == onset


@pytest.mark.parametrize("code, name", QUIET)
def test_rule_stays_quiet_on_a_curve_without_its_symptom(code, name, cases, fixtures):
    assert code not in codes(resolve(name, cases, fixtures))


def test_val_better_than_train_and_suspicious_validation(tmp_path):
    base = {"loss": [1.0, 0.8, 0.7, 0.65, 0.6, 0.58], "accuracy": [0.5, 0.6, 0.65, 0.7, 0.72, 0.73]}
    mild = {**base, "val_loss": [0.9, 0.75, 0.66, 0.6, 0.56, 0.55], "val_accuracy": [0.55, 0.62, 0.66, 0.71, 0.73, 0.74]}
    leak = {**base, "val_loss": [0.3, 0.1, 0.05, 0.03, 0.02, 0.02], "val_accuracy": [0.99, 1.0, 1.0, 1.0, 1.0, 1.0]}
    for name, history in (("mild", mild), ("leak", leak)):
        (tmp_path / f"{name}.json").write_text(json.dumps(history))
    mild_codes, leak_codes = codes(tmp_path / "mild.json"), codes(tmp_path / "leak.json")
    assert "FD105" in mild_codes and mild_codes["FD105"].severity == "info" and "FD304" not in mild_codes
    assert "FD304" in leak_codes and "FD105" not in leak_codes


def test_train_flat_while_validation_falls(tmp_path):
    history = {"loss": [0.693, 0.692, 0.693, 0.692, 0.693, 0.692, 0.693], "val_loss": [0.69, 0.62, 0.55, 0.5, 0.46, 0.43, 0.41]}
    (tmp_path / "h.json").write_text(json.dumps(history))
    assert "FD305" in codes(tmp_path / "h.json")


def test_verdicts_and_likely_causes_on_the_seeded_faults():
    assert fitdoc.diagnose(RUNS / "healthy.txt").verdict == "healthy"
    assert fitdoc.diagnose(RUNS / "sorted_split.txt").likely_causes[0] == "data_problem"
    assert fitdoc.diagnose(RUNS / "lr_too_high_sgd.txt").likely_causes[0] == "lr_too_high"
    assert fitdoc.diagnose(RUNS / "softmax_one_unit.txt").likely_causes[0] == "loss_activation_mismatch"
    assert fitdoc.diagnose(RUNS / "lr_too_low.txt").likely_causes[0] == "lr_too_low"
    assert fitdoc.diagnose(RUNS / "accuracy_on_regression.txt").likely_causes == ["metric_mismatch"]


def test_labelled_cases_best_epoch_and_kinds(cases):
    truth = json.loads((cases / "truth.json").read_text())
    rename = {"nan": "nan_loss"}
    for name, t in truth.items():
        report = fitdoc.diagnose(cases / f"{name}.csv")
        kinds = {f.kind for f in report.findings if f.severity != "info"} or {"healthy"}
        assert {rename.get(k, k) for k in t["labels"]} <= kinds, name
        assert report.best_epoch == t["best_epoch"], name
        if "onset_epoch" in t:
            kind = rename.get(t["labels"][0], t["labels"][0])
            # truth.json places overfitting at the minimum; fitdoc at the evaluation after it
            onset = t["onset_epoch"] + (kind == "overfitting")
            assert min(f.epoch for f in report.findings if f.kind == kind) == onset, name


def test_every_rule_is_documented_with_thresholds():
    for code, cls in all_rules().items():
        doc = cls.doc()
        for section in ("What it detects", "Why it matters", "Example", "What to do", "Known false alarms"):
            assert section in doc, f"{code} lacks {section}"


def test_config_selects_ignores_and_tunes(cases):
    assert "FD101" not in codes(cases / "overfit.csv", config=Config(ignore=["FD1"]))
    assert "FD101" not in codes(cases / "overfit.csv", config=Config(rules={"FD101": {"min_rise": 10.0, "stall_fraction": 2.0, "min_rises": 100}}))
    with pytest.raises(fitdoc.FitdocError, match="unknown threshold"):
        fitdoc.diagnose(cases / "overfit.csv", config=Config(rules={"FD101": {"bogus": 1}}))


def test_step_level_spike_is_found_at_full_resolution():
    import numpy as np

    from fitdoc.run import Run, Series, StepSeries

    rng = np.random.default_rng(0)
    steps = np.arange(1, 401)
    loss = 2.0 * np.exp(-steps / 150) + 0.3 + rng.normal(0, 0.02, len(steps))
    loss[250:253] *= 5  # three bad batches in epoch 7
    epochs = np.arange(1, 11)
    per_epoch = [float(loss[(e - 1) * 40 : e * 40].mean()) for e in epochs]
    run = Run(epochs, {"loss": Series.from_list(per_epoch)}, step_series={"loss": StepSeries(steps, loss, (steps - 1) // 40 + 1)})
    found = {f.code: f for f in fitdoc.diagnose(run).findings}
    assert found["FD205"].epoch == 7 and found["FD205"].facts["step"] in (251, 252, 253)
    calm = Run(epochs, {"loss": Series.from_list(per_epoch)}, step_series={"loss": StepSeries(steps, 2.0 * np.exp(-steps / 150) + 0.3 + rng.normal(0, 0.02, len(steps)))})
    assert "FD205" not in {f.code for f in fitdoc.diagnose(calm).findings}


def test_overfitting_in_a_window_from_the_middle_of_a_run(tmp_path):
    text = "".join(
        f"Epoch {e}/100\n100/100 - 1s - loss: {0.3 - 0.02 * (e - 40):.2f} - val_loss: {v}\n"
        for e, v in zip(range(40, 46), (0.50, 0.53, 0.57, 0.60, 0.64, 0.69))
    )
    (tmp_path / "window.txt").write_text(text)
    found = codes(tmp_path / "window.txt")
    assert found["FD101"].variant == "rising_window" and found["FD101"].epoch == 41
    assert "FD102" not in found  # no start in the window: no claim about how far the loss fell


def test_a_window_with_a_wide_generalisation_gap_is_overfitting():
    """A real window (epochs 76-84 of an AlexNet notebook): val_loss about 15 times the
    training loss and validation accuracy 0.66 against 0.94 throughout."""
    report = fitdoc.diagnose(DATA / "realruns" / "314.log")
    overfit = report.findings[0]
    assert (overfit.code, overfit.variant, overfit.severity) == ("FD101", "gap_window", "warning")
    assert report.best_epoch == 78 and overfit.epoch == 79  # the evaluation after the window's lowest


def test_a_window_without_a_wide_gap_is_not_read_as_one(tmp_path):
    real = fitdoc.diagnose(DATA / "published" / "keras_issue8680.log")  # epochs 39-48, val below train
    # val_loss 4x the training loss but the accuracies close (a loss the validation set weighs differently)
    text = "".join(f"Epoch {e}/100\n100/100 - 1s - loss: 0.{30 - e % 3} - accuracy: 0.90 - val_loss: 1.2{e % 4} - val_accuracy: 0.86\n"
                   for e in range(40, 49))
    (tmp_path / "window.txt").write_text(text)
    close = fitdoc.diagnose(tmp_path / "window.txt")
    assert all(f.variant != "gap_window" for r in (real, close) for f in r.findings)


def test_nan_is_never_the_best_epoch(tmp_path):
    history = {"loss": [1.0, 0.8, 0.7, 0.65, float("nan"), float("nan")],
               "val_loss": [1.1, 0.9, 0.8, 0.85, float("nan"), float("nan")]}
    (tmp_path / "h.json").write_text(json.dumps(history))  # json.dump writes bare NaN
    report = fitdoc.diagnose(tmp_path / "h.json")
    assert report.best_epoch == 3 and report.best.reason == "minimum"
    assert [f.code for f in report.findings][:1] == ["FD201"]


def test_validation_every_n_epochs_counts_evaluations(tmp_path):
    val = {1: 1.0, 3: 0.8, 5: 0.7, 7: 0.62, 9: 0.66, 11: 0.72, 13: 0.8, 15: 0.9}
    rows = ["epoch,loss,val_loss"] + [f"{e},{1.0 - 0.05 * e:.3f},{val.get(e, 'NA')}" for e in range(16)]
    (tmp_path / "log.csv").write_text("\n".join(rows) + "\n")
    report = fitdoc.diagnose(tmp_path / "log.csv")
    overfit = {f.code: f for f in report.findings}["FD101"]
    assert overfit.epoch == 9 and overfit.facts["best_epoch"] == 7 and overfit.facts["evals_after"] == 4  # evaluations, not epochs
    assert report.best_epoch == 7 and report.best.patience == 3


def test_one_bad_evaluation_of_a_noisy_curve_is_not_overfitting(tmp_path):
    import numpy as np

    rng = np.random.default_rng(1)
    val = list(np.round(0.9 * np.exp(-np.arange(30) / 8) + 0.3 + rng.normal(0, 0.02, 30), 4))
    val[-1] += 0.08  # one bump at the very end
    loss = list(np.round(0.9 * np.exp(-np.arange(30) / 7) + 0.2, 4))
    (tmp_path / "h.json").write_text(json.dumps({"loss": loss, "val_loss": val}))
    assert "FD101" not in codes(tmp_path / "h.json")
