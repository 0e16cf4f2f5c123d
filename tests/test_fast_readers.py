"""Each reader's fast path gives the runs, events and notes of its careful path, and
leaves every input that is not plainly the common case to it."""

import ast
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, ROOT, write_log
from fitdoc.readers import Source, _sniff, csv_fast, decimal_cells, hf_fast, hf_trainer, keras_csv, keras_fast, keras_text

SHARED = ROOT.parent / "shared"
REALRUNS = SHARED / "realruns" / "cases"


def _runs(result) -> str:
    """Everything a reader gives, as text (so that NaN equals NaN)."""
    out = []
    for run in result if isinstance(result, list) else [result]:
        out.append((
            run.source, run.format, run.planned_epochs, run.epochs.tolist(),
            {k: (np.asarray(s.values).tolist(), np.asarray(s.present).tolist()) for k, s in run.series.items()},
            {k: (s.steps.tolist(), s.values.tolist(), None if s.epochs is None else s.epochs.tolist())
             for k, s in run.step_series.items()},
            [e.to_dict() for e in run.events], run.notes, sorted(run.info.items(), key=str),
        ))
    return repr(out)


def _careful(monkeypatch, module, fast, path, entry="read"):
    with monkeypatch.context() as m:
        m.setattr(fast, entry, lambda *args: None)
        return _runs(module.read(Source(Path(path))))


def _records(module, shared=REALRUNS):
    roots = [DATA] + [shared] * shared.is_dir()
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and _sniff(Source(path)) is module:
                yield path


@pytest.mark.parametrize("path", list(_records(keras_text)), ids=str)
def test_keras_fast_path_reads_every_record_like_the_careful_path(monkeypatch, path):
    try:
        careful = _careful(monkeypatch, keras_text, keras_fast, path)
    except Exception as exc:  # the careful path's error must come from the fast path too
        with pytest.raises(type(exc)):
            keras_text.read(Source(path))
        return
    assert _runs(keras_text.read(Source(path))) == careful


def _verbose1(epochs=4, steps=30, extra=lambda epoch, step: "", end="\n", val=True) -> str:
    out = []
    for epoch in range(1, epochs + 1):
        out.append(f"Epoch {epoch}/{epochs}\n")
        for step in range(1, steps + 1):
            out.append(f"\r\x1b[1m{step:>2}/{steps}\x1b[0m \x1b[32m━━━━\x1b[0m 0s 5ms/step - accuracy: "
                       f"{0.5 + epoch / 100:.4f} - loss: {1 / (epoch + step / steps):.4f}{extra(epoch, step)}" + "\b" * 20)
        if val:
            out.append(f"\r\x1b[1m{steps}/{steps}\x1b[0m \x1b[32m━━━━\x1b[0m 1s 6ms/step - accuracy: {0.5 + epoch / 100:.4f}"
                       f" - loss: {1 / (epoch + 1):.4f} - val_accuracy: 0.5 - val_loss: {1 / epoch:.4f}")
        out.append(end)
    return "".join(out)


CASES = {
    "plain": _verbose1(),
    "crlf": _verbose1(end="\r\n"),
    "no validation": _verbose1(val=False),
    "callback mid-line": _verbose1(extra=lambda e, s: "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 1e-4." if (e, s) == (2, 9) else ""),
    "glued header": _verbose1(extra=lambda e, s: "Epoch 9/9" if (e, s) == (3, 5) else ""),
    "other bar glued": _verbose1(extra=lambda e, s: " 3/7 ━━ - loss: 9.0" if s == 4 else ""),
    "one step": _verbose1(steps=1),
    "headerless": "".join(line for line in _verbose1().splitlines(True) if not line.startswith("Epoch")),
    "headerless inside one epoch": _verbose1(epochs=1, val=False).removeprefix("Epoch 1/1\n").rsplit("\r", 1)[0] + "\nstopped\n",
    "cut last line": _verbose1()[:-30],
    "nul bytes": _verbose1().replace("loss", "lo\x00ss", 3),
}


@pytest.mark.parametrize("case", CASES)
def test_keras_fast_path_on_the_shapes_it_must_handle_or_leave(monkeypatch, tmp_path, case):
    path = tmp_path / "log.txt"
    path.write_text(CASES[case], encoding="utf-8", newline="")
    assert _runs(keras_text.read(Source(path))) == _careful(monkeypatch, keras_text, keras_fast, path)
    taken = keras_fast.read(Source(path)) is not None
    assert taken == (case not in ("cut last line", "nul bytes"))


@pytest.mark.parametrize("block", [64, 1000])
@pytest.mark.parametrize("case", ["plain", "crlf", "callback mid-line", "headerless"])
def test_keras_fast_path_reads_lines_longer_than_its_block(monkeypatch, tmp_path, case, block):
    path = tmp_path / "log.txt"
    path.write_text(CASES[case], encoding="utf-8", newline="")
    careful = _careful(monkeypatch, keras_text, keras_fast, path)
    monkeypatch.setattr(keras_fast, "BLOCK", block)  # each verbose=1 line spans several blocks
    assert keras_fast.read(Source(path)) is not None
    assert _runs(keras_text.read(Source(path))) == careful
    monkeypatch.setattr(keras_fast, "LINE_LIMIT", 1000)  # a line the careful reader would refuse
    assert keras_fast.read(Source(path)) is None


CORPUS = sorted((ROOT / "bench" / "corpus" / "runs").glob("*/stdout_verbose2.txt"))[::10]


