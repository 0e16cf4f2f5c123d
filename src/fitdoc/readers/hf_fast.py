"""The fast paths of the Trainer reader, and the row vocabulary both paths share.

Rows are folded as they are parsed: each row's values are appended to the list of its
key shape (the tuple of its keys; a log has a handful), so that row dicts never pile
up, and the epoch and step series are then computed column by column with numpy.
``trainer_state.json`` is parsed by ``json.loads`` with the fold as ``object_hook``;
stdout dict lines are parsed in blocks as one JSON array when the block holds nothing
but plain dict lines, else line by line like the careful path. Whatever they cannot
read exactly as the careful path does (a metric going back: a resumed run; an epoch or
step out of range; a line that does not parse) makes them return None, and the careful
path reads the record.
"""

from __future__ import annotations

import ast
import json
import re
from itertools import islice

import numpy as np

from ..names import canonical
from ..run import StepSeries
from .numbers import MAX_INDEX, parse_number
from .steps import _aggregate

DICT_LINE = re.compile(r"\{'[A-Za-z_][^{}\n]*'epoch': [^{}\n]*\}")
PARSE_ERRORS = (ValueError, TypeError, SyntaxError, RecursionError, MemoryError)
# Throughput and bookkeeping values, not training metrics.
NOT_METRIC = re.compile(r"(^|_)(runtime|samples_per_second|steps_per_second|tokens_per_second|total_flos|num_input_tokens_seen)$")
SUMMARY_KEY = "train_runtime"  # marks the end-of-training summary row

_NUMBER = r"-?(?:(?:\d+\.\d*|\.\d+|\d+)[eE][+-]?\d+|\d+\.\d*|\.\d+)"  # a float literal
_INT = r"-?(?:0+|[1-9]\d{0,30})"  # literal_eval refuses 05, and long ints are left to it
_ITEM = re.compile(rf"'([A-Za-z_][\w./-]*)': (?:({_NUMBER})|({_INT})|'([-+.\w]*)')(, |\}})", re.ASCII)
_HAS_DICT = re.compile(r"\{'").search  # a line without it holds no dict line
_FIRST_KEY = re.compile(r"[A-Za-z_]")
_EPOCH_ITEM = "'epoch': "
_BLOCK_LINES = 4096
_FOLDED = object()  # what a folded row leaves in the parsed document


def number(value) -> float | None:
    """A row value as a float; None where it is not a number."""
    try:
        return parse_number(value)
    except (TypeError, ValueError):
        return None


def plain_dict(text: str) -> dict | None:
    """``ast.literal_eval(text)`` of a plain dict line such as
    ``{'loss': 0.8473, 'grad_norm': '0.42', 'learning_rate': 4.8e-05, 'epoch': 0.25}``
    (names and plain numbers, quoted or not), read with one regex; None when it is not one."""
    if not text.startswith("{'"):
        return None
    row, pos, end = {}, 1, len(text)
    while m := _ITEM.match(text, pos):
        name, number, integer, string, sep = m.groups()
        row[name] = float(number) if number else int(integer) if integer else string
        pos = m.end()
        if sep == "}":
            return row if pos == end else None
    return None


def parse_dict(text: str) -> dict:
    """The dict a ``DICT_LINE`` match writes; raises one of ``PARSE_ERRORS`` otherwise."""
    return plain_dict(text) or ast.literal_eval(text)


def read_state(text: str) -> tuple[dict, Tally] | None:
    """The parsed ``trainer_state.json`` (its log rows folded away) and the tally of
    its log rows; None where the careful path must read it."""
    rows = Rows("step")
    try:
        state = json.loads(text, object_hook=rows.fold)
    except (ValueError, RecursionError):
        return None
    log = state.get("log_history") if isinstance(state, dict) else None
    # every folded row must be a log_history row (the careful path reads no other)
    if not isinstance(log, list) or log.count(_FOLDED) != len(rows.sequence):
        return None
    tally = rows.tally(steps=True)
    return None if tally is None else (state, tally)


