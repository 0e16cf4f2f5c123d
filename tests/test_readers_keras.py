"""Keras readers on real Keras output and on logs as people paste them."""

import json
from pathlib import Path

import numpy as np
import pytest

import fitdoc
from fitdoc.errors import FitdocError, UnreadableRecord
from fitdoc.readers import Source, detect

from conftest import write_log as write

VERBOSE2 = """Epoch 1/5
12/12 - 2s - 168ms/step - accuracy: 0.7448 - loss: 0.5434 - val_accuracy: 0.7891 - val_loss: 0.4731
Epoch 2/5
12/12 - 1s - 45ms/step - accuracy: 0.8490 - loss: 0.3263 - val_accuracy: 0.7812 - val_loss: 0.4786
Epoch 3/5
12/12 - 1s - 43ms/step - accuracy: 0.8724 - loss: 0.2964 - val_accuracy: 0.7891 - val_loss: 6.3949e-04
"""


def test_keras3_verbose2_fixture_epochs_values_and_callback_events(fixtures):
    run = fitdoc.read(fixtures / "keras3_fit_verbose2.txt")
    assert run.format == "keras-text"
    assert list(run.epochs) == list(range(1, 10))
    assert run.planned_epochs == 30
    assert run.get("val_loss").values[5] == pytest.approx(0.4237)
    assert run.get("lr").values[2] == pytest.approx(0.025)
    lr_changes = [(e.epoch, e.value) for e in run.events_of("lr_change")]
    assert lr_changes[0] == (2, pytest.approx(0.025))
    assert [e.epoch for e in run.events_of("early_stopping")] == [9]
    assert [e.epoch for e in run.events_of("restore_best")] == [6]


def test_keras3_verbose1_raw_bytes_read_like_the_rendered_screen(fixtures):
    raw = fitdoc.read(fixtures / "keras3_fit_verbose1_redirected.raw.txt")
    rendered = fitdoc.read(fixtures / "keras3_fit_verbose1_rendered.txt")
    assert list(raw.epochs) == list(rendered.epochs) == [1, 2, 3, 4]
    for name in rendered.metrics:
        np.testing.assert_allclose(raw.get(name).values, rendered.get(name).values)
    # epoch 2's partial line before the LR message must not hide its validation values
    assert raw.get("val_loss").values[1] == pytest.approx(0.5242)


def test_terminate_on_nan_log_keeps_inf_and_nan(fixtures):
    run = fitdoc.read(fixtures / "keras3_fit_nan_verbose2.txt")
    assert list(run.epochs) == [1]
    assert np.isinf(run.get("loss").values[0]) and np.isnan(run.get("val_loss").values[0])
    assert run.get("loss").nonfinite.all()
    assert [e.type for e in run.events if e.type == "terminate_on_nan"] == ["terminate_on_nan"]


def test_csvlogger_zero_based_with_lr_column(fixtures):
    run = fitdoc.read(fixtures / "keras3_csvlogger.csv")
    assert run.format == "keras-csv"
    assert list(run.epochs) == list(range(0, 9))
    assert set(run.metrics) == {"accuracy", "lr", "loss", "val_accuracy", "val_loss"}


def test_csvlogger_validation_every_two_epochs_marks_missing_cells(fixtures):
    run = fitdoc.read(fixtures / "keras3_csvlogger_validation_freq2.csv")
    assert list(run.get("val_loss").present) == [False, True, False, True, False]
    epochs, values = run.evaluated("val_loss")
    assert list(epochs) == [1, 3]


def test_history_json_matches_csvlogger_values(fixtures):
    history = fitdoc.read(fixtures / "keras3_history.json")
    csv = fitdoc.read(fixtures / "keras3_csvlogger.csv")
    assert history.format == "keras-history"
    assert list(history.epochs) == list(range(1, 10))
    np.testing.assert_allclose(history.get("val_loss").values, csv.get("val_loss").values, rtol=1e-6)


def test_history_json_with_bare_nan(cases):
    run = fitdoc.read(cases / "nan.json")
    assert run.get("loss").nonfinite.sum() == 7


def test_history_json_shorter_validation_lists_are_placed_every_k_epochs(tmp_path):
    path = write(tmp_path, json.dumps({"loss": [1.0, 0.9, 0.8, 0.7], "val_loss": [0.95, 0.75]}), "h.json")
    run = fitdoc.read(path)
    assert list(run.evaluated("val_loss")[0]) == [2, 4]


def test_json_of_lists_without_a_loss_or_metric_is_not_a_history():
    tuner_build_config = Path(__file__).parent / "data" / "keras_tuner" / "logged" / "trial_0" / "build_config.json"
    assert json.loads(tuner_build_config.read_text()) == {"input_shape": [None, 64]}
    with pytest.raises(FitdocError, match="no loss or metric list"):
        fitdoc.read(tuner_build_config)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
