"""The fast paths of the Trainer reader, and the row vocabulary both paths share.

Log rows are folded by key shape (the tuple of a row's keys; a log has a handful): the
values of the rows of a shape go one after another into one list, and the epoch and
step series are then computed column by column with numpy, with no object per point.
``trainer_state.json`` is parsed by ``json.loads`` with the fold as ``object_hook``, so
that its row dicts never pile up. Stdout is read in 1 MiB blocks, each parsed as one
JSON array when it holds nothing but plain dict lines that JSON reads as
``literal_eval`` does, else dict by dict like the careful path. What they cannot read
exactly as the careful path does (a metric going back: a resumed run; an epoch or step
out of range; a value neither number nor string; a dict line that does not parse; a cut
last line) makes them return None, and the careful path reads the record.
"""

from __future__ import annotations

import ast
import json
import re

import numpy as np

from ..names import canonical
from ..run import StepSeries
from .decimal_cells import read_cells
from .numbers import MAX_INDEX, parse_number
from .steps import epoch_value_of
from .textio import LeftToCareful, whole_line_blocks

DICT_LINE = re.compile(r"\{'[A-Za-z_][^{}\n]*'epoch': [^{}\n]*\}")
PARSE_ERRORS = (ValueError, TypeError, SyntaxError, RecursionError, MemoryError)
# Throughput and bookkeeping values, not training metrics.
NOT_METRIC = re.compile(r"(^|_)(runtime|samples_per_second|steps_per_second|tokens_per_second|total_flos|num_input_tokens_seen)$")
SUMMARY_KEY = "train_runtime"  # marks the end-of-training summary row

_NUMBER = r"-?(?:(?:\d+\.\d*|\.\d+|\d+)[eE][+-]?\d+|\d+\.\d*|\.\d+)"  # a float literal
_INT = r"-?(?:0+|[1-9]\d{0,30})"  # literal_eval refuses 05, and long ints are left to it
_ITEM = re.compile(rf"'([A-Za-z_][\w./-]*)': (?:({_NUMBER})|({_INT})|'([-+.\w]*)')(, |\}})", re.ASCII)
_FIRST_KEY = re.compile(r"[A-Za-z_]")
_EPOCH_ITEM = b"'epoch': "
_PLAIN_NAME = re.compile(r"[A-Za-z_][\w./-]*", re.ASCII)
_NUMBER_BYTES = 40  # a longer value is left to the other paths (an integer beyond floats, say)
_VALUE_ENDS = bytes.maketrans(b",}", b"\n\n")
_AS_JSON = bytes.maketrans(b"'\n", b'",')  # dict lines to the items of a JSON array
_BLOCK_BYTES = 1 << 20  # read at a time: memory stays flat in the file size
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


def read_lines(source) -> Tally | None:
    """The tally of the dict lines of a stdout capture; None where the careful path must
    read it (stdin, not UTF-8, a cut last line, NUL bytes, a dict line that does not parse)."""
    rows = Rows("epoch")
    try:
        for buf, end, _ in whole_line_blocks(source, _BLOCK_BYTES):
            rows.fold_lines(buf[:end])
    except (LeftToCareful, *PARSE_ERRORS):
        return None
    return rows.tally(steps=False)


