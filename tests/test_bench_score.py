"""The benchmark scorer's arithmetic, and the validity of the corpus labels."""

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
_spec = importlib.util.spec_from_file_location("bench_score", BENCH / "score.py")
score = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(score)

LABELS = sorted((BENCH / "corpus" / "runs").glob("*/label.json"))


def _report(verdict, findings, causes, best, epochs):
    return {"verdict": verdict, "findings": findings, "likely_causes": causes,
            "best_epoch": best, "epochs": epochs}


def _pairs():
    overfit = score.truth({"kinds": ["overfitting"], "causes": ["needs_regularization"], "healthy": False,
                           "best_epoch": 5, "onsets": {"overfitting": 5}})
    clean = score.truth({"kinds": ["val_better_than_train"], "causes": [], "healthy": True,
                         "best_epoch": None, "onsets": {"val_better_than_train": None}})
    findings = [
        {"kind": "overfitting", "epoch": 6, "severity": "warning"},  # 0-based CSV epoch 6 = Epoch 7/N
        {"kind": "nan_loss", "epoch": 2, "severity": "error"},
        {"kind": "val_better_than_train", "epoch": None, "severity": "info"},
    ]
    csv_epochs = list(range(10))
    return [
        (overfit, score.prediction(_report("error", findings, [], 4, csv_epochs))),
        (clean, score.prediction(_report("healthy", findings[2:], [], None, list(range(1, 11))))),
        (clean, score.prediction(None)),
    ]


def test_per_label_precision_recall_f1():
    table = score.per_label(_pairs())
    assert table["overfitting"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1, "predicted": 1}
    assert table["nan_loss"]["precision"] == 0.0 and table["nan_loss"]["support"] == 0
    assert table["needs_regularization"]["recall"] == 0.0
    assert table["val_better_than_train"]["f1"] == 0.0  # info findings do not count ...
    assert score.per_label(_pairs(), "kinds_info")["val_better_than_train"]["f1"] == 0.5  # ... here


def test_summary_numbers():
    s = score.summary(_pairs())
    # labels with support: overfitting (F1 1), val_better_than_train (0), needs_regularization (0)
    assert s["macro_f1"] == pytest.approx(1 / 3)
    assert s["macro_f1_with_info"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert s["false_alarm_rate"] == 0.0 and s["healthy_records"] == 2
    assert s["detection_rate"] == 1.0
    assert s["read_rate"] == pytest.approx(2 / 3)
    assert s["best_epoch_exact"] == 1.0  # 0-based 4 is Epoch 5; both nulls agree
    assert s["onset_mae"] == 2.0 and s["onset_matched"] == "1/1"


def test_record_epoch_mapping():
    assert score.record_epoch(0, [0, 1, 2]) == 1
    assert score.record_epoch(3, [1, 2, 3]) == 3
    assert score.record_epoch(9, [1, 2, 3]) is None
    assert score.record_epoch(None, [1, 2]) is None


def test_corpus_is_large_enough_and_covers_every_cause():
    labels = [json.loads(p.read_text()) for p in LABELS]
    assert len(labels) >= 200
    assert {c for label in labels for c in label["causes"]} == set(score.CAUSES)
    assert sum(label["healthy"] for label in labels) >= 20


@pytest.mark.parametrize("path", LABELS, ids=lambda p: p.parent.name)
def test_label_is_valid(path):
    label = json.loads(path.read_text())
    assert set(label["kinds"]) <= set(score.KINDS)
    assert set(label["causes"]) <= set(score.CAUSES)
    assert isinstance(label["healthy"], bool)
    assert not (label["healthy"] and label["causes"])
    epochs = label["config"]["epochs"]
    for key in ("onset_epoch", "best_epoch"):
        assert label[key] is None or (isinstance(label[key], int) and 1 <= label[key] <= epochs)
    assert set(label["onsets"]) == set(label["kinds"])
    assert (path.parent / "stdout_verbose2.txt").exists()
    assert (path.parent / "log.csv").exists() and (path.parent / "history.json").exists()


# Measured on the fixed subset: macro-F1 0.50 when the guard was first set; 0.447 since
# oscillation must exceed 1.5 % of the ground its trend covers (noise around a
# converging trend is normal: two healthy published runs were flagged) and short runs
# name overfitting after three validation rises. A change that drops it below this fails CI.
SUBSET_MIN_MACRO_F1 = 0.42


def test_fitdoc_on_the_corpus_subset_keeps_its_macro_f1():
    runs = BENCH / "corpus" / "runs"
    overall, _ = score.score(runs, score.run_ids(runs, subset=True))
    assert overall["read_rate"] == 1.0
    assert overall["macro_f1"] >= SUBSET_MIN_MACRO_F1