def _verbose2(epochs=12, steps=20, line=None, between=lambda epoch: "", first=1, end="\n") -> str:
    """A verbose=2 log; ``line(epoch)`` gives an epoch's metrics, ``between(epoch)`` what is printed after it."""
    line = line or (lambda e: f"accuracy: {0.5 + e / 1000:.4f} - loss: {1 / e:.4f} - val_loss: {1.2 / e:.4f} - learning_rate: 1.0000e-03")
    out = []
    for epoch in range(first, first + epochs):
        out.append(f"Epoch {epoch}/{first + epochs - 1}{end}{steps}/{steps} - {epoch % 3}s - {epoch * 7 % 90}ms/step - {line(epoch)}{end}")
        out.append(between(epoch))
    return "".join(out)


VERBOSE2 = {
    "plain": _verbose2(),
    "one record": _verbose2(epochs=1),
    "fewer than the bulk takes": _verbose2(epochs=5),
    "callback messages": _verbose2(between=lambda e: f"\nEpoch {e}: ReduceLROnPlateau reducing learning rate to {0.1 / e}.\n" if e % 4 == 0 else ""),
    "callbacks far apart": _verbose2(epochs=1500, between=lambda e: f"\nEpoch {e}: ReduceLROnPlateau reducing learning rate to {1 / e}.\n" if e % 500 == 0 else ""),
    "callback without a blank line": _verbose2(between=lambda e: f"Epoch {e}: val_loss improved from 0.5 to 0.4, saving model to m.keras\n" if e == 9 else ""),
    "early stopping": _verbose2(epochs=30) + "Epoch 30: early stopping\nRestoring model weights from the end of the best epoch: 27.\n",
    "nan": _verbose2(epochs=40, line=lambda e: f"loss: {1 / e:.4f} - val_loss: {'nan' if e > 20 else f'{1 / e:.4f}'}"),
    "nan from the start": _verbose2(line=lambda e: "loss: nan - val_loss: inf"),
    "terminate on nan": _verbose2(between=lambda e: "Batch 3: Invalid loss, terminating training\n" if e == 10 else ""),
    "resumed": _verbose2(epochs=15) + _verbose2(epochs=10, first=8),
    "resumed with callbacks": _verbose2(epochs=300, between=lambda e: f"\nEpoch {e}: ReduceLROnPlateau reducing learning rate to {1 / e}.\n" if e % 100 == 0 else "")
                              + _verbose2(epochs=300, first=150, between=lambda e: f"\nEpoch {e}: early stopping\n" if e == 449 else ""),
    "second fit": _verbose2(epochs=15) + _verbose2(epochs=15, line=lambda e: f"loss: {5 / e:.4f} - val_loss: {6 / e:.4f}"),
    "gap": _verbose2(epochs=10) + _verbose2(epochs=10, first=14),
    "cut last line": _verbose2()[:-20],
    "crlf": _verbose2(end="\r\n"),
    "ansi": _verbose2(line=lambda e: f"\x1b[1mloss: {1 / e:.4f}\x1b[0m - val_loss: {1 / e:.4f}"),
    "unfinished step": _verbose2(steps=20).replace("20/20 - 1s", "7/20 - 1s"),
    "leading zeros": _verbose2().replace("Epoch 1", "Epoch 01").replace("20/20", "020/20"),
    "negative and large": _verbose2(line=lambda e: f"loss: {-e * 1e3:.4f} - score: {e * 1e9:.4f} - tiny: {e * 1e-12:.4e} - big: {e:.4E}"),
    "point far from the right": _verbose2(line=lambda e: f"loss: {1 / e:.10f} - val_loss: {e / 3:.9f}"),  # read in 2 words
    "varying precision": _verbose2(line=lambda e: f"loss: {1 / e:g} - val_loss: {round(2 / e, e % 5)}"),
    "long numbers": _verbose2(line=lambda e: f"loss: {'1' * (e * 40)}.5 - val_loss: 0.{'0' * (e * 40)}1"),
    "digits in names": _verbose2(line=lambda e: f"top5_accuracy: {e / 100:.4f} - f1: {e / 50:.4f} - loss: {1 / e:.4f}"),
    "names it ignores": _verbose2(line=lambda e: f"loss: {1 / e:.4f} - eta: {e}.0000 - time: 1.0000 - loss: {2 / e:.4f}"),
    "aliases": _verbose2(line=lambda e: f"acc: {e / 100:.4f} - accuracy: {e / 99:.4f} - lr: 0.0010"),
    "headerless": "".join(line for line in _verbose2().splitlines(True) if not line.startswith("Epoch")),
    "text before": "Train on 600 samples, validate on 100 samples\nsome warning\n" + _verbose2(),
    "lost newline": _verbose2().replace("\n20/20", "20/20", 1),
    "stray digits": _verbose2().replace("ms/step", "ms/st3p", 1),
    "empty value": _verbose2().replace("loss: 0.1000", "loss:  ", 1),
    "evaluate after": _verbose2() + "5/5 - 0s - loss: 0.2000 - accuracy: 0.9000\n",
    "many": _verbose2(epochs=20000, between=lambda e: "\nEpoch 1: ReduceLROnPlateau reducing learning rate to 0.01.\n" if e % 7000 == 0 else ""),
}


@pytest.mark.parametrize("path", sorted((SHARED / "fixtures").glob("keras*.txt")) + CORPUS, ids=str)
def test_keras_verbose2_records_read_in_bulk_like_the_careful_path(monkeypatch, path):
    assert _runs(keras_text.read(Source(path))) == _careful(monkeypatch, keras_text, keras_fast, path)


