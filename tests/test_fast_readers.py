"""Each reader's fast path gives the runs, events and notes of its careful path, and
leaves every input that is not plainly the common case to it."""

import ast
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, ROOT
from fitdoc.readers import Source, _sniff, csv_fast, hf_fast, keras_csv, keras_fast, keras_text

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


def _tensorboard_cases(root: Path) -> dict[str, Path]:
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
                    writer.add_scalar("wide", 1.5, step, new_style=True, double_precision=True)
        cases[name] = root / name
    return cases


def test_tensorboard_fast_path_reads_like_event_by_event(monkeypatch, tmp_path):
    from fitdoc.readers import tensorboard, tensorboard_fast

    taken, scalars = [], tensorboard_fast.scalars
    monkeypatch.setattr(tensorboard_fast, "scalars", lambda *a: taken.append(scalars(*a) is not None) or scalars(*a))
    paths = [*_tensorboard_cases(tmp_path).values(), *sorted({p.parent for p in DATA.rglob("*tfevents*")})]
    for path in paths:
        fast = _runs(tensorboard.read(Source(path)))
        assert fast == _careful(monkeypatch, tensorboard, tensorboard_fast, path, "scalars"), path
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
    taken, cells = [], csv_fast._cells
    monkeypatch.setattr(csv_fast, "_cells", lambda *a: taken.append(cells(*a) is not None) or cells(*a))
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
    ]
    for _ in range(50):
        rows = [[makers[rng.integers(len(makers))]() for _ in range(5)] for _ in range(200)]
        got = csv_fast._cells("".join(",".join(r) + "\n" for r in rows).encode(), b",", 5)
        assert got is not None
        values, present = got
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                if cell == "NA":
                    assert not present[i, j]
                else:
                    assert repr(float(values[i, j])) == repr(float(cell)), cell


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