def test_encodings_windows_and_chinese(tmp_path, encoding):
    text = "训练开始\n" + VERBOSE2 if encoding != "utf-8-sig" else VERBOSE2
    path = write(tmp_path, text, encoding=encoding)
    run = fitdoc.read(path)
    assert list(run.epochs) == [1, 2, 3]
    assert run.get("val_loss").values[2] == pytest.approx(6.3949e-04)


def test_pasted_markdown_without_first_header_and_with_a_gap(tmp_path):
    text = "```\n" + VERBOSE2.split("\n", 1)[1].replace("Epoch 3/5", "...\n\nEpoch 65/100") + "```\n"
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [1, 2, 65]
    assert any("starts inside epoch 1" in n for n in run.notes)


def test_keras1_style_with_acc_spelling_and_sample_counts(tmp_path):
    text = (
        "Train on 7982 samples, validate on 1000 samples\nEpoch 1/2\n"
        "7982/7982 [==============================] - 2s 245us/step - loss: 2.5260 - acc: 0.5192 - val_loss: 1.6920 - val_acc: 0.6220\n"
        "Epoch 2/2\n"
        "7982/7982 [==============================] - 2s - loss: 1.4178 - acc: 0.6982 - val_loss: 1.3297 - val_acc: 0.7070\n"
    )
    run = fitdoc.read(write(tmp_path, text))
    assert set(run.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert run.info["train_samples"] == 7982 and run.info["val_samples"] == 1000
    assert run.get("acc").values[1] == pytest.approx(0.6982)


def test_wrapped_summary_lines_are_joined(tmp_path):
    text = (
        "Epoch 1/2\n7982/7982 [==============================] - 2s - loss: 2.5260 - accuracy: 0.5192 - val_accu\n"
        "racy: 0.6220 - val_loss: 1.6920\n"
        "Epoch 2/2\n7982/7982 [==============================] - 2s - loss: 1.4178 - accuracy: 0.6982\n"
        " - val_loss: 1.3297 - val_accuracy: 0.7070\n"
    )
    run = fitdoc.read(write(tmp_path, text))
    np.testing.assert_allclose(run.get("val_accuracy").values, [0.6220, 0.7070])
    np.testing.assert_allclose(run.get("val_loss").values, [1.6920, 1.3297])


def test_tee_log_with_interleaved_output_and_evaluate_after_training(tmp_path):
    text = (
        "2024-01-01 12:00:00 INFO loading data: 5000 rows, lr: 0.1\nEpoch 1/2\n"
        "[rank0] worker started\n"
        "250/250 [==============================] - 2s 5ms/step - loss: 0.5 - accuracy: 0.8 - val_loss: 0.6 - val_accuracy: 0.75\n"
        "Epoch 2/2\n"
        "250/250 [==============================] - 2s 5ms/step - loss: 0.4 - accuracy: 0.85 - val_loss: 0.55 - val_accuracy: 0.78\n"
        "313/313 [==============================] - 1s 2ms/step - loss: 0.58 - accuracy: 0.77\n"
    )
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [1, 2]
    assert run.get("loss").values[1] == pytest.approx(0.4)


def test_unfinished_last_epoch_is_left_out_with_a_note(tmp_path):
    text = VERBOSE2 + "Epoch 4/5\n 5/12 [=====>........] - ETA: 1s - loss: 0.2500\n"
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [1, 2, 3]
    assert any("epoch 4" in n for n in run.notes)


def test_resumed_text_log_is_stitched_keeping_the_last_write(tmp_path):
    resumed = (
        "Epoch 2/5\n12/12 - 2s - loss: 0.5434 - val_loss: 0.4731\n"
        "Epoch 3/5\n12/12 - 2s - loss: 0.3263 - val_loss: 0.4786\n"
        "Epoch 4/5\n12/12 - 2s - loss: 0.2964 - val_loss: 0.4857\n"
    )
    run = fitdoc.read(write(tmp_path, VERBOSE2 + resumed))
    assert list(run.epochs) == [1, 2, 3, 4]
    assert [e.type for e in run.events_of("resume")] == ["resume"]
    assert run.get("loss").values[1] == pytest.approx(0.5434)  # epoch 2 rewritten by the resumed run


def test_log_starting_at_epoch_zero_keeps_its_numbering(tmp_path):
    run = fitdoc.read(write(tmp_path, VERBOSE2.replace("Epoch 1/", "Epoch 0/").replace("Epoch 2/", "Epoch 1/").replace("Epoch 3/", "Epoch 2/")))
    assert list(run.epochs) == [0, 1, 2]


def test_csvlogger_append_after_resume_and_truncated_last_line(tmp_path):
    text = "epoch,loss,val_loss\n0,1.0,1.1\n1,0.9,1.0\n2,0.8,0.95\nepoch,loss,val_loss\n2,0.82,0.96\n3,0.7,NA\n4,0.6"
    run = fitdoc.read(write(tmp_path, text, "log.csv"))
    assert list(run.epochs) == [0, 1, 2, 3]
    assert run.get("loss").values[2] == pytest.approx(0.82)
    assert run.events_of("resume")
    assert any("truncated" in n for n in run.notes)


def test_detection_is_by_content_not_name(tmp_path, fixtures):
    path = tmp_path / "history.txt"
    path.write_bytes((fixtures / "keras3_csvlogger.csv").read_bytes())
    assert detect(Source(path)).FORMAT == "keras-csv"


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "file is empty"),
        (b"\x00\x01\x02binary\x00\x00" * 50, "binary"),
        (b"hello world\nnothing to see\n", "unknown format"),
        (b'{"loss": [0.5, 0.4], "val_loss": [0.6,', "invalid JSON"),
        (b"Epoch 1/3\nEpoch 2/3\n", "no epoch summary"),
    ],
)
def test_bad_input_gives_one_line_error_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "bad.log"
    path.write_bytes(content)
    with pytest.raises(UnreadableRecord) as err:
        fitdoc.read(path)
    assert str(path) in str(err.value) and reason in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_metric_lists_the_available_ones(fixtures):
    run = fitdoc.read(fixtures / "keras3_csvlogger.csv")
    with pytest.raises(FitdocError, match="available: accuracy, loss, lr, val_accuracy, val_loss"):
        run.get("val_auc")


