"""The one-line story, the trend reading and the best epoch's reason of a report agree
with its findings and with each other, on real published records (tests/data/realruns
and tests/data/published)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

import fitdoc
from fitdoc.engine import READING_OF_KIND
from fitdoc.readers import read_runs

DATA = Path(__file__).parent / "data"
RECORDS = sorted(p for folder in ("realruns", "published") for p in (DATA / folder).iterdir()
                 if p.suffix in (".log", ".csv", ".json", ".md", ".txt") and p.name not in ("labels.json", "README.md"))
# what a run with a warning or error reads as: never the reading of a run without one
PROBLEM_READINGS = {r for r in READING_OF_KIND.values() if r != "still_learning"} | {"see_findings", "data_problem"}


@lru_cache(maxsize=None)
def report(path: Path) -> dict:
    return fitdoc.diagnose(read_runs(path)[0], lang="en").to_dict()


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_run_without_a_warning_never_reads_as_a_problem(path):
    rep = report(path)
    reading = rep["trend"]["reading"]
    if rep["verdict"] == "healthy":
        assert reading not in PROBLEM_READINGS, rep["summary"]
    if reading in ("converged", "still_learning"):
        assert "rising" not in (rep["trend"].get("loss"), rep["trend"].get("val_loss")), rep["trend"]
    if reading == "still_learning":
        assert "val_loss" in rep["trend"]  # "both losses still falling" needs a validation loss
    if rep["best_epoch"] is None:  # no validation metric: nothing to monitor
        assert not [x for f in rep["findings"] for x in f["fixes"] if "val_loss" in x or "validation loss" in x]
    if rep["epochs"] and rep["best_epoch"] == rep["epochs"][-1]:
        assert not [x for f in rep["findings"] for x in f["fixes"] if "not the last ones" in x]


def test_an_info_overfitting_note_is_told_as_beginning_not_as_no_problem():
    rep = report(DATA / "published" / "wav2vec2_xls_r_indonesian_card.md")
    assert rep["verdict"] == "healthy" and [f["kind"] for f in rep["findings"]] == ["overfitting"]
    assert rep["trend"]["reading"] == "val_stalled"
    assert rep["summary"].startswith("No problem yet: the validation loss stopped improving")
    assert rep["summary"].endswith("keep the checkpoint of epoch 16")


def test_a_minimum_the_curve_has_turned_from_is_not_still_improving():
    rep = report(DATA / "published" / "emotion_resnet50_training.csv")  # val_loss lowest at epoch 10 of 0-16
    assert rep["best_epoch"] == 10 and rep["best_epoch_reason"] == "minimum"
    assert "train longer" not in rep["summary"]


def test_noise_is_not_read_as_a_direction():
    rep = report(DATA / "published" / "keras_issue8680.log")  # val_loss 0.63-0.69 at random over 10 epochs
    assert rep["best_epoch_reason"] == "flat"
    assert rep["trend"]["val_loss"] == "flat" and rep["trend"]["reading"] == "converged"
    assert rep["summary"].startswith("No problem found: the curves converge normally")


def test_a_run_without_validation_still_learning_names_the_training_loss_only():
    rep = report(DATA / "realruns" / "307.log")  # training loss only, still falling
    assert "val_loss" not in rep["series"] and rep["verdict"] == "healthy"
    assert rep["trend"]["reading"] == "train_still_learning"
    assert rep["summary"] == "No problem found: the training loss is still falling: the network is still learning"


def test_camel_case_validation_names_are_validation():
    rep = report(DATA / "published" / "automap_issue4.log")  # "Epoch 81, Loss: ..., ValLoss: ..."
    assert set(rep["series"]) == {"loss", "val_loss"} and rep["best_epoch"] == 99


def test_test_metrics_of_json_lines_are_the_validation_when_nothing_else_is():
    rep = report(DATA / "published" / "p2t_issue13_log.txt")
    assert set(rep["series"]) == {"loss", "val_loss", "val_acc1", "val_acc5"}  # n_parameters is bookkeeping
    assert rep["best_epoch"] == 250 and "too short to judge (evaluations: 1)" in rep["summary"]
    assert "test metrics read as validation metrics (the log has no other validation metric)" in rep["notes"]


def test_one_finite_validation_value_is_a_basis_for_the_best_epoch():
    rep = report(DATA / "published" / "paddlenlp_issue4084.log")  # one evaluation: P/R/F1 all 0.0
    assert rep["series"]["val_f1"].count(0.0) == 1
    assert rep["best_epoch"] == 38 and rep["best_epoch_metric"] == "val_precision"


def test_a_record_of_accuracies_only_is_judged_on_its_evaluations():
    rep = report(DATA / "published" / "mxnet_issue6863.log")  # 10 epochs of accuracy, no loss
    assert rep["trend"]["evals"] == 10 and rep["trend"]["reading"] == "converged"
    assert rep["best_epoch"] == 49 and rep["best_epoch_reason"] == "still_improving"


@pytest.mark.parametrize("lang, words", [("en", ("Oscillation from step 100", "from step 100")), ("zh", ("震荡（自第 100 步起）", "自第 100 步起"))])
def test_a_record_of_logged_steps_names_steps_not_epochs(lang, words):
    from fitdoc.output.text import when

    path = DATA / "published" / "paddlex_issue731.log"  # steps 100-116 inside epoch 1
    rep = fitdoc.diagnose(read_runs(path)[0], lang=lang)
    assert rep.summary == words[0]
    assert when(rep.findings[0], lang, fitdoc.advice.unit_of(rep.run)) == words[1]


def test_a_run_stopped_before_its_planned_epochs_is_told_to_finish():
    rep = report(DATA / "published" / "keras_issue2937.log")  # "Epoch 10/200" is the last header
    assert rep["best_epoch_reason"] == "still_improving"
    fixes = [a for f in rep["findings"] for a in f["fix_actions"]]
    assert fixes[0]["text"].startswith("The run was set for 200 epochs and the record stops after 10")
    assert fixes[0]["action"] == {"param": "num_epochs", "from": 10, "to": 200}


NOTE_RECORDS = sorted(p for folder in ("realruns", "published", "text-log-real") for p in (DATA / folder).iterdir()
                      if p.suffix in (".log", ".csv", ".json", ".md", ".txt") and p.name not in ("labels.json", "README.md"))


def test_every_note_a_real_record_gets_is_said_in_chinese_too():
    untranslated = {n for p in NOTE_RECORDS for run in read_runs(p) for n in run.notes if fitdoc.advice.note(n, "zh") == n}
    assert not untranslated


def test_an_ultralytics_record_gets_ultralytics_code():
    rep = report(DATA / "realruns" / "422.csv")  # YOLOv5 results.csv
    code = [a["text"] for f in rep["findings"] for a in f["fix_actions"]]
    assert any("model.train(..., epochs=600)" in c for c in code) and any("lr0=" in c for c in code)
    assert not any("model.fit(" in c or "keras." in c for c in code)


def test_a_learning_rate_fix_of_a_step_record_quotes_the_step():
    rep = report(DATA / "published" / "paddlex_issue731.log")
    fixes = [x for f in rep["findings"] for x in f["fixes"] if x.startswith("Lower the learning rate")]
    assert fixes and "(its value at step 100)" in fixes[0]


@pytest.mark.parametrize("lang, words", [("en", "the record starts at step 500"), ("zh", "记录从第 500 步才开始")])
def test_the_evidence_of_a_step_record_names_steps(lang, words):
    path = DATA / "text-log-real" / "xgboost_issue2777.log"  # rounds 500-12000
    rep = fitdoc.diagnose(read_runs(path)[0], lang=lang).to_dict()
    assert words in rep["findings"][0]["evidence"]


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_summary_says_train_longer_only_of_a_run_it_reads_as_still_learning(path):
    rep = report(path)
    if "train longer" in rep["summary"]:
        assert rep["trend"]["reading"] in ("still_learning", "train_still_learning"), rep["summary"]


def test_one_epoch_to_retrain_is_said_in_the_singular():
    from fitdoc.output.text import best_epoch_lines

    rep = fitdoc.diagnose(read_runs(DATA / "realruns" / "306.log")[0], lang="en")  # NaN from epoch 1: keep epoch 1
    assert best_epoch_lines(rep)[0].endswith("retrain from scratch for 1 epoch")


def test_fractional_epochs_are_counted_as_evaluations():
    from fitdoc.output.text import span

    run = read_runs(DATA / "realruns" / "409.log")[0]  # a model card's 26 evaluations within about one epoch
    assert span(run) == "26 evaluations over epochs 0.04-1"
    assert span(read_runs(DATA / "realruns" / "305.log")[0]) == "16 epochs 1-16"
