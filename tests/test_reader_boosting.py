"""Gradient-boosting eval logs (XGBoost, XGBoost4J-Spark, LightGBM) in the text-log
reader: names carrying their own phase, ``[N]`` rounds as steps, log losses as the loss."""

import pytest

import fitdoc

from conftest import DATA
from conftest import write_log as write

REAL_TEXT = DATA / "text-log-real"
STEPS_NOTE = "no epoch numbers: each logged step is one point, numbered as printed"


@pytest.mark.parametrize(
    "name, steps, series",
    [
        ("xgboost_issue2777.log", range(500, 12001, 500), {"loss": [0.160439, 0.093267], "val_loss": [0.41906, 0.468176]}),
        ("xgboost4j_spark_issue7962.log", range(15, 23), {"loss": [0.00502646757155188, 0.0039946567541189], "val_loss": [0.51746790368885076, 0.54199004011757967]}),
        # validation_0 is the validation, validation_1 keeps its own names
        ("xgboost_issue5993.log", range(1, 12), {"val_loss": [0.960257, 0.890832], "val_auc": [0.5, 0.5], "val_1_logloss": [1.00454, 0.929536], "val_1_auc": [0.5, 0.5]}),
        # LightGBM's "training's binary_logloss", "valid_1's binary_logloss"
        ("lightgbm_issue742.log", range(1, 5), {"loss": [0.712679, 0.732192], "val_loss": [0.712513, 0.731889]}),
    ],
)
def test_boosting_rounds_are_steps_and_names_keep_their_own_phase(name, steps, series):
    run = fitdoc.read(REAL_TEXT / name)
    assert run.format == "text-log" and list(run.epochs) == list(steps) and run.info["x_axis"] == "step"
    assert set(run.metrics) == set(series)
    for metric, values in series.items():
        assert run.get(metric).values[:2].tolist() == pytest.approx(values)
    assert STEPS_NOTE in run.notes


def test_xgboost_eval_logloss_rising_while_train_falls_is_overfitting():
    report = fitdoc.diagnose(fitdoc.read(REAL_TEXT / "xgboost_issue2777.log"), lang="en").to_dict()
    assert report["verdict"] == "warning" and report["findings"][0]["kind"] == "overfitting"
    assert report["best_epoch"] == 500 and report["best_epoch_metric"] == "val_loss"  # the eval minimum


KERAS_WITH_CROSS_ENTROPY = "".join(
    f"Epoch {e}/3\n32/32 - 0s - loss: {loss} - binary_crossentropy: {loss - 0.0005:.4f} - val_loss: {val} - val_binary_crossentropy: {val - 0.0008:.4f}\n"
    for e, loss, val in ((1, 0.6931, 0.7012), (2, 0.6512, 0.6890), (3, 0.6103, 0.6795))
)
LOOP_WITH_LOGLOSS = (
    "epoch 1 | train_loss 0.61 | train_logloss 0.55 | val_loss 0.71 | val_logloss 0.65\n"
    "epoch 2 | train_loss 0.51 | train_logloss 0.45 | val_loss 0.69 | val_logloss 0.62\n"
)


@pytest.mark.parametrize(
    "text, cross_entropy, losses",
    [(KERAS_WITH_CROSS_ENTROPY, "binary_crossentropy", [0.6931, 0.6512, 0.6103]), (LOOP_WITH_LOGLOSS, "logloss", [0.61, 0.51])],
    ids=["keras-binary-crossentropy", "loop-logloss"],
)
def test_a_log_loss_beside_a_loss_keeps_its_name(tmp_path, text, cross_entropy, losses):
    run = fitdoc.read(write(tmp_path, text))
    assert set(run.metrics) == {"loss", "val_loss", cross_entropy, f"val_{cross_entropy}"}
    assert run.get("loss").values.tolist() == losses


@pytest.mark.parametrize("name, first", [("detectron2_issue195.log", (1259, 1.012)), ("d2go_issue524.log", (19, 1.36))])
def test_detector_event_lines_read_with_their_total_loss_as_the_loss(name, first):
    run = fitdoc.read(REAL_TEXT / name)  # "... d2.utils.events]: eta: 8:05:12  iter: 1259  total_loss: 1.012  loss_cls: ..."
    assert (int(run.epochs[0]), float(run.get("loss").values[0])) == first and run.info["x_axis"] == "step"
    assert {"loss", "loss_cls", "loss_box_reg"} <= set(run.metrics) and "total_loss" not in run.metrics
    assert "total_loss is read as the loss (the log has no loss series)" in run.notes