def test_updates_glued_on_one_line_and_callback_messages_mid_line(tmp_path):
    text = (
        "Train on 3325 samples, validate on 176 samples\nEpoch 1/2\n"
        "3000/3325 [==========================>...] - ETA: 4s - loss: 0.2627 - acc: 0.0000e+00 Epoch 00000: val_loss improved from inf to 0.19250, saving model to w.hdf5\n"
        "3325/3325 [==============================] - 49s - loss: 0.2408 - acc: 3.0075e-04 - val_loss: 0.1925 - val_acc: 0.0000e+00\n"
        "Epoch 2/2\n"
        "1/3 [=========>....................] - ETA: 0s - loss: 0.0275 - acc:3/3 [==============================] - 0s 3ms/step - loss: 0.0562 -\n"
        "acc: 1.0000 - val_loss: 3.0713 - val_acc: 0.0000e+00\n"
    )
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [1, 2]
    np.testing.assert_allclose(run.get("loss").values, [0.2408, 0.0562])
    np.testing.assert_allclose(run.get("val_loss").values, [0.1925, 3.0713])
    assert run.get("accuracy").values[1] == 1.0
    assert [e.type for e in run.events] == ["checkpoint"]


def test_resume_from_an_earlier_epoch_drops_the_abandoned_attempt(tmp_path):
    first = "".join(f"Epoch {e}/9\n3/3 - 1s - loss: {1 - e / 10:.2f} - val_loss: {1.1 - e / 10:.2f}\n" for e in range(1, 7))
    second = "".join(f"Epoch {e}/9\n3/3 - 1s - loss: {0.9 - e / 20:.3f} - val_loss: {1.0 - e / 20:.3f}\n" for e in range(3, 5))
    run = fitdoc.read(write(tmp_path, first + second))
    assert list(run.epochs) == [1, 2, 3, 4]
    assert run.get("loss").values[3] == pytest.approx(0.7)


def test_log_pasted_into_python_comments_with_a_partial_line(tmp_path):
    text = (
        "# Epoch 4/30\n"
        "# 1000/2232 ━━━━━━━━━━━━━━━━━━━━ 2:13 167ms/step - accuracy: 0.6100 - loss: 0.7700\n"
        "# Epoch 4: val_loss improved from 0.75364 to 0.73702, saving model to best.keras\n"
        "# 2232/2232 ━━━━━━━━━━━━━━━━━━━━ 415s 186ms/step - accuracy: 0.6188 - loss: 0.7655 - val_accuracy: 0.6200 - val_loss: 0.7370\n"
        "# Epoch 5/30\n"
        "# 2232/2232 ━━━━━━━━━━━━━━━━━━━━ 416s 187ms/step - accuracy: 0.6205 - loss: 0.7540 - val_accuracy: 0.6302 - val_loss: 0.7407\n"
    )
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [4, 5]
    np.testing.assert_allclose(run.get("loss").values, [0.7655, 0.7540])
    assert [(e.epoch, e.type) for e in run.events] == [(4, "checkpoint")]


