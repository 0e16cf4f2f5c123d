"""TensorBoard reader on event files written by torch's SummaryWriter and by the
Keras TensorBoard callback (tests/data/tensorboard, see make_keras_logs.py there)."""

import json
import struct
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboard")
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

import fitdoc  # noqa: E402
from fitdoc.errors import FitdocError, UnreadableRecord  # noqa: E402
from fitdoc.readers import Source, detect  # noqa: E402
from fitdoc.readers import tensorboard as tb  # noqa: E402

KERAS = __import__("pathlib").Path(__file__).parent / "data" / "tensorboard"


def f32(values):
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def write_steps(logdir, n=40, start=0):
    """Per-iteration train loss, validation loss every 10 steps, a float64 lr tensor."""
    rng = np.random.default_rng(start)
    loss = rng.random(n)
    with SummaryWriter(str(logdir)) as w:
        for i in range(start, start + n):
            w.add_scalar("Loss/train", loss[i - start], i)
            if i % 10 == 9:
                w.add_scalar("loss/val", 2 * loss[i - start], i)
            w.add_scalar("learning_rate", 0.1 / (i + 1), i, new_style=True, double_precision=True)
    return loss


def event_file(logdir):
    (path,) = logdir.glob("*tfevents*")
    return path


def record_offsets(path):
    data = path.read_bytes()
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        pos += 16 + struct.unpack_from("<Q", data, pos)[0]
    return offsets


def test_summary_writer_steps_are_the_x_axis(tmp_path):
    loss = write_steps(tmp_path)
    run = fitdoc.read(tmp_path)
    assert run.format == "tensorboard"
    assert run.info["x_axis"] == "step"
    assert list(run.epochs) == list(range(40))
    np.testing.assert_array_equal(run.get("loss").values, f32(loss))
    epochs, val = run.evaluated("val_loss")
    assert list(epochs) == [9, 19, 29, 39]
    np.testing.assert_array_equal(val, f32(2 * loss[[9, 19, 29, 39]]))
    np.testing.assert_array_equal(run.get("lr").values, 0.1 / np.arange(1, 41))  # float64 tensors stay exact
    np.testing.assert_array_equal(run.step_series["loss"].steps, np.arange(40))
    assert run.events == []


