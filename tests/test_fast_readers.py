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
