"""OpenMMLab (MMCV 1.x, MMEngine) and detectron2 JSON-lines logs."""

import json

import pytest

import fitdoc
from fitdoc.errors import UnreadableRecord
from fitdoc.readers import Source, detect, mmengine_json

from conftest import DATA

PASTED = DATA / "openmmlab" / "mmpretrain_issue993.log.json"


def lines(tmp_path, entries, name="scalars.json"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


def test_a_pasted_window_of_one_epoch_is_read_by_iteration():
    run = fitdoc.read(PASTED)
    assert run.format == "mmengine-json" and run.info["x_axis"] == "step"
    assert list(run.epochs[:3]) == [60, 70, 80] and len(run) == 10
    assert run.get("loss").values[:3].tolist() == [0.11062, 0.12819, 0.08574]
    assert set(run.metrics) == {"lr", "loss"}  # memory, data_time and time are bookkeeping
    assert any("window inside epoch 78" in n for n in run.notes)


def test_mmcv_log_json_epochs_hold_the_mean_of_their_training_lines(tmp_path):
    entries = [{"env_info": "sys.platform: linux", "seed": 0}]
    for epoch, losses, miou in ((1, (0.9, 0.7), 0.41), (2, (0.5, 0.3), 0.45)):
        entries += [{"mode": "train", "epoch": epoch, "iter": 50 * i, "lr": 0.01, "memory": 8407, "data_time": 0.003,
                     "decode.loss_ce": loss, "loss": loss, "time": 0.35} for i, loss in enumerate(losses, 1)]
        entries.append({"mode": "val", "epoch": epoch, "iter": 20, "lr": 0.01, "mIoU": miou, "aAcc": 0.8})
    run = fitdoc.read(lines(tmp_path, entries, "20240101_000000.log.json"))
    assert list(run.epochs) == [1, 2]
    assert run.get("loss").values.tolist() == pytest.approx([0.8, 0.4])
    assert run.get("val_miou").values.tolist() == [0.41, 0.45]


def test_mmengine_scalars_validation_step_is_the_epoch(tmp_path):
    entries = []
    for epoch in (1, 2, 3):
        entries.append({"lr": 0.02, "data_time": 0.01, "loss": 1.0 / epoch, "loss_cls": 0.5 / epoch, "time": 0.5,
                        "epoch": epoch, "iter": 50, "memory": 3000, "step": 50 * epoch})
        entries.append({"coco/bbox_mAP": 0.1 * epoch, "data_time": 0.01, "time": 0.1, "step": epoch})
    run = fitdoc.read(lines(tmp_path, entries))
    assert list(run.epochs) == [1, 2, 3]
    assert run.get("val_coco_bbox_map").values.tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_detectron2_metrics_json_by_iteration(tmp_path):
    entries = [{"data_time": 0.008, "iteration": 19 + 20 * i, "loss": 1.9 - 0.3 * i, "loss_cls": 0.5, "lr": 0.007, "time": 0.25}
               for i in range(3)] + [{"bbox/AP": 31.5, "iteration": 59}]
    run = fitdoc.read(lines(tmp_path, entries, "metrics.json"))
    assert list(run.epochs) == [19, 39, 59] and run.get("val_bbox_ap").present.tolist() == [False, False, True]


def test_truncated_and_near_misses(tmp_path):
    text = PASTED.read_text()
    cut = tmp_path / "cut.log.json"
    cut.write_text(text[: text.rindex('"loss"')])
    assert len(fitdoc.read(cut)) == 9
    config = tmp_path / "config.json"
    config.write_text('{"model": {"type": "ResNet", "depth": 50}, "optimizer": {"lr": 0.1}, "epochs": 90}\n')
    assert mmengine_json.sniff(Source(config)) == 0.0
    with pytest.raises(UnreadableRecord, match="config.json"):
        fitdoc.read(config)


def test_detected_on_its_first_lines():
    assert detect(Source(PASTED)).FORMAT == "mmengine-json"