@pytest.mark.parametrize("case", VERBOSE2)
def test_keras_verbose2_shapes_read_in_bulk_or_left_to_the_careful_path(monkeypatch, tmp_path, case):
    path = tmp_path / "log.txt"
    path.write_text(VERBOSE2[case], encoding="utf-8", newline="")
    bulk, records = [], keras_fast._records
    monkeypatch.setattr(keras_fast, "_records", lambda *a: bulk.append(records(*a)) or bulk[-1])
    try:
        careful = _careful(monkeypatch, keras_text, keras_fast, path)
    except Exception as exc:
        with pytest.raises(type(exc)):
            keras_text.read(Source(path))
        return
    assert _runs(keras_text.read(Source(path))) == careful
    if case in ("plain", "callbacks far apart", "nan", "resumed", "resumed with callbacks", "second fit", "gap", "negative and large", "point far from the right", "many", "aliases"):
        assert any(found is not None for found in bulk)


def test_trainer_dict_lines_read_like_literal_eval():
    rng = np.random.default_rng(0)
    literals = ["0.5", "1e-05", "4.792e-05", "-0.0", "05.5", "1.", ".5", "1E5", "12", "0", "00", "-3", "05", "1_000",
                "'0.8473'", "'nan'", "True", "None", "nan", "[1]", "'a b'", "10" * 20, "1" * 40, "٣"]
    for _ in range(2000):
        keys = rng.choice(["loss", "grad_norm", "learning_rate", "eval/loss", "epoch", "x-y", "lr"], rng.integers(1, 5))
        values = rng.choice(literals, len(keys))
        sep = ", " if rng.random() < 0.9 else ","
        text = "{" + sep.join(f"'{k}': {v}" for k, v in zip(keys, values)) + "}"
        got = hf_fast.plain_dict(text)
        if got is not None:
            expected = ast.literal_eval(text)
            assert repr(got) == repr(expected) and list(map(type, got.values())) == list(map(type, expected.values())), text
    line = "{'loss': 0.8473, 'grad_norm': '0.4206', 'learning_rate': 4.792e-05, 'epoch': 0.25}"
    assert hf_fast.plain_dict(line) == ast.literal_eval(line)


def _frame_events(events) -> bytes:
    """TFRecord framing of serialised events, checksums from the byte-by-byte reference."""
    from fitdoc.readers.tensorboard import _masked_crc

    out = []
    for data in events:
        header = struct.pack("<Q", len(data))
        out += [header, struct.pack("<I", _masked_crc(header)), data, struct.pack("<I", _masked_crc(data))]
    return b"".join(out)


def _tf2_scalar(tag, step, value, dtype):
    """An event as TF2's ``tf.summary.scalar`` writes it, a scalar tensor for the scalars
    plugin: the value in ``tensor_content`` at even steps, in the dtype's value field at odd ones."""
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2

    if dtype == 14:  # bfloat16: the top half of a float32
        raw = (np.float32(value).view(np.uint32) >> 16).astype("<u2")
    else:
        raw = np.asarray(value, dtype={1: "<f4", 2: "<f8", 19: "<f2"}[dtype])
    tensor = tensor_pb2.TensorProto(dtype=dtype)
    if step % 2 == 0:
        tensor.tensor_content = raw.tobytes()
    elif dtype in (1, 2):
        getattr(tensor, "float_val" if dtype == 1 else "double_val").append(value)
    else:
        tensor.half_val.append(int(raw.view("<u2")))
    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=meta)
    return event_pb2.Event(wall_time=1.7e9 + step, step=step, summary=summary_pb2.Summary(value=[value]))


def _plain_events(tags, steps, wall_time=1.7e9):
    from tensorboard.compat.proto import event_pb2, summary_pb2

    yield event_pb2.Event(wall_time=wall_time, file_version="brain.Event:2").SerializeToString()
    for step in steps:
        for i, tag in enumerate(tags):
            value = summary_pb2.Summary.Value(tag=tag, simple_value=1.0 / (abs(step) + i + 1))
            event = event_pb2.Event(wall_time=wall_time + step, step=step, summary=summary_pb2.Summary(value=[value]))
            yield event.SerializeToString()


