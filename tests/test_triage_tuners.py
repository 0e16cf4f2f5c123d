"""fitdoc triage on real Keras Tuner projects and W&B offline runs (tests/data/make_keras_tuner.py,
tests/data/make_wandb.py): trials and runs, their hyperparameters, curves and notes."""

import json
import shutil
import sys

import pytest
from click.testing import CliRunner

from conftest import DATA
from fitdoc.cli import main
from fitdoc.sources import units
from fitdoc.sources.keras_tuner import NO_CURVE
from fitdoc.sources.wandb_offline import NO_EXIT

TUNER = DATA / "keras_tuner"
WANDB = DATA / "wandb"


def _rows(spec, tmp_path, *args):
    result = CliRunner().invoke(main, ["triage", str(spec), "--format", "jsonl", "--no-cache", "-j", "1", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def _trial(name):
    return json.loads((TUNER / name / "trial.json").read_text())


def test_keras_tuner_trials_read_with_the_curve_logged_into_their_folder(tmp_path):
    found = units(str(TUNER / "logged"))
    assert [u.kind for u in found] == ["keras_tuner"] * 4 and {u.state for u in found} == {"completed"}
    rows = _rows(TUNER / "logged", tmp_path)
    assert sorted(r["hp.lr"] for r in rows) == [0.001, 0.01, 0.3, 3.0] and all(r["hp.dropout"] == 0 for r in rows)
    for r in rows:
        trial = _trial(r["name"])
        assert r["format"] == "keras-csv" and r["epochs"] == 6 and r["notes"] is None
        # the tuner kept the best epoch of the same curve
        assert (r["best_epoch"], r["best_value"]) == (trial["best_step"], pytest.approx(trial["score"]))


def test_a_trial_without_a_record_is_its_best_epoch_with_a_note(tmp_path):
    rows = _rows(TUNER / "plain", tmp_path)
    assert sorted(r["hp.dropout"] for r in rows) == [0.0, 0.5, 1.0]
    for r in rows:
        trial = _trial(r["name"])
        assert r["format"] == "keras-tuner" and r["epochs"] == 1 and r["notes"] == NO_CURVE
        assert (r["best_epoch"], r["best_value"]) == (trial["best_step"], pytest.approx(trial["score"]))
    table = CliRunner().invoke(main, ["triage", str(TUNER / "plain"), "--no-cache", "-j", "1"]).stdout
    assert "no per-epoch curve in" in table


def test_a_folder_of_tuner_projects_is_one_sweep(tmp_path):
    rows = _rows(TUNER, tmp_path)
    assert len(rows) == 7 and {r["name"].split("/")[0] for r in rows} == {"logged", "plain"}


def test_failed_and_broken_trials_are_rows_that_say_why(tmp_path):
    project = shutil.copytree(TUNER / "plain", tmp_path / "plain")
    failed = json.loads((project / "trial_1" / "trial.json").read_text())
    failed.update(status="FAILED", score=None, metrics={"metrics": {}},
                  message="Traceback (most recent call last):\n  ...\nValueError: Invalid dtype: str256\n")
    (project / "trial_1" / "trial.json").write_text(json.dumps(failed))
    (project / "trial_2" / "trial.json").write_text('{"trial_id": "2", "hyperparam')  # cut mid-write
    (project / "trial_0" / "notes.txt").write_text("try wider layers next\n")
    rows = {r["name"]: r for r in _rows(project, tmp_path)}
    assert rows["plain/trial_0"]["verdict"] == "too_short"  # one point: no verdict
    assert rows["plain/trial_0"]["notes"] == f"{NO_CURVE}; not read as records: notes.txt"
    assert rows["plain/trial_1"]["state"] == "failed" and rows["plain/trial_1"]["hp.dropout"] == 0.5
    assert rows["plain/trial_1"]["error"] == "trial failed reported no metrics: ValueError: Invalid dtype: str256"
    assert rows["plain/trial_2"]["verdict"] == "unreadable"
    assert rows["plain/trial_2"]["error"].startswith("unreadable Keras Tuner trial: ")


def test_wandb_offline_runs_with_config_and_history(tmp_path):
    pytest.importorskip("wandb")
    rows = _rows(WANDB, tmp_path)
    assert sorted(r["name"] for r in rows) == ["lr=0.001", "lr=0.01", "lr=0.1", "lr=3.0"]
    for r in rows:
        assert r["format"] == "wandb" and r["epochs"] == 6 and r["notes"] is None
        assert r["name"] == f"lr={r['hp.lr']}" and r["hp.batch_size"] == 64
        assert (r["hp.optimizer/name"], r["hp.optimizer/beta_1"]) == ("adam", 0.9)
    assert rows[0]["name"] == "lr=0.01" and rows[-1]["name"] == "lr=3.0"


def test_a_wandb_log_cut_mid_write_reads_to_its_last_whole_record(tmp_path):
    pytest.importorskip("wandb")
    folder = shutil.copytree(next(WANDB.glob("offline-run-*")), tmp_path / "wandb" / "offline-run-cut")
    log = next(folder.glob("run-*.wandb"))
    whole = log.read_bytes()
    log.write_bytes(whole[:len(whole) * 2 // 3])
    (row,) = _rows(folder, tmp_path)
    assert 0 < row["epochs"] < 6 and row["notes"] == NO_EXIT
    log.write_bytes(b"not a wandb log\n")
    (row,) = _rows(tmp_path / "wandb", tmp_path)
    assert row["verdict"] == "unreadable" and row["error"] == "not a W&B run log (no version 0 :W&B header)"


def test_wandb_runs_without_wandb_are_one_line_naming_the_folder(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb.proto.wandb_internal_pb2", None)  # import fails
    result = CliRunner().invoke(main, ["triage", str(WANDB), "--no-cache"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"fitdoc: error: {WANDB}: reading W&B run logs needs wandb: pip install wandb"
