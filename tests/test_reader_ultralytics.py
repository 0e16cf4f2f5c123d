"""Ultralytics results.csv, on files YOLOv5 and YOLOv8 wrote into published repositories."""

import pytest

import fitdoc
from fitdoc.errors import UnreadableRecord
from fitdoc.readers import Source, detect, ultralytics_csv

from conftest import DATA

REAL = DATA / "realruns"


def test_yolov5_padded_cells_zero_based_epochs_summed_losses():
    run = fitdoc.read(REAL / "413.csv")
    assert run.format == "ultralytics-csv" and list(run.epochs) == list(range(30))
    assert run.get("box_loss").values[0] == 0.045448
    assert run.get("loss").values[0] == pytest.approx(0.045448 + 0.065364 + 0.016448)
    assert run.get("val_loss").values[0] == pytest.approx(0.040641 + 0.03663 + 0.0094937)
    assert run.get("val_map_0_5").values[0] == 0.71969 and run.get("lr").values[0] == 0.0937
    assert run.info["epoch_base"] == 0


def test_yolov8_one_based_epochs_without_the_time_column():
    run = fitdoc.read(REAL / "421.csv")
    assert list(run.epochs) == list(range(1, 51))
    assert "time" not in run.metrics and run.get("val_map50_95").values[0] == 0.08698
    assert run.get("val_loss").values[0] == pytest.approx(2.05108 + 3.31817 + 2.11482)


def test_detected_before_the_csvlogger_reader_and_near_misses(tmp_path):
    assert detect(Source(REAL / "421.csv")).FORMAT == "ultralytics-csv"
    csvlogger = tmp_path / "log.csv"
    csvlogger.write_text("epoch,loss,val_loss\n0,0.5,0.6\n1,0.4,0.5\n")
    assert ultralytics_csv.sniff(Source(csvlogger)) == 0.0
    other = tmp_path / "sales.csv"
    other.write_text("epoch,train/box_loss,val/box_loss\n")
    with pytest.raises(UnreadableRecord, match="no complete rows"):
        fitdoc.read(other, format="ultralytics-csv")


def test_a_cut_last_row_is_left_out(tmp_path):
    text = (REAL / "421.csv").read_text()
    path = tmp_path / "results.csv"
    path.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 20])
    run = fitdoc.read(path)
    assert list(run.epochs) == list(range(1, 50)) and any("incomplete" in n for n in run.notes)