def _tensorboard_cases(root: Path) -> dict[str, Path]:
    """Event files of the shapes the fast paths must read or leave like the careful path."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from torch.utils.tensorboard import SummaryWriter

    cases = {}
    for name in ("plain", "mixed"):
        with SummaryWriter(root / name) as writer:
            for step in (0, 1, 2, 300, 2**40, -5):
                writer.add_scalar("Loss/train", 1.0 / (abs(step) + 1), step)
                writer.add_scalar("a-much-longer-tag/name/for/validation" * 2, float(step % 7), step)
                writer.add_scalar("zero", 0.0, step)
                if name == "mixed":
                    writer.add_text("note", "text", step)
                    writer.add_histogram("weights", np.arange(10.0) * step, step)
                    writer.add_image("image", np.zeros((3, 4, 4)), step)
                    writer.add_scalar("wide", 1.5, step, new_style=True, double_precision=True)
        cases[name] = root / name
    many_steps = [*range(3000), *range(2**35, 2**35 + 300), 2**62, -1]  # 1- to 10-byte step varints
    files = {
        "one tag": _frame_events(_plain_events(["loss"], many_steps)),
        "several tags": _frame_events(_plain_events(["loss", "val/loss", "lr", "grad_norm/x"], range(0, 5000, 3))),
        "tf2 tensors": _frame_events([
            _tf2_scalar(tag, step, step / 7, dtype).SerializeToString()
            for step in range(400) for tag, dtype in (("epoch_loss", 1), ("epoch_lr", 2), ("half", 19), ("bf16", 14))
        ]),
        "no wall time": _frame_events(_plain_events(["a"], range(3), wall_time=0.0)),
        "empty events": _frame_events([b"", *_plain_events(["a"], range(5)), b"", b""]),
    }
    # plain scalars, a tensor every 97 records, a histogram
    with_others = list(_plain_events(["loss", "acc"], range(1000)))
    for i in range(7, len(with_others), 97):
        with_others[i] = _tf2_scalar("tensor", i, i / 7, 1).SerializeToString()
    histogram = summary_pb2.HistogramProto(num=3, bucket_limit=[1.0, 2.0], bucket=[1.0, 2.0])
    with_others[50] = event_pb2.Event(wall_time=1.7e9, step=25, summary=summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag="weights", histo=histogram)])).SerializeToString()
    files["others among plain"] = _frame_events(with_others)
    files["non-utf-8 tag"] = _frame_events(e.replace(b"\n\x04loss", b"\n\x04lo\xff\xfe") if i == 301 else e
                                           for i, e in enumerate(with_others))
    plain = _frame_events(_plain_events(["loss", "acc"], range(2000)))
    files["cut last record"] = plain[:-7]
    files["cut header"] = plain + plain[:5]
    record = _frame_one_by_one(plain)[0][1000]
    corruptions = {"corrupt data": record + 20, "corrupt length": record, "corrupt length past the end": record + 2,
                   "corrupt length crc": record + 9, "corrupt data crc": len(plain) - 2}
    for name, at in corruptions.items():
        files[name] = plain[:at] + bytes([plain[at] ^ 0x20]) + plain[at + 1 :]
    files["not an event"] = plain + _frame_events([b"\xff\xff"])
    for name, data in files.items():
        folder = root / name.replace(" ", "_")
        folder.mkdir()
        (folder / "events.out.tfevents.1.a").write_bytes(data)
        cases[name] = folder
    several = root / "several_files"
    several.mkdir()
    for k, steps in enumerate((range(0, 1000), range(800, 2000), range(2000, 2500))):  # a resume, a continuation
        events = _plain_events(["loss"], steps, 1.7e9 + 1e5 * k)
        (several / f"events.out.tfevents.{k}.a").write_bytes(_frame_events(events))
    cases["several files"] = several
    return cases


def _tensorboard_read(path) -> str:
    """The Run (or runs) read from ``path``, or the error raised."""
    from fitdoc.readers import tensorboard

    try:
        return _runs(tensorboard.read(Source(Path(path))))
    except Exception as exc:  # noqa: BLE001  (the error is the result to compare)
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("chunk", [None, 300, 4096])
def test_tensorboard_fast_paths_read_like_one_record_at_a_time(monkeypatch, tmp_path, chunk):
    """Framing by repeats, checksums by words and the numpy decoder against record-by-record
    framing, byte-by-byte checksums and ``Event.FromString``, with files cut in small chunks too."""
    from fitdoc.readers import tensorboard, tensorboard_fast

    if chunk:
        monkeypatch.setattr(tensorboard, "_CHUNK", chunk)
    taken, scalars = [], tensorboard_fast.scalars

    def spy(*args):  # notes whether each range of records was decoded with numpy
        ranges = scalars(*args)
        taken.extend(found is not None for _, _, found in ranges)
        return ranges

    monkeypatch.setattr(tensorboard_fast, "scalars", spy)
    shared = ROOT.parent / "shared"
    paths = [*_tensorboard_cases(tmp_path).values(), *sorted({p.parent for p in DATA.rglob("*tfevents*")}),
             *sorted(shared.rglob("*tfevents*") if shared.is_dir() else [])]
    for path in paths:
        fast = _tensorboard_read(path)
        with monkeypatch.context() as m:
            m.setattr(tensorboard_fast, "scalars", lambda raw, starts, lengths: [(0, len(starts), None)])
            m.setattr(tensorboard, "_PATIENCE", float("inf"))
            m.setattr(tensorboard, "_masked_crcs", lambda buf, starts, lengths: np.array(
                [tensorboard._masked_crc(buf[s : s + n].tobytes()) for s, n in zip(starts, lengths)], dtype=np.uint32))
            assert fast == _tensorboard_read(path), path
    assert any(taken) and not all(taken)


def _left_to_careful(source):
    raise csv_fast.LeftToCareful


def _csv_read(monkeypatch, path, fast=True) -> str:
    """What the Keras CSV reader gives, or the error it raises, as text."""
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(csv_fast, "ByteRows", _left_to_careful)
        try:
            return _runs(keras_csv.read(Source(Path(path))))
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("path", list(_records(keras_csv, SHARED)), ids=str)
def test_csv_fast_path_reads_every_record_like_the_careful_path(monkeypatch, path):
    assert _csv_read(monkeypatch, path) == _csv_read(monkeypatch, path, fast=False)


def _csv(rows=40, delim=",", end="\n", cell=lambda epoch, column: repr(1 / (epoch + column + 1)), header="epoch,accuracy,loss,val_loss"):
    names = header.split(",")
    lines = [delim.join(names)] + [delim.join([str(e)] + [cell(e, c) for c in range(1, len(names))]) for e in range(rows)]
    return end.join(lines) + end


CSV_CASES = {
    "plain": _csv(),
    "crlf": _csv(end="\r\n"),
    "tab": _csv(delim="\t"),
    "semicolon": _csv(delim=";"),
    "bom": "\ufeff" + _csv(),
    "NA cells": _csv(cell=lambda e, c: "NA" if c == 3 and e % 3 else repr(e / 7)),
    "NA epoch": _csv(cell=lambda e, c: repr(e / 7)).replace("\n5,", "\nNA,"),
    "other missing spellings": _csv(cell=lambda e, c: ["", "na", "-", "null", "1.5"][e % 5] if c == 2 else "0.5"),
    "resumed": _csv(30) + "epoch,accuracy,loss,val_loss\n" + _csv(20).split("\n", 1)[1],
    "resumed without header": _csv(30) + _csv(20).split("\n", 1)[1],
    "new column on resume": _csv(10) + "epoch,accuracy,loss,lr,val_loss\n" + _csv(5, header="epoch,accuracy,loss,lr,val_loss").split("\n", 1)[1],
    "cut last line": _csv()[:-7],
    "cut after a delimiter": _csv()[: _csv().rindex(",") + 1],
    "short last row": _csv() + "40,0.5\n",
    "short row mid-file": _csv(10) + "10,0.5\n11,0.1,0.2,0.3\n",
    "nan and inf": _csv(cell=lambda e, c: ["nan", "inf", "-inf", "NaN", "Infinity", "0.5"][(e + c) % 6]),
    "signs and exponents": _csv(cell=lambda e, c: ["-0.0", "-0", "+1.5", "1e-05", "6.3949E+04", "-2.5e-300", "1e308", "1e309", "5e-324"][(e * 3 + c) % 9]),
    "long numbers": _csv(cell=lambda e, c: ["0.0010000000474974513", "123456789012345678901234.5", "0." + "0" * 30 + "17",
                                          "9" * 19, "0.30000000000000004441", "1." + "0" * 40][(e + c) % 6]),
    "halfway": _csv(cell=lambda e, c: ["9007199254740993", "9007199254740993.0", "1.00000000000000011102230246251565404236316680908203125",
                                     "2.2250738585072011e-308", "0.1"][(e + c) % 5]),
    "odd numbers": _csv(cell=lambda e, c: [".5", "5.", "1_0", " 1.5", "1.5 ", "-.5e1", "0.5"][(e + c) % 7]),
    "not numbers": _csv(cell=lambda e, c: ["0.5", "1e5.5", "1-5", "--1", "0x10"][(e // 5 + c) % 5]),
    "float epochs": _csv().replace("\n3,", "\n3.0,").replace("\n4,", "\n4e0,"),
    "fractional epoch": _csv().replace("\n3,", "\n3.5,"),
    "huge epoch": _csv().replace("\n39,", "\n" + "9" * 20 + ","),
    "quoted cells": _csv().replace("0.5,", '"0.5",'),
    "quoted newline": _csv(10) + '10,"0.5\n",0.1,0.2\n' + "11,0.1,0.2,0.3\n",
    "blank lines": "\n\n" + _csv().replace("\n5,", "\n\n5,"),
    "lone cr": _csv(end="\r"),
    "nul bytes": _csv().replace("\n7,", "\n\x00\x007,"),
    "not utf-8": _csv().replace("loss", "lo\xdfs", 1),
    "header only": "epoch,loss\n",
    "no header": _csv().split("\n", 1)[1],
    "duplicate column": _csv(header="epoch,loss,loss"),
}


@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
@pytest.mark.parametrize("case", CSV_CASES)
def test_csv_fast_path_on_the_shapes_it_must_handle_or_leave(monkeypatch, tmp_path, case, block_bytes):
    path = tmp_path / "log.csv"
    path.write_bytes(CSV_CASES[case].encode("latin-1" if case == "not utf-8" else "utf-8"))
    monkeypatch.setattr(csv_fast, "BLOCK_BYTES", block_bytes)
    assert _csv_read(monkeypatch, path) == _csv_read(monkeypatch, path, fast=False)


def test_csv_fast_path_takes_the_common_blocks(monkeypatch, tmp_path):
    taken, cells = [], csv_fast.read_cells
    monkeypatch.setattr(csv_fast, "read_cells", lambda *a: taken.append(cells(*a) is not None) or cells(*a))
    for case in ("plain", "crlf", "tab", "bom", "NA cells", "signs and exponents", "long numbers", "halfway"):
        taken.clear()
        path = tmp_path / "log.csv"
        path.write_bytes(CSV_CASES[case].encode())
        keras_csv.read(Source(path))
        assert taken == [True], case


def test_csv_cells_read_like_float():
    rng = np.random.default_rng(0)
    digits = lambda n: "".join(rng.choice(list("0123456789"), n))  # noqa: E731
    makers = [
        lambda: repr(float(rng.random() * 10.0 ** rng.integers(-30, 30))),
        lambda: repr(float(np.float32(rng.random()))),
        lambda: repr(-float(rng.random())),
        lambda: digits(rng.integers(1, 22)),
        lambda: f"{digits(rng.integers(1, 25))}.{digits(rng.integers(1, 25))}",
        lambda: f"{rng.choice(['', '-', '+'])}{digits(rng.integers(1, 19))}.{digits(rng.integers(1, 19))}e{rng.choice(['', '-', '+'])}{rng.integers(0, 40)}",
        lambda: f"{rng.integers(1, 10)}.{digits(1)}{'0' * rng.integers(0, 30)}{digits(1)}5",  # near halfway
        lambda: "NA",
        lambda: f"{rng.choice(['', '-', '+'])}{digits(rng.integers(1, 12))}.{rng.choice(['', 'e', 'E'])}{rng.integers(0, 25)}".rstrip("e").rstrip("E"),
        lambda: rng.choice(["0", "-0", "+0", "0.0", "-0.0", "-0e5", "0000.000", "-00.0E-3"]),
    ]
    for _ in range(50):
        _assert_cells_read_like_float([[makers[rng.integers(len(makers))]() for _ in range(5)] for _ in range(200)])
    for _ in range(10):  # no exponent, sign, zero, NA or doubt (no cell is read by float()): the common block
        _assert_cells_read_like_float([[repr(float(rng.random())) for _ in range(5)] for _ in range(200)])


def _assert_cells_read_like_float(rows):
    got = decimal_cells.read_cells("".join(",".join(r) + "\n" for r in rows).encode(), b",", len(rows[0]))
    assert got is not None
    values, present = got
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell == "NA":
                assert not present[i, j]
            else:
                assert repr(float(values[i, j])) == repr(float(cell)), cell
                assert present is None or present[i, j]


@pytest.mark.parametrize("cell", ["5.", "5.e3", "-7", "+1.5", "1E+05", "2.5e-3", "-0", "-0.0", "1e0", "0." + "0" * 30 + "17", "9" * 19, "NA"])
def test_csv_cells_take_these_numbers(cell):
    _assert_cells_read_like_float([["1", cell, "0.5"], [cell, "2", "NA"]])


@pytest.mark.parametrize("cell", [".5", "-.5", "1e", "1e+", "e5", "-", "+-1", "--1", "1-5", "1.2.3", "1e5.5", "1e--5", "1e5e5",
                                  "N", "A", "AN", "NAN", "NA5", "5NA", "-NA", "", "1_0", " 1", "1 ", "0x10", "nan", "inf"])
def test_csv_cells_leave_these_to_the_careful_path(cell):
    assert decimal_cells.read_cells(f"1,{cell},0.5\n2,3,4\n".encode(), b",", 3) is None


def test_csv_fast_path_reads_random_records_like_the_careful_path(monkeypatch, tmp_path):
    rng = np.random.default_rng(1)
    cells = ["0.5", "1e-05", "-2.5E+3", "NA", "nan", "", " 1", "7", "1.5.5", '"3"', "epoch", "9" * 20, "0.30000000000000004"]
    path = tmp_path / "log.csv"
    for _ in range(200):
        lines = ["epoch,loss,val_loss"]
        epoch = 0
        for _ in range(rng.integers(1, 30)):
            epoch += int(rng.choice([1, 1, 1, -3]))
            row = [str(epoch)] + [str(rng.choice(cells)) if rng.random() < 0.2 else repr(float(rng.random())) for _ in range(2)]
            lines.append(",".join(row[: rng.choice([3, 3, 3, 3, 2, 4])]))
        text = "\n".join(lines) + ("\n" if rng.random() < 0.8 else "")
        path.write_text(text.replace("\n", "\r\n") if rng.random() < 0.2 else text, newline="")
        monkeypatch.setattr(csv_fast, "BLOCK_BYTES", int(rng.choice([16, 64, 1 << 20])))
        assert _csv_read(monkeypatch, path) == _csv_read(monkeypatch, path, fast=False), text


def _frame_one_by_one(buf: bytes):
    starts, lengths, pos = [], [], 0
    while pos + 12 <= len(buf) and pos + 16 + struct.unpack_from("<Q", buf, pos)[0] <= len(buf):
        starts.append(pos)
        lengths.append(struct.unpack_from("<Q", buf, pos)[0])
        pos += 16 + lengths[-1]
    return starts, lengths, pos


def test_tensorboard_framing_by_repeats_finds_the_records_one_by_one_does():
    from fitdoc.readers.tensorboard import _frame

    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, 1 << 16, dtype=np.uint8).tobytes()
    for _ in range(200):
        patterns = [rng.integers(0, 40, rng.integers(1, 11)) for _ in range(10)]  # up to 10 lengths a step
        lengths = np.concatenate([np.tile(p, rng.choice([1, 2, 5, 50, 300])) for p in patterns])
        buf = b"".join(struct.pack("<Q", n) + noise[n : 2 * n + 8] for n in lengths.tolist())
        buf = buf[: rng.integers(len(buf) // 2, len(buf) + 1)] + noise[: rng.integers(0, 20)]
        starts, found, pos = _frame(buf)
        assert (starts.tolist(), found.tolist(), pos) == _frame_one_by_one(buf)


def test_tensorboard_checksums_by_words_match_byte_by_byte():
    from fitdoc.readers.tensorboard import _LONG_RECORD, _masked_crc, _masked_crcs

    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = rng.integers(0, 80, rng.integers(1, 40))
        if rng.random() < 0.1:
            lengths[0] = _LONG_RECORD + rng.integers(0, 9)
        starts = np.cumsum(lengths) - lengths + rng.integers(0, 3, len(lengths))
        buf = rng.integers(0, 256, int(lengths.sum()) + 3 * len(lengths), dtype=np.uint8)
        expected = [_masked_crc(buf[s : s + n].tobytes()) for s, n in zip(starts, lengths)]
        assert _masked_crcs(buf, starts, lengths).tolist() == expected


def _hf_records():
    roots = [DATA] + [root for root in (REALRUNS, SHARED / "fixtures") if root.is_dir()]
    return [path for root in roots for path in sorted(root.rglob("*")) if path.is_file() and _sniff(Source(path)) is hf_trainer]


def _hf_careful(monkeypatch, path) -> str:
    with monkeypatch.context() as m:
        m.setattr(hf_fast, "read_state", lambda *args: None)
        m.setattr(hf_fast, "read_lines", lambda *args: None)
        return _runs(hf_trainer.read(Source(path)))


def _assert_hf_reads_like_careful(monkeypatch, path) -> None:
    try:
        careful = _hf_careful(monkeypatch, path)
    except Exception as exc:  # the careful path's error must come from the fast path too
        with pytest.raises(type(exc)):
            hf_trainer.read(Source(path))
        return
    assert _runs(hf_trainer.read(Source(path))) == careful


@pytest.mark.parametrize("path", _hf_records(), ids=str)
def test_trainer_fast_paths_read_every_record_like_the_careful_path(monkeypatch, path):
    _assert_hf_reads_like_careful(monkeypatch, path)


def _trainer_rows(steps=40, per_epoch=10, eval_every=5, summary=True, nan_at=None):
    rows = []
    for step in range(1, steps + 1):
        epoch = round(step / per_epoch, 4)
        loss = float("nan") if step == nan_at else round(1 / step, 4)
        rows.append({"loss": loss, "grad_norm": round(step % 3 + 0.5, 4), "learning_rate": 5e-05 * (1 - step / steps),
                     "epoch": epoch, "step": step})
        if step % eval_every == 0:
            rows.append({"eval_loss": round(2 / step, 4), "eval_accuracy": step / 100, "eval_runtime": 1.5,
                         "eval_samples_per_second": 99.5, "epoch": epoch, "step": step})
    if summary:
        rows.append({"train_runtime": 12.5, "train_samples_per_second": 30.1, "total_flos": 1234567890123456,
                     "train_loss": 0.25, "epoch": rows[-1]["epoch"], "step": steps})
    return rows


def _state(rows, **top) -> str:
    return json.dumps({"global_step": len(rows), "num_train_epochs": 4, "train_batch_size": 8, "log_history": rows, **top}, indent=2)


def _edited(rows, at, **changes):
    return [{**row, **changes} if i in at else row for i, row in enumerate(rows)]


BEST = {"best_metric": 0.05, "best_model_checkpoint": "out/checkpoint-40", "best_global_step": 40}
STATE_CASES = {
    "plain": (_state(_trainer_rows(), **BEST), True),
    "no summary, best by checkpoint name": (_state(_trainer_rows(summary=False), best_model_checkpoint="out/checkpoint-20"), True),
    "stopped mid-epoch": (_state(_trainer_rows(steps=35)), True),
    "nan loss": (_state(_trainer_rows(nan_at=7)), True),
    "extra and missing keys": (_state(_edited(_trainer_rows(), {3, 9}, num_input_tokens_seen=512, lr=1e-4, extra=2)
                                      + [{"eval_bleu": 3.5, "epoch": 4.0, "step": 41}]), True),
    "numbers as strings": (_state(_edited(_trainer_rows(), {2, 5, 8}, loss="0.5", grad_norm="nan", learning_rate="NA")), True),
    "null, true, lists": (_state(_edited(_trainer_rows(), {2, 5, 8}, grad_norm=None, learning_rate=True, eval_accuracy=[1])), False),
    "an int beyond floats": (_state(_edited(_trainer_rows(), {4}, grad_norm=10**400)), True),
    "rows without epoch or step": (_state([{"loss": 1.0, "step": 0}, {"loss": 1.0, "epoch": 0.1}, 5, "x"] + _trainer_rows()), True),
    "same step twice": (_state(_edited(_trainer_rows(), {4}, step=4)), True),
    "nested settings": (_state(_trainer_rows(), stateful_callbacks={"TrainerControl": {"args": {}}}), True),
    "a dict in a row": (_state(_edited(_trainer_rows(), {6}, loss={"a": 1})), False),
    "resumed": (_state(_trainer_rows() + _trainer_rows(steps=15)), False),
    "epoch out of range": (_state(_edited(_trainer_rows(), {3}, epoch=float("inf"))), False),
    "step out of range": (_state(_edited(_trainer_rows(), {3}, step=2**60)), False),
    "float step": (_state(_edited(_trainer_rows(), {3}, step=4.0)), False),
    "a row inside a row": (_state(_edited(_trainer_rows(), {6}, loss={"epoch": 1, "step": 2})), False),
    "cut": (_state(_trainer_rows())[:-300], False),
    "no log_history": ('{"log_history": {"step": 1, "epoch": 1, "loss": 1}}', False),
}


@pytest.mark.parametrize("case", STATE_CASES)
def test_trainer_state_fast_path_on_the_shapes_it_must_handle_or_leave(monkeypatch, tmp_path, case):
    text, taken = STATE_CASES[case]
    path = write_log(tmp_path, text, "trainer_state.json")
    _assert_hf_reads_like_careful(monkeypatch, path)
    assert (hf_fast.read_state(text) is not None) == taken


def _dict_lines(rows, quoted=False) -> str:
    """Trainer's dict lines (transformers 5 prints the numbers ``quoted``)."""
    return "".join(f"{ {k: f'{v:.4g}' if quoted else v for k, v in row.items() if k != 'step'} }\n" for row in rows)


