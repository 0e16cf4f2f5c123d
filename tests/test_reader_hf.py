"""Hugging Face Trainer reader on real trainer_state.json files and Trainer stdout."""

import json
import shutil

import numpy as np
import pytest

import fitdoc
from fitdoc.errors import UnreadableRecord
from fitdoc.readers import Source, detect

from conftest import DATA

HF = DATA / "hf"


def test_trainer_state_fixture_epoch_means_evals_and_best_checkpoint(fixtures):
    run = fitdoc.read(fixtures / "hf_trainer_state.json")
    state = json.loads((fixtures / "hf_trainer_state.json").read_text())
    train = [r for r in state["log_history"] if "loss" in r]
    assert run.format == "hf-trainer"
    assert list(run.epochs) == [1, 2, 3]
    assert run.planned_epochs == 3
    for k in range(3):
        rows = train[4 * k : 4 * k + 4]
        assert run.get("loss").values[k] == pytest.approx(np.mean([r["loss"] for r in rows]), abs=1e-15)
        assert run.get("lr").values[k] == rows[-1]["learning_rate"]
    assert list(run.get("val_loss").values) == [1.0012240409851074, 1.0009727478027344, 1.000887393951416]
    assert list(run.get("val_accuracy").values) == [0.3125] * 3
    assert "val_runtime" not in run.series and "val_samples_per_second" not in run.series
    assert list(run.step_series["loss"].steps) == list(range(2, 25, 2))
    assert list(run.step_series["loss"].values) == [r["loss"] for r in train]
    assert list(run.step_series["val_loss"].steps) == [8, 16, 24]
    (event,) = run.events_of("best_checkpoint")
    assert (event.epoch, event.value) == (3, 1.000887393951416)
    assert "hf/checkpoint-24" in event.message
    assert run.info["best_global_step"] == 24 and run.info["best_model_checkpoint"] == "hf/checkpoint-24"


def test_stdout_fixture_reads_string_numbers_and_keeps_the_summary_in_info(fixtures):
    run = fitdoc.read(fixtures / "hf_trainer_stdout_dict_lines.txt")
    assert run.format == "hf-trainer"
    assert list(run.epochs) == [1, 2, 3]
    assert run.get("loss").values[0] == pytest.approx((0.8473 + 1.128 + 0.8457 + 1.155) / 4)
    assert list(run.get("val_loss").values) == [1.001] * 3
    assert run.info["train_loss"] == 0.9936 and run.info["train_runtime"] == 0.6733
    # stdout prints no step: step series are numbered by log line
    assert list(run.step_series["loss"].steps) == list(range(1, 13))
    assert list(run.step_series["val_loss"].steps) == [4, 8, 12]


def test_evals_every_n_steps_and_a_partial_last_epoch():
    run = fitdoc.read(HF / "trainer_state.json")
    # evals at epochs 0.75, 1.5, 2.25 and the final 2.5: the last one of each epoch counts
    assert list(run.epochs) == [1, 2, 3]
    assert run.get("val_loss").values == pytest.approx([0.6410, 0.5516, 0.5196], abs=1e-4)
    assert list(run.step_series["val_loss"].steps) == [3, 6, 9, 10]
    assert run.get("lr").values == pytest.approx([0.07, 0.03, 0.01])
    assert run.get("loss").values[2] == pytest.approx((0.4344 + 0.4396) / 2, abs=1e-4)
    assert any("epoch 3 is partial" in n for n in run.notes)
    assert run.events_of("best_checkpoint")[0].epoch == 3


def test_a_last_epoch_the_record_shows_finished_is_not_partial(tmp_path):
    path = DATA / "published" / "bert_weibo_rumor_trainer_state.json"  # loss at 98.84, the end row at 100.0
    run = fitdoc.read(path)
    assert (run.epochs[0], run.epochs[-1], run.planned_epochs) == (2, 99, 100)
    assert run.info["trained_to_epoch"] == 100 and not any("partial" in n for n in run.notes)
    assert "Train for more than 100 epochs, e.g. 200" in json.dumps(fitdoc.diagnose(path, lang="en").to_dict())
    state = json.loads(path.read_text())
    del state["epoch"], state["log_history"][-1]  # nothing shows training went past 98.84
    cut = tmp_path / "trainer_state.json"
    cut.write_text(json.dumps(state))
    assert "training stopped at epoch 98.84: epoch 99 is partial" in fitdoc.read(cut).notes