def read_lines(lines) -> Tally | None:
    """The tally of the dict lines among ``lines``; None where the careful path must read them."""
    rows = Rows("epoch")
    try:
        while block := list(islice(lines, _BLOCK_LINES)):
            dict_lines = list(filter(_HAS_DICT, block))
            if dict_lines and not rows.fold_json_lines(dict_lines):
                for line in dict_lines:
                    for match in DICT_LINE.finditer(line):
                        rows.fold(parse_dict(match.group()))
    except PARSE_ERRORS:
        return None
    return rows.tally(steps=False)


class Rows:
    """Log rows folded by key shape, in the order the record wrote them. Only dicts
    holding ``key`` are rows; others are left as they are."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.shapes: dict[tuple, tuple[int, list]] = {}  # keys -> (index, the rows' values one after another)
        self.sequence: list[int] = []  # the shape index of each row

    def fold(self, row: dict):
        if self.key not in row:
            return row
        keys = tuple(row)
        shape = self.shapes.get(keys)
        if shape is None:
            shape = self.shapes[keys] = (len(self.shapes), [])
        shape[1].extend(row.values())
        self.sequence.append(shape[0])
        return _FOLDED

    def fold_json_lines(self, lines: list[str]) -> bool:
        """Fold ``lines`` read as one JSON array, if each is a plain dict line that the
        careful path reads whole and JSON reads as ``literal_eval`` does; else fold
        nothing and return False."""
        text = "[" + ",".join(lines) + "]"
        n = len(lines)
        # single quotes only, no escapes, one dict per line, no nested braces
        if '"' in text or "\\" in text or not text.count("{") == text.count("}") == text.count("{'") == n:
            return False
        sequence, lengths = len(self.sequence), {keys: len(values) for keys, (_, values) in self.shapes.items()}
        if text.count(_EPOCH_ITEM) == n and self._fold_json(text.replace("'", '"'), n, lengths):
            return True
        del self.sequence[sequence:]
        for keys, (_, values) in self.shapes.items():
            del values[lengths.get(keys, 0):]
        return False

    def _fold_json(self, text: str, n: int, lengths: dict) -> bool:
        try:
            parsed = json.loads(text, object_hook=self.fold, parse_constant=_refuse)
        except (ValueError, RecursionError):
            return False
        if len(parsed) != n or parsed.count(_FOLDED) != n:
            return False
        for keys, (_, values) in self.shapes.items():
            new = values[lengths.get(keys, 0):]
            # DICT_LINE starts at a name other than epoch; JSON's true, null, lists are not literal_eval's
            if new and (not _FIRST_KEY.match(keys[0]) or keys[0] == "epoch" or not set(map(type, new)) <= {int, float, str}):
                return False
        return True

    def tally(self, *, steps: bool) -> Tally | None:
        """The metric points of the rows, positioned by their ``step`` (else by epoch);
        None where a row or metric needs the careful path."""
        sequence = np.array(self.sequence, dtype=np.intp)
        tally = Tally()
        streams: dict[str, list] = {}
        last_row = -1
        for keys, (index, flat) in self.shapes.items():
            if "epoch" not in keys or not flat:
                continue  # rows without an epoch are not read
            width = len(keys)
            row_ids = np.flatnonzero(sequence == index)
            columns = {key: flat[j::width] for j, key in enumerate(keys)}
            epochs, has_epoch = _floats(columns["epoch"])
            if steps:
                step = columns["step"]
                if set(map(type, step)) != {int} or min(step) < -MAX_INDEX or max(step) > MAX_INDEX:
                    return None
                positions = np.array(step, dtype=np.int64)
            else:
                positions = epochs
            summary = has_epoch & _floats(columns[SUMMARY_KEY])[1] if SUMMARY_KEY in columns else np.zeros(len(row_ids), bool)
            tally.summaries += [(r, dict(zip(keys, flat[i * width : (i + 1) * width]))) for i, r in zip(np.flatnonzero(summary), row_ids[summary])]
            metrics = [(j, key, *_floats(columns[key])) for j, key in enumerate(keys)
                       if isinstance(key, str) and key not in ("step", "epoch") and not NOT_METRIC.search(key)]
            metric_row = has_epoch & ~summary & np.logical_or.reduce([present for *_, present in metrics], initial=False)
            if not metric_row.any():
                continue
            if not (np.abs(epochs[metric_row]) <= MAX_INDEX).all():
                return None
            epoch_of_row = np.zeros(len(row_ids), np.int64)
            epoch_of_row[metric_row] = np.maximum(1, np.ceil(epochs[metric_row] - 1e-9))  # steps.epoch_of_fraction
            last = np.flatnonzero(metric_row)[-1]
            if row_ids[last] > last_row:
                last_row, tally.last_epoch = row_ids[last], float(epochs[last])
            for j, key, values, present in metrics:
                m = metric_row & present
                streams.setdefault(canonical(key), []).append((row_ids[m], np.full(m.sum(), j), values[m], positions[m], epoch_of_row[m]))
        tally.summaries = [row for _, row in sorted(tally.summaries, key=lambda t: t[0])]
        for name, parts in streams.items():
            rows, order, values, positions, epochs = (np.concatenate(column) for column in zip(*parts))
            if len(parts) > 1:
                by_write = np.lexsort((order, rows))
                rows, order, values, positions, epochs = rows[by_write], order[by_write], values[by_write], positions[by_write], epochs[by_write]
            if (positions[1:] < positions[:-1]).any():
                return None  # a resumed run: the careful path drops the overwritten points
            streams[name] = (rows[0], order[0]), values, positions, epochs
        tally.points = {name: points for name, (_, *points) in sorted(streams.items(), key=lambda item: item[1][0])}
        return tally


def _refuse(constant: str):
    raise ValueError(f"{constant} is not a Python literal")


def _floats(column: list) -> tuple[np.ndarray, np.ndarray]:
    """A column's values as floats, and where they are numbers (``number``)."""
    if set(map(type, column)) <= {float, int}:
        try:
            return np.array(column, dtype=float), np.ones(len(column), bool)
        except OverflowError:  # an int beyond any float: number() makes it inf
            pass
    parsed = [number(v) for v in column]
    return np.array([np.nan if v is None else v for v in parsed], dtype=float), np.array([v is not None for v in parsed])