def _bars(text: str) -> str:
    """Progress bars between the dict lines, as a terminal capture holds them."""
    bar = " 10%|#         | 1/10 [00:00<00:02,  3.84it/s]\r"
    return "***** Running training *****\n" + "".join(bar + line for line in text.splitlines(True))


PLAIN_LINES = _dict_lines(_trainer_rows())
STDOUT_CASES = {
    "plain": (PLAIN_LINES, True),
    "string numbers": (_dict_lines(_trainer_rows(), quoted=True), True),
    "progress bars": (_bars(PLAIN_LINES), True),
    "crlf": (PLAIN_LINES.replace("\n", "\r\n"), True),
    "stopped mid-epoch": (_dict_lines(_trainer_rows(steps=35)), True),
    "extra keys and a step": (PLAIN_LINES.replace("'epoch'", "'num_input_tokens_seen': 5, 'step': 3, 'epoch'", 3), True),
    "first key epoch": (PLAIN_LINES + "{'epoch': 4.5, 'loss': 9.0}\n", True),
    "epoch spelled otherwise": (PLAIN_LINES.replace("'epoch': ", "'epoch':", 2).replace("'epoch': ", "'epoch' : ", 2), True),
    "duplicate epoch": (PLAIN_LINES.replace("'epoch': 0.3", "'epoch': 0.3, 'epoch': 0.35").replace("'epoch': 0.4", "'epoch':0.4"), True),
    "space after the brace": (PLAIN_LINES.replace("{'loss", "{ 'loss", 2), True),
    "two dicts on a line": (PLAIN_LINES.replace("}\n{'eval", "}, {'eval", 2).replace("}\n{'loss", "} {'loss", 2), True),
    "json words": (PLAIN_LINES.replace("'grad_norm': 1.5", "'grad_norm': true", 1).replace("'grad_norm': 2.5", "'grad_norm': null", 1), False),
    "a nested dict": (PLAIN_LINES.replace("'grad_norm': 2.5", "'grad_norm': {'a': 1}", 1), False),
    "a list": (PLAIN_LINES.replace("'grad_norm': 1.5", "'grad_norm': [1]", 1), False),
    "braces in names and strings": (PLAIN_LINES.replace("'grad_norm': 1.5", "'grad_{norm': 1.5", 1).replace("'grad_norm': 2.5", "'grad_norm': '2}'", 1), False),
    "blank, indented and other lines": (PLAIN_LINES.replace("}\n{'eval", "}\n\n   {'eval").replace("}\n{'loss': 0.5", "} \nwarning: {x}\n{'loss': 0.5"), True),
    "a line that does not parse": (PLAIN_LINES.replace("'grad_norm': 1.5", "'grad_norm': 1.5.5", 1), False),
    "nan": (_dict_lines(_trainer_rows(nan_at=7)), False),
    "resumed": (_dict_lines(_trainer_rows() + _trainer_rows(steps=15)), False),
    "cut last line": (PLAIN_LINES[:-20], False),
    "NUL bytes": (PLAIN_LINES.replace("'loss'", "'lo\x00ss'", 2), False),
}