@pytest.mark.parametrize("block_bytes", [24, 64, 1 << 20])
def test_csv_blocks_read_the_same_whatever_their_size(tmp_path, monkeypatch, block_bytes):
    from fitdoc.readers import csv_fast

    monkeypatch.setattr(csv_fast, "BLOCK_BYTES", block_bytes)
    rows = [f"{e},{1 - e / 10:.3f},{1.1 - e / 10:.3f}" for e in range(6)]
    text = "epoch,loss,val_loss\r\n" + "\r\n".join(rows[:4] + ["4,0.6,NA", "epoch,loss,val_loss", "3,0.65,0.75"] + rows[4:]) + "\r\n"
    run = fitdoc.read(write(tmp_path, text, "log.csv"))
    assert list(run.epochs) == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(run.get("loss").values, [1.0, 0.9, 0.8, 0.65, 0.6, 0.5])
    assert list(run.get("val_loss").present) == [True] * 6
    assert [e.epoch for e in run.events_of("resume")] == [3]


def test_epoch_headers_sharing_the_line_and_scheduler_messages(tmp_path):
    text = (
        "# Epoch 1- 2103s - loss: 1.1708 - acc: 0.5052 - val_loss: 1.1652 - val_acc: 0.4750\n"
        "# Epoch 2/20 - 1221s - loss: 0.5783 - acc: 0.8336 - val_loss: 0.2180 - val_acc: 0.9437\n"
        "Epoch 3/20\n\nEpoch 00003: LearningRateScheduler setting learning rate to 0.0018315018.\n"
        "60000/60000 [==============================] - 112s 2ms/step - loss: 0.0336 - acc: 0.9893 - val_loss: 0.0255 - val_acc: 0.9921\n"
        "Epoch 4/20: acc: 0.9869 - val_acc: 0.9905\n"
    )
    run = fitdoc.read(write(tmp_path, text))
    assert list(run.epochs) == [1, 2, 3, 4]
    np.testing.assert_allclose(run.get("val_accuracy").values, [0.4750, 0.9437, 0.9921, 0.9905])
    assert [(e.epoch, e.value) for e in run.events_of("lr_change")] == [(3, pytest.approx(0.0018315018))]


def test_several_fits_in_one_record_are_separate_runs_a_resume_is_not(tmp_path):
    def fit(losses, start=1):
        return "".join(f"Epoch {e}/9\n3/3 - 1s - loss: {v} - val_loss: {v + 0.1}\n" for e, v in enumerate(losses, start))

    two_fits = tmp_path / "variants.txt"
    two_fits.write_text("Train on 100 samples\n" + fit([2.3, 1.2, 0.6, 0.3]) + fit([0.69, 0.5, 0.4]))
    first, second = fitdoc.read_runs(two_fits)
    assert [first.source, second.source] == [f"{two_fits}#1", f"{two_fits}#2"]
    assert list(first.get("loss").values) == [2.3, 1.2, 0.6, 0.3] and list(second.epochs) == [1, 2, 3]
    resumed = tmp_path / "resumed.txt"
    resumed.write_text(fit([2.3, 1.2, 0.6, 0.3]) + fit([0.33, 0.28, 0.25]))  # model reloaded, numbering restarts
    run = fitdoc.read(resumed)
    assert list(run.get("loss").values) == [0.33, 0.28, 0.25] and run.events_of("resume")


def test_documents_that_quote_keras_metrics_are_not_records(tmp_path):
    docs = Path(__file__).parent.parent / "docs"
    for page in (docs / "rules.md", docs / "rules.zh.md"):  # quote "loss: inf - val_loss: nan" in sentences
        with pytest.raises(fitdoc.FitdocError, match="not a training record"):
            fitdoc.read(page)
    headerless = tmp_path / "keras1.txt"  # three result lines without headers are a record
    headerless.write_text("".join(f"1000/1000 - 1s - loss: {0.9 - 0.1 * k:.2f}\n" for k in range(3)))
    assert fitdoc.read(headerless).epochs.tolist() == [1, 2, 3]


def test_progress_updates_inside_one_epoch_without_a_header_are_read_by_step(tmp_path):
    path = Path(__file__).parent / "data" / "published" / "moire_issue25_headerless.log"  # 1/102-14/102
    run = fitdoc.read(path)
    assert run.epochs.tolist() == list(range(1, 15)) and run.info["x_axis"] == "step"
    assert run.get("loss").values[[0, -1]].tolist() == [0.6917, 0.6191]
    assert run.notes == ["a window inside one epoch (no 'Epoch N/M' header): each progress update is one point, numbered by its step of 102"]
    stray = tmp_path / "stray.txt"  # two updates are a quote, not a record
    stray.write_text("".join(path.read_text().splitlines(True)[:2]))
    with pytest.raises(fitdoc.FitdocError, match="not a training record: 1 Keras-like metric line"):
        fitdoc.read(stray)