class Rows:
    """Log rows folded by key shape, in the order the record wrote them. Only dicts
    holding ``key`` are rows: ``fold`` returns the others as they are."""

    def __init__(self, key: str) -> None:
        self.shapes: dict[tuple, tuple[int, list]] = {}  # keys -> (index, the values of its rows one after another)
        self.bulk: dict[tuple, list] = {}  # keys -> the earlier rows: lists as those values, arrays of rows read in bulk
        self.sequence: list[int] = []  # the shape index of each row
        self.fold = _folder(key, self.shapes, self.sequence)

    def fold_lines(self, data: bytes) -> None:
        """Fold the dicts of ``data``, complete lines, as the careful path reads them."""
        if b"\r" in data:  # a line break for the careful path too
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not self._fold_plain_lines(data):
            for match in DICT_LINE.finditer(data.decode("utf-8", "replace")):
                self.fold(parse_dict(match.group()))

    def _fold_plain_lines(self, data: bytes) -> bool:
        """Fold ``data`` if its lines are plain dict lines, which the careful path reads
        whole: in bulk where they hold names and numbers only (``_fold_numbers``), else
        read as one JSON array where JSON reads them as ``literal_eval`` does; else fold nothing."""
        if b'"' in data or b"\\" in data:  # JSON reads the single quotes made double, without escapes
            return False
        buf = np.frombuffer(data, np.uint8)
        ends = np.flatnonzero(buf == ord("\n"))
        starts = np.concatenate(([0], ends[:-1] + 1))
        rows = len(ends)
        # each line a dict from its "{'" to its "}"
        if not ((buf[starts] == ord("{")).all() and (buf[starts + 1] == ord("'")).all() and (buf[ends - 1] == ord("}")).all()):
            return False
        if self._fold_numbers(buf, starts):
            return True
        # with the careful path's "'epoch': " once and no other 'epoch'
        if not data.count(_EPOCH_ITEM) == rows == data.count(b"'epoch'"):
            return False
        mark = len(self.sequence), {keys: len(values) for keys, (_, values) in self.shapes.items()}
        if self._fold_json(b"[" + data[:-1].translate(_AS_JSON) + b"]", rows, mark):
            return True
        del self.sequence[mark[0] :]
        for keys, (_, values) in self.shapes.items():
            del values[mark[1].get(keys, 0) :]
        return False

    def _fold_numbers(self, buf: np.ndarray, starts: np.ndarray) -> bool:
        """Fold the lines of ``buf`` (from ``starts``, each ``{'...}``) if each is a dict
        of distinct plain names, one of them ``epoch``, and plain numbers, ``{'name':
        number, ...}`` (a number may be quoted, ``'0.25'``, as transformers 5 prints
        floats), read in bulk: the values as ``float()`` reads them, each line's shape by
        its text without them; else fold nothing. A number ``literal_eval`` refuses or
        reads otherwise (an integer with a leading zero, ``-0``) is not plain."""
        quotes = np.flatnonzero(buf == ord("'"))
        opening = (buf[quotes - 1] == ord(" ")) & (buf[quotes - 2] == ord(":"))  # of a quoted value
        if opening.any():
            closing = (buf[quotes + 1] == ord(",")) | (buf[quotes + 1] == ord("}"))  # (a name's is followed by ":")
            opened = np.flatnonzero(opening)
            if opened[-1] + 1 == len(quotes) or not closing[opened + 1].all() or closing.sum() != len(opened):
                return False
            buf = np.delete(buf, quotes[opening | closing])  # the values bare: the numbers they hold
            quotes = np.flatnonzero(buf == ord("'"))
        if len(quotes) % 2:
            return False
        opens, closes = quotes[0::2], quotes[1::2]
        next_open = np.append(opens[1:], len(buf) + 1)
        # an item ends with ", '" before the next, or with "}\n{'" before the next line's
        last_item = buf[next_open - 2] == ord("\n")
        value_starts, value_ends = closes + 3, next_open - 2 - last_item  # a value ends at its "," or "}"
        lengths = value_ends - value_starts
        if not ((buf[closes + 1] == ord(":")).all() and (buf[closes + 2] == ord(" ")).all()
                and (buf[value_ends[~last_item] + 1] == ord(" ")).all() and lengths.min() > 0 and lengths.max() <= _NUMBER_BYTES):
            return False
        negative = buf[value_starts] == ord("-")
        lead, after = buf[value_starts + negative], buf[value_starts + negative + 1]  # (within the line: a value ends in "," or "}")
        if ((lead == ord("0")) & ((after - ord("0") <= 9) | negative & ((after == ord(",")) | (after == ord("}"))))).any():
            return False  # a leading zero, or -0
        # the values, a line each, and the text of each line without them
        in_value = _spans(len(buf), value_starts, value_ends + 1)
        found = read_cells(buf[in_value].tobytes().translate(_VALUE_ENDS), b",", 1)  # a number a line
        if found is None or found[1] is not None or found[0].size != len(value_starts):
            return False
        in_value[value_ends] = False
        skeletons = buf[~in_value].tobytes().split(b"\n")[:-1]
        if len(skeletons) != len(starts):
            return False
        local = {text: i for i, text in enumerate(dict.fromkeys(skeletons))}
        shapes = [_line_keys(text) for text in local]
        if None in shapes or any(SUMMARY_KEY in keys or "epoch" not in keys for keys in shapes):
            return False  # (a summary row keeps its integers: folded one by one)
        shape_of_line = np.array(list(map(local.__getitem__, skeletons)))
        first_item = np.flatnonzero(np.concatenate(([True], last_item[:-1])))
        number = found[0].ravel()
        index = np.empty(len(shapes), np.intp)
        for i, keys in enumerate(shapes):
            index[i], folded = self.shapes.setdefault(keys, (len(self.shapes), []))
            parts = self.bulk.setdefault(keys, [])
            if folded:  # (emptied in place: the folder extends this list)
                parts.append(folded[:])
                folded.clear()
            parts.append(number[first_item[shape_of_line == i][:, None] + np.arange(len(keys))])
        self.sequence.extend(index[shape_of_line].tolist())
        return True

    def _fold_json(self, array: bytes, rows: int, mark: tuple[int, dict]) -> bool:
        try:  # (bytes that are not UTF-8 raise UnicodeDecodeError: the careful path replaces them)
            parsed = json.loads(array, object_hook=self.fold, parse_constant=_refuse)
        except (ValueError, RecursionError):
            return False
        if not len(parsed) == parsed.count(_FOLDED) == len(self.sequence) - mark[0] == rows:
            return False  # each line a row
        new_shapes = [keys for keys, (_, values) in self.shapes.items() if len(values) > mark[1].get(keys, 0)]
        return all(_FIRST_KEY.match(keys[0]) and keys[0] != "epoch" for keys in new_shapes)  # as DICT_LINE starts

    def tally(self, *, steps: bool) -> Tally | None:
        """The metric points of the rows, positioned by their ``step`` (else by epoch);
        None where a row or metric needs the careful path."""
        sequence = np.array(self.sequence, dtype=np.intp)
        tally, streams, summaries, last = Tally(), {}, [], (-1, None)
        for keys, (index, folded) in self.shapes.items():
            parts = [*self.bulk.get(keys, ()), *[folded][: bool(folded)]]
            if "epoch" in keys and parts:  # rows without an epoch are not read
                shape = _shape_points(keys, parts, np.flatnonzero(sequence == index), steps)
                if shape is None:
                    return None
                for name, stream in shape[0]:
                    streams.setdefault(name, []).append(stream)
                summaries += shape[1]
                last = max(last, shape[2], key=lambda row_epoch: row_epoch[0])
        tally.summaries = [row for _, row in sorted(summaries, key=lambda row_summary: row_summary[0])]
        tally.last_epoch = last[1]
        for name, parts in streams.items():
            columns = [np.concatenate(column) for column in zip(*parts)]
            if len(parts) > 1:  # interleave the points of two shapes (or two keys) in their order of writing
                by_write = np.lexsort((columns[1], columns[0]))
                columns = [column[by_write] for column in columns]
            rows, order, values, positions, epochs = columns
            if (positions[1:] < positions[:-1]).any():
                return None  # a resumed run: the careful path drops the overwritten points
            streams[name] = (rows[0], order[0]), values, positions, epochs
        tally.points = {name: points for name, (_, *points) in sorted(streams.items(), key=lambda item: item[1][0])}
        return tally