def test_stdout_end_of_training_line_finishes_the_last_epoch(tmp_path):
    rows = "{'loss': 0.5, 'epoch': 1.94}\n{'loss': 0.4, 'epoch': 3.88}\n"
    finished, cut = tmp_path / "finished.txt", tmp_path / "cut.txt"
    finished.write_text(rows + "{'train_runtime': 5.0, 'train_loss': 0.45, 'epoch': 4.0}\n")
    cut.write_text(rows)
    assert list(fitdoc.read(finished).epochs) == [2, 4] and not fitdoc.read(finished).notes
    assert fitdoc.read(cut).notes == ["training stopped at epoch 3.88: epoch 4 is partial"]


def test_stdout_with_progress_bars_matches_the_state_file():
    state, stdout = fitdoc.read(HF / "trainer_state.json"), fitdoc.read(HF / "stdout.txt")
    assert list(stdout.epochs) == list(state.epochs)
    for name in ("loss", "val_loss", "val_accuracy", "lr"):
        assert stdout.get(name).values == pytest.approx(state.get(name).values, rel=2e-3)


def test_output_directory_reads_the_latest_checkpoint(tmp_path, fixtures):
    for step in (8, 24):
        (tmp_path / f"checkpoint-{step}").mkdir()
    shutil.copy(fixtures / "hf_trainer_state.json", tmp_path / "checkpoint-24" / "trainer_state.json")
    (tmp_path / "checkpoint-8" / "trainer_state.json").write_text('{"log_history": []}')
    assert detect(Source(tmp_path)).FORMAT == "hf-trainer"
    assert list(fitdoc.read(tmp_path).epochs) == [1, 2, 3]


def test_cut_state_file_reads_its_complete_rows_with_a_note(tmp_path, fixtures):
    text = (fixtures / "hf_trainer_state.json").read_text()
    cut = tmp_path / "trainer_state.json"
    cut.write_text(text[: text.index('"loss": 0.9635543823242188')])  # inside the epoch-1.25 row
    run = fitdoc.read(cut)
    assert list(run.epochs) == [1]
    assert run.get("val_loss").values[0] == 1.0012240409851074
    assert any("5 complete log_history rows" in n for n in run.notes)


def test_state_file_cut_before_any_row_or_corrupt_is_one_error(tmp_path, fixtures):
    text = (fixtures / "hf_trainer_state.json").read_text()
    cut = tmp_path / "trainer_state.json"
    cut.write_text(text[: text.index('"log_history"') + 30])
    with pytest.raises(UnreadableRecord, match="before the first complete log_history row"):
        fitdoc.read(cut)
    cut.write_text('{"log_history": [ {"loss": 1,, } ]}')
    with pytest.raises(UnreadableRecord, match="not valid JSON"):
        fitdoc.read(cut, format="hf-trainer")


def test_cut_stdout_line_is_ignored_with_a_note(tmp_path, fixtures):
    text = (fixtures / "hf_trainer_stdout_dict_lines.txt").read_text()
    cut = tmp_path / "out.txt"
    cut.write_text(text[: text.index("'eval_steps_per_second': '103.3'")])
    run = fitdoc.read(cut)
    assert list(run.epochs) == [1, 2]
    assert run.get("val_loss").present.tolist() == [True, False]
    assert any("line 10 is incomplete" in n for n in run.notes)


def test_empty_file_is_one_error(tmp_path):
    empty = tmp_path / "trainer_state.json"
    empty.write_text("")
    with pytest.raises(UnreadableRecord, match="empty"):
        fitdoc.read(empty)
    with pytest.raises(UnreadableRecord, match="no epochs"):
        fitdoc.read(empty, format="hf-trainer")


@pytest.mark.training
def test_trainer_output_written_now_reads_like_the_committed_files(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    from data import make_hf

    make_hf.main(tmp_path)
    for name in ("trainer_state.json", "stdout.txt"):
        run, committed = fitdoc.read(tmp_path / name), fitdoc.read(HF / name)
        assert list(run.epochs) == list(committed.epochs) == [1, 2, 3]
        assert set(run.series) == set(committed.series)
        assert list(run.step_series["val_loss"].steps) == list(committed.step_series["val_loss"].steps)
        assert run.get("lr").values == pytest.approx([0.07, 0.03, 0.01])
        assert any("epoch 3 is partial" in n for n in run.notes)