@pytest.mark.parametrize("case", STDOUT_CASES)
def test_trainer_stdout_fast_path_on_the_shapes_it_must_handle_or_leave(monkeypatch, tmp_path, case):
    text, taken = STDOUT_CASES[case]
    path = write_log(tmp_path, text, "train.log")
    _assert_hf_reads_like_careful(monkeypatch, path)
    assert (hf_fast.read_lines(Source(path)) is not None) == taken


NUMBER_LINES = _dict_lines(_trainer_rows(summary=False))
BULK_CASES = {
    "plain": (NUMBER_LINES, True),
    "signs, exponents, -0.0, long integers": (NUMBER_LINES.replace("'grad_norm': 1.5", "'grad_norm': -1.5e-07", 2)
                                              .replace("'grad_norm': 2.5", "'grad_norm': -0.0", 1)
                                              .replace("'grad_norm': 0.5", "'grad_norm': 123456789012345678901234567", 1), True),
    "a summary row": (PLAIN_LINES, False),
    "an integer with a leading zero": (NUMBER_LINES.replace("'grad_norm': 1.5", "'grad_norm': 05", 1), False),
    "-0": (NUMBER_LINES.replace("'grad_norm': 1.5", "'grad_norm': -0", 1), False),
    "NA": (NUMBER_LINES.replace("'grad_norm': 1.5", "'grad_norm': NA", 1), False),
    "quoted numbers": (_dict_lines(_trainer_rows(summary=False), quoted=True), True),
    "quoted and bare": (_dict_lines(_trainer_rows(summary=False), quoted=True).replace("'grad_norm': '1.5'", "'grad_norm': 1.5"), True),
    "a quoted nan": (_dict_lines(_trainer_rows(summary=False, nan_at=7), quoted=True), False),
    "a quoted word": (NUMBER_LINES.replace("'grad_norm': 1.5", "'grad_norm': 'high'", 1), False),
    "a quote unclosed": (NUMBER_LINES.replace("'grad_norm': 1.5", "'grad_norm': '1.5", 1), False),
    "a key twice": (NUMBER_LINES.replace("'grad_norm': 1.5", "'grad_norm': 1.5, 'grad_norm': 2", 1), False),
    "a name with a space": (NUMBER_LINES.replace("'grad_norm'", "'grad norm'", 1), False),
    "a line without epoch": (NUMBER_LINES.replace(", 'epoch': 0.3}", "}", 1), False),
    "a line starting with epoch": (NUMBER_LINES + "{'epoch': 4.5, 'loss': 9.0}\n", False),
}


