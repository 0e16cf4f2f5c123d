"""Each reader's fast path gives the runs, events and notes of its careful path, and
leaves every input that is not plainly the common case to it."""

import ast
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, ROOT
from fitdoc.readers import Source, _sniff, hf_fast, keras_fast, keras_text

REALRUNS = ROOT.parent / "shared" / "realruns" / "cases"


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


def _records(module):
    roots = [DATA] + [REALRUNS] * REALRUNS.is_dir()
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


SHARED = ROOT.parent / "shared"
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
    if case in ("plain", "callbacks far apart", "nan", "resumed", "resumed with callbacks", "second fit", "gap", "negative and large", "many", "aliases"):
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