def test_same_scalars_as_event_accumulator(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator as ea

    write_steps(tmp_path)
    acc = ea.EventAccumulator(str(tmp_path), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
    acc.Reload()
    run = fitdoc.read(tmp_path)
    for tag, name in (("Loss/train", "loss"), ("loss/val", "val_loss")):
        steps, values = run.evaluated(name)
        assert list(steps) == [s.step for s in acc.Scalars(tag)]
        np.testing.assert_array_equal(values, [s.value for s in acc.Scalars(tag)])
    lr = acc.Tensors("learning_rate")  # TF2-style tensor summaries
    np.testing.assert_array_equal(run.get("lr").values, [t.tensor_proto.double_val[0] for t in lr])


def test_series_logged_at_different_steps_share_one_axis(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        for step in (0, 2, 4):
            w.add_scalar("train/loss", step, step)
        for step in (1, 4, 7):
            w.add_scalar("val/loss", 10 + step, step)
    run = fitdoc.read(tmp_path)
    assert list(run.epochs) == [0, 1, 2, 4, 7]
    assert list(run.evaluated("loss")[0]) == [0, 2, 4]
    assert list(run.evaluated("val_loss")[1]) == [11, 14, 17]


def test_add_scalars_subdirectories_join_the_parent_run(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        for epoch in range(3):
            w.add_scalars("Accuracy", {"train": 0.5 + epoch / 10, "val": 0.4 + epoch / 10}, epoch)
    run = fitdoc.read(tmp_path)
    np.testing.assert_array_equal(run.get("accuracy").values, f32([0.5, 0.6, 0.7]))
    np.testing.assert_array_equal(run.get("val_accuracy").values, f32([0.4, 0.5, 0.6]))


def test_epoch_tag_maps_steps_to_epochs(tmp_path):
    """PyTorch Lightning logs an ``epoch`` scalar; per-step values are averaged per epoch."""
    with SummaryWriter(str(tmp_path)) as w:
        for step in range(12):
            w.add_scalar("epoch", step // 4, step)
            w.add_scalar("train_loss_step", step, step)
            if step % 4 == 3:
                w.add_scalar("val_loss", 100 + step, step)
    run = fitdoc.read(tmp_path)
    assert list(run.epochs) == [0, 1, 2]
    np.testing.assert_array_equal(run.get("loss").values, [1.5, 5.5, 9.5])
    np.testing.assert_array_equal(run.get("val_loss").values, [103, 107, 111])
    np.testing.assert_array_equal(run.step_series["loss"].values, np.arange(12))


def test_keras_callback_epochs_and_values_match_history():
    run = fitdoc.read(KERAS / "keras_fit")
    (fit,) = json.loads((KERAS / "keras_fit" / "history.json").read_text())
    assert list(run.epochs) == fit["epochs"] == [0, 1, 2]
    for name, values in fit["history"].items():
        np.testing.assert_array_equal(run.get(name).values, f32(values), err_msg=name)
    np.testing.assert_array_equal(run.get("lr").values, f32([0.001] * 3))
    batches = run.step_series["loss"]
    assert list(batches.steps) == list(range(1, 10))
    np.testing.assert_array_equal(batches.values[2::3], run.get("loss").values)  # last batch = epoch mean
    assert list(run.step_series["val_loss"].steps) == [3, 6, 9]  # evaluation_loss_vs_iterations


def test_keras_resumed_run_keeps_the_last_write():
    run = fitdoc.read(KERAS / "keras_resumed")
    first, resumed = json.loads((KERAS / "keras_resumed" / "history.json").read_text())
    assert list(run.epochs) == [0, 1, 2, 3, 4]
    for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
        expected = first["history"][name][:2] + resumed["history"][name]
        np.testing.assert_array_equal(run.get(name).values, f32(expected), err_msg=name)
    assert [(e.epoch, e.type) for e in run.events] == [(2, "resume")]
    assert "from epoch 3 to 2" in run.events[0].message


def test_directory_of_runs_gives_one_run_each():
    runs = fitdoc.read_runs(KERAS)
    assert [r.source.rsplit("/", 1)[-1] for r in runs] == ["keras_fit", "keras_resumed"]


def test_second_event_file_going_back_is_a_resume(tmp_path):
    write_steps(tmp_path, n=30)
    later = write_steps(tmp_path, n=20, start=15)
    run = fitdoc.read(tmp_path)
    assert list(run.epochs) == list(range(35))
    np.testing.assert_array_equal(run.get("loss").values[15:], f32(later))
    assert [(e.epoch, e.type) for e in run.events] == [(15, "resume")]


def test_truncated_last_record_reads_what_is_complete(tmp_path):
    loss = write_steps(tmp_path)
    path = event_file(tmp_path)
    last = record_offsets(path)[-1]
    data = path.read_bytes()
    path.write_bytes(data[: last + (len(data) - last) // 2])
    run = fitdoc.read(path)
    assert len(run.get("loss").values) == 40
    np.testing.assert_array_equal(run.get("loss").values, f32(loss))
    assert not run.has("lr") or run.evaluated("lr")[0][-1] == 38  # the cut record was the last lr
    assert any("incomplete" in note for note in run.notes)


def test_corrupt_middle_record_names_file_and_offset(tmp_path):
    write_steps(tmp_path)
    path = event_file(tmp_path)
    offsets = record_offsets(path)
    middle = offsets[len(offsets) // 2]
    data = bytearray(path.read_bytes())
    data[middle + 14] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableRecord) as err:
        fitdoc.read(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    assert f"corrupt event record at byte {middle} (data checksum mismatch)" in message


def test_corrupt_length_field_is_not_taken_for_truncation(tmp_path):
    write_steps(tmp_path)
    path = event_file(tmp_path)
    middle = record_offsets(path)[5]
    data = bytearray(path.read_bytes())
    data[middle + 3] = 0x7F  # a huge length
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableRecord, match=f"at byte {middle} \\(length checksum mismatch\\)"):
        fitdoc.read(path)


def test_empty_directory_is_a_clear_error(tmp_path):
    with pytest.raises(UnreadableRecord, match="no TensorBoard event files"):
        fitdoc.read(tmp_path, format="tensorboard")
    with pytest.raises(UnreadableRecord, match=str(tmp_path)):
        fitdoc.read(tmp_path)


def test_event_file_is_recognised_by_content(tmp_path):
    write_steps(tmp_path / "logs", n=5)
    renamed = tmp_path / "record.bin"
    event_file(tmp_path / "logs").rename(renamed)
    assert detect(Source(renamed)) is tb
    assert list(fitdoc.read(renamed).epochs) == list(range(5))


def test_missing_tensorboard_package_says_how_to_install(tmp_path, monkeypatch):
    write_steps(tmp_path, n=3)
    monkeypatch.setitem(sys.modules, "tensorboard.compat.proto.event_pb2", None)
    with pytest.raises(FitdocError, match=r"pip install fitdoc\[tensorboard\]"):
        fitdoc.read(tmp_path)


def test_vectorised_crc_matches_the_reference():
    assert tb._masked_crc(b"123456789") == tb._mask(0xE3069283)
    rng = np.random.default_rng(0)
    lengths = np.array([0, 1, 7, 8, 33, 300, tb._LONG_RECORD + 5, 2])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    buf = rng.integers(0, 256, int(lengths.sum()), dtype=np.uint8)
    expected = [tb._masked_crc(buf[s : s + n].tobytes()) for s, n in zip(starts, lengths)]
    assert list(tb._masked_crcs(buf, starts, lengths)) == expected