@pytest.mark.parametrize("case", BULK_CASES)
def test_trainer_stdout_number_lines_read_in_bulk_or_left_to_the_other_paths(monkeypatch, tmp_path, case):
    text, bulk = BULK_CASES[case]
    path = write_log(tmp_path, text, "train.log")
    _assert_hf_reads_like_careful(monkeypatch, path)
    taken = []
    fold_numbers = hf_fast.Rows._fold_numbers
    monkeypatch.setattr(hf_fast.Rows, "_fold_numbers", lambda *args: taken.append(fold_numbers(*args)) or taken[-1])
    hf_fast.read_lines(Source(path))
    assert taken == [bulk]


def test_trainer_stdout_blocks_of_plain_lines_are_read_whole(monkeypatch, tmp_path):
    rows = _trainer_rows(steps=30000, per_epoch=3000)  # some 3 MB: several blocks
    lines = _dict_lines(rows).splitlines(True)
    lines[20000] = " 50%|#####     | 5/10 [00:01<00:01,  3.84it/s]\r" + lines[20000]
    path = write_log(tmp_path, "".join(lines), "train.log")
    blocks = []
    fold_plain_lines = hf_fast.Rows._fold_plain_lines
    monkeypatch.setattr(hf_fast.Rows, "_fold_plain_lines", lambda *args: blocks.append(fold_plain_lines(*args)) or blocks[-1])
    assert _runs(hf_trainer.read(Source(path))) == _hf_careful(monkeypatch, path)
    assert len(blocks) > 2 and blocks.count(False) == 1
