"""Keras ``History.history`` saved with ``json.dump``: a dict of per-epoch lists
(bare ``NaN``/``Infinity`` tokens allowed). History has no epoch numbers; fitdoc
numbers them from 1 as Keras prints ``Epoch 1/N``. Validation lists shorter than the
training lists (``validation_freq=k``) are placed at epochs k, 2k, ..."""

from __future__ import annotations

import json
import re

from ..errors import UnreadableRecord
from ..names import is_metric_name, is_validation
from ..run import Run, build_run
from .numbers import parse_index, parse_number
from .stitch import EpochRows

FORMAT = "keras-history"
_OBJECT = re.compile(r'\{\s*"')  # JSON keys are double-quoted (Trainer's printed dicts are not)


def sniff(source) -> float:
    head = source.head.lstrip("\ufeff \t\r\n")
    if not _OBJECT.match(head) or '"log_history"' in head[:20000]:
        return 0.0
    return 0.9 if "[" in head[:2000] else 0.2


def _history(data) -> dict:
    if isinstance(data, dict) and isinstance(data.get("history"), dict):
        data = data["history"]
    if not isinstance(data, dict) or not data or not all(isinstance(v, list) for v in data.values()):
        raise ValueError("expected a JSON object of per-epoch lists, like json.dump(history.history)")
    return data


def read(source) -> Run:
    with source.open_text() as fh:
        text = fh.read()
    try:
        history = _history(json.loads(text))
    except json.JSONDecodeError as exc:
        raise UnreadableRecord(source.name, f"invalid JSON at line {exc.lineno} column {exc.colno} (truncated file?)") from None
    except RecursionError:
        raise UnreadableRecord(source.name, "JSON nested too deeply: not a Keras history") from None
    except ValueError as exc:
        raise UnreadableRecord(source.name, str(exc)) from None
    explicit = history.pop("epoch", None)
    if not history:
        raise UnreadableRecord(source.name, "no metric lists besides 'epoch'")
    if not any(is_metric_name(name) for name in history):  # a model's build config, {"input_shape": [null, 64]}
        raise UnreadableRecord(source.name, "no loss or metric list (a Keras history holds at least the loss)")
    n = max(len(v) for v in history.values())
    if n == 0:
        raise UnreadableRecord(source.name, "all history lists are empty")
    try:
        epochs = [parse_index(e) for e in explicit] if explicit and len(explicit) == n else list(range(1, n + 1))
    except (TypeError, ValueError):
        raise UnreadableRecord(source.name, "'epoch' holds a value that is not a whole epoch number in range") from None
    columns: dict[str, list[float | None]] = {}
    notes = []
    for name, values in history.items():
        try:
            numbers = [parse_number(v) for v in values]
        except (TypeError, ValueError):
            raise UnreadableRecord(source.name, f"{name!r} holds a value that is not a number") from None
        every = next((k for k in range(1, n + 1) if n // k == len(numbers)), None) if len(numbers) < n else 1
        if every is None or (every > 1 and not is_validation(name)):
            raise UnreadableRecord(source.name, f"{name!r} has {len(numbers)} values but other lists have {n}")
        if every > 1:
            notes.append(f"{name} has {len(numbers)} values for {n} epochs: placed every {every} epochs (validation_freq={every})")
        column = columns[name] = [None] * n
        column[every - 1 :: every] = numbers
    rows = EpochRows()  # explicit epochs may repeat or go back: a resumed run
    for i, epoch in enumerate(epochs):
        rows.add(epoch, {name: column[i] for name, column in columns.items() if column[i] is not None})
    return build_run(rows.rows, source=source.name, format=FORMAT, events=rows.events, notes=notes)
