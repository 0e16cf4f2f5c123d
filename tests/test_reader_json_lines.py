"""JSON Lines of metric rows (W&B history exports, training-loop logs), and W&B history as CSV."""

import json

import numpy as np
import pytest

import fitdoc
from fitdoc.errors import FitdocError
from fitdoc.readers import Source, detect

from conftest import DATA


def lines(tmp_path, rows, name="history.jsonl", tail=""):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)
    return path


def test_a_wandb_history_export_reads_like_the_run_it_came_from(tmp_path):
    """The rows of a real offline W&B run, exported as scan_history() gives them
    (``_step``, ``_runtime``, ``_timestamp`` and the logged keys), read the same as the
    run read by ``fitdoc triage``."""
    pytest.importorskip("wandb")
    from fitdoc.sources import fetch, units
    from fitdoc.sources.wandb_offline import _items, records

    unit = units(str(next((DATA / "wandb").iterdir())))[0]
    exported = [_items(r.history.item) for r in records(unit.locator) if r.WhichOneof("record_type") == "history"]
    assert {"_step", "_runtime", "_timestamp"} <= set(exported[0])
    run, direct = fitdoc.read(lines(tmp_path, exported)), fetch(unit)[0]
    assert run.format == "json-lines" and list(run.epochs) == list(direct.epochs)
    assert set(run.metrics) == set(direct.metrics) and "_runtime" not in run.metrics
    for name in run.metrics:
        assert np.array_equal(run.get(name).values, direct.get(name).values, equal_nan=True)


@pytest.mark.parametrize("index", [False, True])
def test_a_wandb_history_csv_reads_like_its_json_lines(tmp_path, index):
    """``run.history().to_csv()``: W&B's ``_step``, ``_runtime`` and ``_timestamp``
    columns (and pandas' index) beside the logged ones."""
    rows = [{"_step": s, "_runtime": 1.5 * s, "_timestamp": 1.7e9 + s, "epoch": s, "loss": 1 / (s + 1),
             "val_loss": 1.2 / (s + 1) + 0.02 * s} for s in range(10)]
    header = ("," if index else "") + ",".join(rows[0])
    body = [("{},".format(i) if index else "") + ",".join(repr(v) for v in r.values()) for i, r in enumerate(rows)]
    csv_path = tmp_path / "history.csv"
    csv_path.write_text("\n".join([header, *body]) + "\n")
    from_csv, from_lines = fitdoc.read(csv_path), fitdoc.read(lines(tmp_path, rows))
    assert set(from_csv.metrics) == {"loss", "val_loss"} and list(from_csv.epochs) == list(from_lines.epochs)
    for name in from_csv.metrics:
        assert from_csv.get(name).values.tolist() == pytest.approx(from_lines.get(name).values.tolist())


def test_training_loop_rows_with_a_fractional_epoch_per_step(tmp_path):
    rows = [{"epoch": round(s / 4, 2), "step": s, "loss": 1.0 / s} for s in range(1, 13)]
    rows += [{"epoch": float(e), "step": 4 * e, "val_loss": 0.5 + 0.01 * e} for e in (1, 2, 3)]
    run = fitdoc.read(lines(tmp_path, rows, "train_log.jsonl"))
    assert list(run.epochs) == [1, 2, 3]
    assert run.get("loss").values.tolist() == pytest.approx([np.mean([1 / s for s in range(k, k + 4)]) for k in (1, 5, 9)])
    assert run.get("val_loss").values.tolist() == pytest.approx([0.51, 0.52, 0.53])
    assert len(run.step_series["loss"].values) == 12


def test_rows_without_an_epoch_are_points_by_step_and_zero_based(tmp_path):
    rows = [{"_step": s, "_timestamp": 1.7e9 + s, "loss": 2.0 - 0.1 * s, "val_loss": 2.1 - 0.1 * s} for s in range(8)]
    run = fitdoc.read(lines(tmp_path, rows))
    assert run.info["x_axis"] == "step" and run.info["epoch_base"] == 0 and list(run.epochs) == list(range(8))
    assert any("numbered by its step" in n for n in run.notes)


def test_a_cut_last_line_and_a_line_that_is_not_json_are_noted(tmp_path):
    rows = [{"epoch": e, "loss": 1.0 / e, "val_loss": 1.1 / e} for e in range(1, 6)]
    path = lines(tmp_path, rows[:2], tail='Traceback (most recent call last)\n' + "".join(json.dumps(r) + "\n" for r in rows[2:]) + '{"epoch": 6, "lo')
    run = fitdoc.read(path)
    assert list(run.epochs) == [1, 2, 3, 4, 5]
    assert any("incomplete" in n for n in run.notes) and any("1 line(s) that are not JSON" in n for n in run.notes)


def test_json_lines_without_a_metric_are_refused(tmp_path):
    path = lines(tmp_path, [{"id": i, "name": f"sample {i}", "label": i % 3} for i in range(10)], "data.jsonl")
    with pytest.raises(FitdocError):
        fitdoc.read(path)


def test_openmmlab_lines_stay_with_their_own_reader():
    path = DATA / "openmmlab" / "mmpretrain_issue993.log.json"
    assert detect(Source(path)).FORMAT == "mmengine-json"


def test_epochs_that_step_back_are_a_resume_whose_later_rows_replace_the_earlier():
    """A real DeiT-style log.txt with epochs 50-52 logged twice (a resumed run)."""
    run = fitdoc.read(DATA / "published" / "plantclef2022_issue2_log.txt")
    assert list(run.epochs) == [50, 51, 52]
    assert run.get("loss").values.tolist() == [4.49533496481264, 4.471119584005713, 4.455441215571274]  # the second rows
    assert run.notes[0].startswith("the epochs go back from 52 to 50: a resumed run")


def test_rows_of_one_epoch_in_order_are_averaged_not_resumed(tmp_path):
    run = fitdoc.read(lines(tmp_path, [{"epoch": 1, "loss": 1.0}, {"epoch": 1, "loss": 0.8}, {"epoch": 2, "loss": 0.6}, {"epoch": 2, "loss": 0.4}]))
    assert run.get("loss").values.tolist() == [0.9, 0.5] and not any("resumed" in n for n in run.notes)


def test_fairseq_numbers_quoted_as_strings_are_read_and_its_bookkeeping_dropped():
    """A real fairseq ``--log-format json`` log: ``"loss": "3.180"`` is a number; its
    throughput, counters and ``wall`` clock are not metrics."""
    run = fitdoc.read(DATA / "text-log-real" / "fairseq_issue233.json")
    assert list(run.epochs) == [9, 10, 11, 12]
    assert run.get("loss").values[1:].tolist() == [3.18, 3.169, 3.16]
    assert run.get("val_ppl").values.tolist() == [2.61, 2.59, 2.58, 2.56]
    assert not set(run.metrics) & {"wps", "ups", "wpb", "bsz", "num_updates", "oom", "clip", "loss_scale", "wall"}


@pytest.mark.parametrize("text", ["100%", "nan", "3.2 (best)", "0x1F", "1_000", " 3.1", ""])
def test_a_string_that_is_not_a_plain_number_stays_dropped(tmp_path, text):
    run = fitdoc.read(lines(tmp_path, [{"epoch": e, "loss": 1.0 / e, "acc": text} for e in (1, 2, 3)]))
    assert "acc" not in run.metrics
