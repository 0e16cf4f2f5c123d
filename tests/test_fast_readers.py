"""Each reader's fast path gives the runs, events and notes of its careful path, and
leaves every input that is not plainly the common case to it."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, ROOT, write_log
from fitdoc.readers import Source, _sniff, hf_fast, hf_trainer, keras_fast, keras_text

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


SHARED = ROOT.parent / "shared"


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


def test_trainer_stdout_blocks_of_plain_lines_are_read_as_json(monkeypatch, tmp_path):
    rows = _trainer_rows(steps=30000, per_epoch=3000)  # some 3 MB: several blocks
    lines = _dict_lines(rows).splitlines(True)
    lines[20000] = " 50%|#####     | 5/10 [00:01<00:01,  3.84it/s]\r" + lines[20000]
    path = write_log(tmp_path, "".join(lines), "train.log")
    blocks = []
    fold_json_lines = hf_fast.Rows._fold_json_lines
    monkeypatch.setattr(hf_fast.Rows, "_fold_json_lines", lambda *args: blocks.append(fold_json_lines(*args)) or blocks[-1])
    assert _runs(hf_trainer.read(Source(path))) == _hf_careful(monkeypatch, path)
    assert len(blocks) > 2 and blocks.count(False) == 1