def _shape_points(keys: tuple, parts: list, row_ids: np.ndarray, steps: bool):
    """The metric points of the rows of one key shape (``parts``: lists of the values
    of rows folded one by one, arrays of rows read in bulk), ``(name, (row ids, key
    position, values, positions, epochs))`` for each metric key; the summary rows ``(row
    id, row)``; and ``(row id, epoch)`` of the last row with metrics. None where the
    careful path must read them: a value neither number nor string, a brace in a name or
    string, a step that is not an int in range, an epoch out of range."""
    lists = [part for part in parts if isinstance(part, list)]
    # the folded values; all of them where the step or a summary is read (no bulk then)
    flat = lists[0] if len(lists) == 1 else [value for part in lists for value in part]
    types = set(map(type, flat))
    # what the careful path reads otherwise: a brace (DICT_LINE stops at it), true, null, a list, a dict
    if (any("{" in k or "}" in k for k in keys if isinstance(k, str)) or not types <= {int, float, str}
            or str in types and any("{" in v or "}" in v for v in flat if type(v) is str)):
        return None
    width = len(keys)
    values, present = _rows(parts, width)
    column = {key: j for j, key in enumerate(keys)}
    epochs, has_epoch = values[:, column["epoch"]], present[:, column["epoch"]]
    if steps:
        step = flat[column["step"] :: width]
        if set(map(type, step)) != {int} or min(step) < -MAX_INDEX or max(step) > MAX_INDEX:
            return None
        positions = np.array(step, dtype=np.int64)
    else:
        positions = epochs
    summary = has_epoch & present[:, column[SUMMARY_KEY]] if SUMMARY_KEY in column else np.zeros(len(row_ids), bool)
    summaries = [(row_ids[i], dict(zip(keys, flat[i * width : (i + 1) * width]))) for i in np.flatnonzero(summary)]
    metrics = [j for j, key in enumerate(keys) if isinstance(key, str) and key not in ("step", "epoch") and not NOT_METRIC.search(key)]
    metric_row = has_epoch & ~summary & present[:, metrics].any(axis=1)
    if not metric_row.any():
        return [], summaries, (-1, None)
    if not (np.abs(epochs[metric_row]) <= MAX_INDEX).all():
        return None
    epoch_of_row = np.zeros(len(row_ids), np.int64)
    epoch_of_row[metric_row] = np.maximum(1, np.ceil(epochs[metric_row] - 1e-9))  # steps.epoch_of_fraction
    last = np.flatnonzero(metric_row)[-1]
    points = []
    for j in metrics:
        m = metric_row & present[:, j]
        points.append((canonical(keys[j]), (row_ids[m], np.full(m.sum(), j), values[m, j], positions[m], epoch_of_row[m])))
    return points, summaries, (row_ids[last], float(epochs[last]))