class Tally:
    """The points of each metric in the order written, as ``StepLog`` gives them:
    epoch rows, step series, and the epoch of a step; plus the summary rows and the
    fractional epoch of the last row with metrics."""

    def __init__(self) -> None:
        self.events: list = []  # a tallied record has no resume
        self.points: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # name -> values, positions, epochs
        self.summaries: list = []
        self.last_epoch: float | None = None

    def epoch_rows(self) -> dict[int, dict[str, float]]:
        rows: dict[int, dict[str, float]] = {}
        for name, (values, _, epochs) in self.points.items():
            by_epoch = np.argsort(epochs, kind="stable")
            starts = np.flatnonzero(np.diff(epochs[by_epoch], prepend=-1))
            for epoch, group in zip(epochs[by_epoch][starts].tolist(), np.split(values[by_epoch], starts[1:])):
                rows.setdefault(epoch, {})[name] = _aggregate(name, group.tolist())
        return rows

    def step_series(self, *, renumber: bool = False) -> dict[str, StepSeries]:
        last_writes = {name: np.append(positions[1:] != positions[:-1], True) for name, (_, positions, _) in self.points.items()}
        if renumber:
            ranked = np.unique(np.concatenate([p[last_writes[n]] for n, (_, p, _) in self.points.items()] or [[]]))
        out = {}
        for name, (values, positions, epochs) in self.points.items():
            last = last_writes[name]
            steps = np.searchsorted(ranked, positions[last]) + 1 if renumber else positions[last]
            out[name] = StepSeries(steps, values[last], epochs[last])
        return out

    def epoch_at(self, step) -> int | None:
        """The epoch of the first point written at ``step``."""
        for _, positions, epochs in self.points.values():
            hit = np.flatnonzero(positions == step) if step is not None else ()
            if len(hit):
                return int(epochs[hit[0]])
        return None
