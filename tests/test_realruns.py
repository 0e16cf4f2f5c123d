"""fitdoc on real published training logs (tests/data/realruns, copied byte for byte with
their labels from a labelled set of 43 records: Keras, HF Trainer, Lightning, fastai,
MXNet, ultralytics, Paddle, plain PyTorch prints).

The labels come from what each log shows plus what its thread concluded, never from
fitdoc. These tests pin what a user must be able to trust: every record is read, the
checkpoint to keep is the one ModelCheckpoint keeps, every report agrees with itself,
one run gives one answer in every format it is saved in, and the labels are found at
least as well as when the thresholds below were set.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

import fitdoc
from fitdoc.readers import read_runs

DATA = Path(__file__).parent / "data" / "realruns"
LABELS = json.loads((DATA / "labels.json").read_text())
CORPUS = Path(__file__).parent.parent / "bench" / "corpus" / "runs"
FINE = {"healthy", "still_learning", "val_better_than_train"}
INFO_OK = FINE  # labels a finding may carry at info severity and still count
VOCAB = {"healthy", "still_learning", "overfitting", "underfitting", "plateau", "stuck_accuracy", "divergence",
         "nan_loss", "loss_rises_after_fall", "oscillation", "val_acc_zero", "negative_loss",
         "val_better_than_train", "data_problem", "lr_too_high", "lr_too_low", "batch_too_small"}
RAISE = re.compile(r"\b(raise|increase|higher)\b[^.]{0,30}\blearning rate", re.I)
LOWER = re.compile(r"\b(lower|reduce|decrease|smaller)\b[^.]{0,30}\blearning rate(?! on)", re.I)

# Measured on these 43 records when set: macro-F1 0.70, problem-vs-fine right on 37,
# fine runs flagged 2 of 13. A change that drops below these fails.
MIN_MACRO_F1 = 0.65
MIN_PROBLEM_VS_FINE = 36
MAX_FINE_FLAGGED = 3


@lru_cache(maxsize=None)
def report(name: str) -> dict:
    run = read_runs(DATA / name)[0]
    return fitdoc.diagnose(run, lang="en").to_dict()


def predicted(rep: dict) -> set[str]:
    found = {f["kind"] for f in rep["findings"] if f["severity"] != "info" or f["kind"] in INFO_OK}
    found |= set(rep["likely_causes"])
    if rep["verdict"] == "healthy":
        found.add("healthy")
    return found & VOCAB


@pytest.mark.parametrize("case", LABELS, ids=lambda c: c["id"])
def test_record_is_read_and_keeps_the_checkpoint_modelcheckpoint_keeps(case):
    rep = report(case["file"])
    assert len(rep["epochs"]) >= 2
    if case["best_epoch_by_val_loss"] is not None:
        assert rep["best_epoch"] == case["best_epoch_by_val_loss"]
    finite_val = [v for v in rep["series"].get("val_loss", []) if v is not None]
    if len(finite_val) >= 2:
        assert rep["best_epoch"] is not None and rep["best_epoch_reason"]


@pytest.mark.parametrize("case", LABELS, ids=lambda c: c["id"])
def test_report_agrees_with_itself(case):
    rep = report(case["file"])
    serious = [f for f in rep["findings"] if f["severity"] != "info"]
    assert not (rep["verdict"] == "healthy" and serious)
    fixes = [x for f in rep["findings"] for x in f["fixes"]]
    assert not (any(RAISE.search(x) for x in fixes) and any(LOWER.search(x) for x in fixes)), fixes
    assert len(fixes) == len(set(fixes))  # no fix said twice
    kinds = {f["kind"] for f in rep["findings"]}
    assert rep["trend"].get("reading") != "overfitting" or "overfitting" in kinds
    if serious:  # the summary names the finding that leads the report
        title = fitdoc.advice.kind_title(serious[0]["kind"], "en")
        assert rep["summary"].startswith(title)
    for f in serious:
        if f["kind"] == "overfitting" and rep["best_epoch"] is not None:
            assert f["epoch"] >= rep["best_epoch"]
    for f in rep["findings"]:
        assert sum(c["confidence"] for c in f["causes"]) <= 1.0 + 0.005 * len(f["causes"])  # 2-digit rounding


def test_labels_are_found_as_well_as_when_the_thresholds_were_set():
    tp, fp, fn = Counter(), Counter(), Counter()
    right = flagged = 0
    for case in LABELS:
        rep = report(case["file"])
        truth, pred = set(case["problems"]) & VOCAB, predicted(report(case["file"]))
        for label in truth | pred:
            (tp if label in truth and label in pred else fp if label in pred else fn)[label] += 1
        fine = truth <= FINE
        right += fine == (rep["verdict"] == "healthy")
        flagged += fine and rep["verdict"] != "healthy"
    f1 = [2 * tp[k] / (2 * tp[k] + fp[k] + fn[k]) for k in tp.keys() | fn.keys() if tp[k] + fn[k]]
    assert sum(f1) / len(f1) >= MIN_MACRO_F1
    assert right >= MIN_PROBLEM_VS_FINE and flagged <= MAX_FINE_FLAGGED


@pytest.mark.parametrize("name", ["304.log", "406.log", "407.log", "408.log"])
def test_short_runs_with_three_validation_rises_are_overfitting(name):
    rep = report(name)
    lead = rep["findings"][0]
    assert lead["kind"] == "overfitting" and lead["epoch"] > rep["best_epoch"]
    assert rep["epochs"][rep["epochs"].index(rep["best_epoch"]) + 1] == lead["epoch"]  # the evaluation after it


def test_healthy_noise_around_a_converging_trend_is_not_oscillation():
    for name in ("301.csv", "428.csv"):  # tiny validation sets: val_loss wiggles around its trend
        assert report(name)["verdict"] == "healthy", name


def test_slow_drift_up_from_the_first_value_is_divergence():
    rep = report("312.log")  # never improves on epoch 1, 0.176 -> 0.204 over 16 epochs
    assert rep["findings"][0]["kind"] == "divergence" and rep["findings"][0]["epoch"] == 1


def test_a_window_whose_loss_climbs_back_is_not_divergence():
    for name in ("309.log", "313.log"):  # windows from the middle of long runs
        kinds = [f["kind"] for f in report(name)["findings"]]
        assert kinds[0] == "loss_rises_after_fall" and "divergence" not in kinds, name


def test_epochs_that_measured_nothing_are_named():
    rep = report("308.log")  # every even epoch prints loss 0 and accuracy 0
    assert rep["findings"][0]["code"] == "FD307" and rep["findings"][0]["epoch"] == 2
    assert "data_problem" in rep["likely_causes"]


def test_a_loss_negative_by_design_gets_no_cause():
    rep = report("311.log")  # cosine proximity: loss between -0.59 and -0.65
    negative = next(f for f in rep["findings"] if f["kind"] == "negative_loss")
    assert negative["causes"] == [] and "by design" in negative["evidence"]
    assert "val_better_than_train" not in {f["kind"] for f in rep["findings"]}


def test_a_frozen_validation_loss_is_a_plateau():
    rep = report("405.log")  # val_loss 0.3732 at every evaluation while training moves
    assert {"plateau", "stuck_accuracy"} <= {f["kind"] for f in rep["findings"]}


def test_a_loss_that_fell_to_about_nothing_and_holds_it_has_converged_not_frozen():
    path = Path(__file__).parent / "data" / "published" / "chatglm_tuning_issue271.log"  # 1.141 -> 0.0001, then 0.0001
    rep = fitdoc.diagnose(read_runs(path)[0], lang="en").to_dict()
    assert rep["verdict"] == "healthy" and "plateau" not in {f["kind"] for f in rep["findings"]}


def test_a_run_that_overfits_is_not_also_underfitting():
    kinds = [f["kind"] for f in report("426.json")["findings"]]
    assert "overfitting" in kinds and "underfitting" not in kinds


def _corpus_runs(every: int = 10) -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir())[::every]


@pytest.mark.parametrize("folder", _corpus_runs(), ids=lambda p: p.name)
def test_one_run_gives_one_answer_in_every_format(folder):
    answers, best = {}, {}
    for name in ("stdout_verbose2.txt", "log.csv", "history.json"):
        rep = fitdoc.diagnose(folder / name).to_dict()
        kinds = tuple(sorted({f["kind"] for f in rep["findings"] if f["severity"] != "info"}))
        answers[name] = (rep["verdict"], kinds)
        best[name] = None if rep["best_epoch"] is None else rep["epochs"].index(rep["best_epoch"])  # CSV is 0-based
    assert len(set(answers.values())) == 1, answers
    # stdout prints 4 decimals: epochs whose values tie there are the same answer
    val = fitdoc.diagnose(folder / "history.json").to_dict()["series"]["val_loss"]
    assert len({None if i is None else round(val[i], 4) for i in best.values()}) == 1, best
