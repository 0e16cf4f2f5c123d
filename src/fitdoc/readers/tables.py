"""Text tables of metrics, shared by the readers of pasted and printed tables: a header
row naming the columns, then rows of values only.

Cells are split by the strongest delimiter of the header: pipes (Markdown), tabs,
commas, runs of two or more spaces (names like ``Training Loss``), single spaces. A row
has one cell per column, or one more in front (the index of a printed pandas table);
``No log``, ``-`` and ``NA`` cells are missing, clock times (``09:27``, and fastai v1's
last cell ``(00:13)``) are skipped, an elided row (``...``) is passed over. A header
must name at least one loss- or accuracy-like column; columns named epoch or step
(W&B's ``_step``) give each row its position; W&B's other ``_`` columns are passed over.
In fastai's and Trainer's tables the unprefixed metric columns after the validation
loss (``valid_loss accuracy``, ``Validation Loss Accuracy F1``) are measured on
validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..names import canonical, is_metric_name
from .numbers import NUMBER_PATTERN, parse_number

EPOCH_COLUMNS = {"epoch", "epochs", "ep"}
STEP_COLUMNS = {"step", "_step", "steps", "iter", "iteration", "iterations", "global_step", "global step"}
_PIPE = re.compile(r"(?<!\\)\|")
_WIDE = re.compile(r" {2,}")
_NAME = re.compile(r"^_?[A-Za-z][\w .:/()%@-]{0,39}$")
_CLOCK = re.compile(r"^\d+:\d{2}(?::\d{2})?(?:\.\d+)?$")
_TIME_IN_PARENTHESES = re.compile(r"\s+\(\d+:\d{2}(?::\d{2})?\)\s*$")
_NUMBER = re.compile(NUMBER_PATTERN)
_MISSING = {"no log", "-", "--", "na", "n/a", "none", "null", ""}
_NO_LOG = re.compile(r"\bNo log\b", re.I)
_ELIDED = {"...", "…", "⋮"}


def split_cells(line: str) -> tuple[list[str], str]:
    """The cells of a line and the delimiter that split them."""
    s = line.strip()
    if "|" in s:
        return [c.strip() for c in _PIPE.split(s.strip("|"))], "|"
    for delim in ("\t", ","):
        if delim in s:
            return [c.strip() for c in s.split(delim)], delim
    if _WIDE.search(s):
        return _WIDE.split(s), "  "
    return s.split(), " "


def _split_by(line: str, delim: str) -> list[str]:
    s = line.strip()
    if delim == "|":
        return [c.strip() for c in _PIPE.split(s.strip("|"))]
    if delim in ("\t", ","):
        return [c.strip() for c in s.split(delim)]
    s = _NO_LOG.sub("-", s)  # Trainer's cell for a training loss not logged yet
    return _WIDE.split(s) if delim == "  " else s.split()


@dataclass
class Row:
    epoch: float | None
    step: float | None
    index: float | None  # the leading cell a header has no name for
    metrics: dict[str, float | None]


class Table:
    """A header's columns; :meth:`row` reads a line under it."""

    def __init__(self, columns: list[str], delimiter: str):
        self.columns = columns
        self.delimiter = delimiter
        self.indexed = columns[0] == ""  # "  ,loss,acc": pandas' unnamed index column
        names = columns[1:] if self.indexed else columns
        self.names = [_column_name(c, names) for c in names]

    @classmethod
    def parse(cls, line: str) -> Table | None:
        """The table a header line opens, or None when the line is not a header."""
        cells, delim = split_cells(line)
        if delim == "|" and set("".join(cells)) <= set(":- "):
            return None  # a Markdown rule row
        named = cells[1:] if cells and cells[0] == "" else cells
        if len(named) < 2 or not all(_is_name(c) for c in named):
            return None
        lowered = [c.lower() for c in named]
        if len(set(lowered)) < len(lowered):
            return None  # a column named twice: which one is the metric is anyone's guess
        if not any(is_metric_name(c) for c, low in zip(named, lowered) if low not in EPOCH_COLUMNS | STEP_COLUMNS):
            return None
        return cls(cells, delim)

    def row(self, line: str) -> Row | None | bool:
        """The row of a line; ``True`` for an elided row (``...``) that keeps the table
        open; None when the line is not a row of this table."""
        line = _TIME_IN_PARENTHESES.sub("", line)
        cells = _split_by(line, self.delimiter)
        width = len(self.names)
        if len(cells) not in (width, width + 1) and self.delimiter != "|":
            cells = line.split()  # a pasted row whose tabs became spaces, or "No log" in a wide table
        if self.delimiter == "|" and cells and set("".join(cells)) <= set(":- "):
            return True  # the Markdown rule under the header
        if cells and all(c in _ELIDED for c in cells):
            return True
        if len(cells) == width + 1:
            index, cells = cells[0], cells[1:]
        elif len(cells) == width and not self.indexed:
            index = None
        else:
            return None
        try:
            index = parse_number(index) if index is not None else None
        except ValueError:
            return None
        if index is not None and not float(index).is_integer():
            return None
        values: dict[str, float | None] = {}
        for name, cell in zip(self.names, cells):
            if _CLOCK.match(cell) or name == "time" or name.startswith("_"):
                continue  # clocks, and W&B's own columns (_runtime, _timestamp)
            value = _cell(cell)
            if value is False:
                return None
            values[name] = value
        epoch = next((values.pop(n) for n in list(values) if n in EPOCH_COLUMNS), None)
        step = next((values.pop(n) for n in list(values) if n in STEP_COLUMNS), None)
        if not any(v is not None for v in values.values()):
            return None
        return Row(epoch, step, index, {k: v for k, v in values.items() if v is not None})


def _is_name(cell: str) -> bool:
    """A column name: a few words, none of them a number (``Train loss 0.3``, ``Loss: 0.71)``
    are values)."""
    words = cell.split()
    return bool(_NAME.match(cell)) and len(words) <= 4 and not any(_NUMBER.fullmatch(w.strip(":=,()")) for w in words)


def _cell(cell: str) -> float | None | bool:
    """A cell's number, None when missing, False when it is not a value."""
    low = cell.strip().strip("`*").lower()
    if low in _MISSING:
        return None
    percent = low.endswith("%")
    try:
        value = parse_number(low.rstrip("%"))
    except ValueError:
        return False
    return value / 100 if percent and value is not None else value


def _column_name(column: str, columns: list[str]) -> str:
    """Canonical name of a column; epoch and step columns keep a plain key."""
    low = column.lower()
    if low in EPOCH_COLUMNS or low in STEP_COLUMNS:
        return low
    name = canonical(column)
    held_out = [i for i, c in enumerate(columns) if canonical(c) == "val_loss"]
    mine = columns.index(column)
    is_plain = name == canonical(low) and not low.startswith(("train", "val", "valid", "eval", "test"))
    if held_out and mine > held_out[0] and is_plain and canonical("val_" + low) not in {canonical(c) for c in columns}:
        return canonical("val_" + low)
    return name