def _rows(parts: list, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``parts`` as floats, and where they are numbers."""
    rows = [(part, np.ones(part.shape, bool)) if isinstance(part, np.ndarray)
            else tuple(a.reshape(-1, width) for a in _floats(part)) for part in parts]
    if len(rows) == 1:
        return rows[0]
    return np.concatenate([values for values, _ in rows]), np.concatenate([present for _, present in rows])


def _folder(key: str, shapes: dict, sequence: list):
    """``Rows.fold``: a closure, as it runs once a row."""
    append, extenders = sequence.append, {}  # keys -> (index, extend of the values of its shape)

    def fold(row: dict):
        if key not in row:
            return row
        keys = tuple(row)
        shape = extenders.get(keys)
        if shape is None:
            index, values = shapes.setdefault(keys, (len(shapes), []))
            shape = extenders[keys] = index, values.extend
        shape[1](row.values())
        append(shape[0])
        return _FOLDED

    return fold


def _spans(size: int, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """A mask of ``size``, true from each of ``starts`` to its stop (spans in order, apart)."""
    runs = np.empty(2 * len(starts) + 1, np.intp)
    runs[0::2] = np.append(starts, size) - np.concatenate(([0], stops))
    runs[1::2] = stops - starts
    return np.repeat(np.arange(len(runs)) % 2 == 1, runs)


def _line_keys(skeleton: bytes) -> tuple[str, ...] | None:
    """The keys of a dict line written without its values, ``{'loss': , 'epoch': }``,
    when they are plain distinct names and the first is not ``epoch`` (``DICT_LINE``
    would not match); else None."""
    if not (skeleton.startswith(b"{'") and skeleton.endswith(b"': }")):
        return None
    keys = skeleton[2:-4].decode("ascii", "replace").split("': , '")
    if len(set(keys)) < len(keys) or keys[0] == "epoch" or not all(_PLAIN_NAME.fullmatch(k) for k in keys):
        return None
    return tuple(keys)


def _refuse(constant: str):
    raise ValueError(f"{constant} is not a Python literal")


def _floats(column: list) -> tuple[np.ndarray, np.ndarray]:
    """A column's values (ints, floats, strings) as floats, and where they are numbers (``number``)."""
    try:  # NumPy reads each as float() does: as number() reads a number, or a string float() reads
        return np.array(column, dtype=float), np.ones(len(column), bool)
    except (OverflowError, ValueError):  # an int beyond any float (number() makes it inf), a string of no float
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
                rows.setdefault(epoch, {})[name] = epoch_value_of(name, group.tolist())
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
