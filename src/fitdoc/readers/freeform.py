"""Free-form training logs: what ``print`` and ``logging`` write in PyTorch loops.

Recognised lines (anything before the word ``epoch`` is ignored, so timestamps and
absl/logging prefixes do not matter)::

    Epoch: 3 \tTraining Loss: 0.41 \tValidation Loss: 0.52
    epoch 7 | train_loss 0.3 | val_acc 0.81
    [Epoch 3/10] loss=0.41, val_loss=0.52
    I1123 12:00:00.123 12345 train.py:88] epoch 3 loss 0.4
    Epoch 3: 100%|####| 50/50 [00:01<00:00, train_loss=0.3, val_loss=0.5]

tables with a header row (``epoch  train_loss  val_loss  val_acc``; fastai's
``epoch train_loss valid_loss accuracy time``, whose metrics are on validation) and the
PyTorch tutorial's ``[1,  2000] loss: 2.235`` (``[epoch, batch]``). A line
``Epoch 3/10`` alone opens epoch 3 for the lines that follow it and start with a phase
word (``train Loss: 0.41 Acc: 0.85`` / ``val Loss: 0.52 Acc: 0.80``). A phase word
(train, training, val, valid, validation, eval, test) applies to the metric after it
and to the following metrics of the line that have none. Lines that also print a
step, batch or iteration count (or a bracketed ``[640/60000]`` position) are per-step lines: their mean over the epoch is used
for a metric the epoch's own lines do not print.

Names are mapped to canonical series (``Training Loss`` -> ``loss``, ``Validation
Accuracy`` -> ``val_accuracy``, ``Valid Loss`` -> ``val_loss``); other metrics keep
their names. ``test`` metrics count as validation only when the log has no other
validation metric. Epochs are numbered as printed; an epoch printed again after later
ones (a resumed run) keeps its last write and gives a ``resume`` event. A cut last line
is ignored with a note.
"""

from __future__ import annotations

import math
import re

from ..names import canonical
from ..run import Run, build_run
from .numbers import NUMBER_PATTERN, index_or_none, parse_number
from .steps import CompleteLines
from .stitch import EpochRows
from .textio import clean

FORMAT = "text-log"

_PHASES = {
    "train": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val", "eval": "val", "evaluation": "val",
    "test": "test", "testing": "test",
}  # fmt: skip
_PHASE_WORD = "|".join(sorted(_PHASES, key=len, reverse=True))
PAIR = re.compile(
    rf"(?<![\w./-])(?:({_PHASE_WORD})\s+)?([A-Za-z][\w./-]*)\s*[:=]?\s*({NUMBER_PATTERN})(?:\s*/\s*(\d+))?(%)?(?![\w.])",
    re.I,
)
EPOCH_WORD = re.compile(r"(?<![\w.])epoch(?![a-z])", re.I)
PHASE_LINE = re.compile(rf"^\s*({_PHASE_WORD})(?:\b|_)", re.I)
_PHASE_PREFIX = re.compile(rf"({_PHASE_WORD})[_/.]", re.I)
_TABLE_RULE = re.compile(r"^[\s|:+=-]*$")
_BRACKETS = re.compile(r"[\[\](){}]")
_TOKENS = re.compile(r"[\s|,;]+")
_NAME = re.compile(r"^[A-Za-z][\w./-]*$")
_EPOCH_NAMES = {"epoch", "ep"}
# "[1,  2000] loss: 2.235": the PyTorch tutorial's "[epoch, batch]" prefix
BRACKET_EPOCH = re.compile(r"^\s*\[\s*(\d+)\s*,\s*\d+\s*\]")
_CLOCK = re.compile(r"^\d+:\d{2}(?::\d{2})?$")  # a time column ("00:10") in a table
_COUNTER = re.compile(r"\[\s*\d+\s*/\s*\d+")  # "[640/60000 (1%)]": a position inside the epoch
_STEP_NAMES = {"step", "steps", "batch", "iter", "iteration", "it", "global_step"}
_NOT_METRICS = {"eta", "v_num", "from", "to", "of", "is", "was", "at", "in", "on", "by", "after", "took", "for", "with", "and", "than"}


def sniff(source) -> float:
    parser = _Parser()
    records = sum(1 for line in source.head.splitlines() if parser.parse(clean(line)) is not None)
    if records >= 3:
        return 0.5
    return 0.2 if records else 0.0


def read(source) -> Run:
    parser = _Parser()
    rows = EpochRows()
    pending_epoch, pending = None, {}  # per-step values of the current epoch
    notes = []

    def flush():
        if pending:
            rows.add(pending_epoch, {k: math.fsum(v) / len(v) for k, v in pending.items()}, merge=True)
            pending.clear()

    with source.open_text() as fh:
        lines = CompleteLines(fh)
        for line in lines:
            record = parser.parse(clean(line))
            if record is None:
                continue
            epoch, metrics, per_step = record
            if epoch != pending_epoch:
                flush()
            if per_step:
                pending_epoch = epoch
                for k, v in metrics.items():
                    pending.setdefault(k, []).append(v)
            else:
                flush()
                rows.add(epoch, metrics, merge=True)
        if pending:  # the log ends after per-step lines: the epoch may not be over
            notes.append(f"epoch {pending_epoch} is read from its per-step lines up to the end of the log (it may be partial)")
        flush()
    if lines.cut is not None and parser.parse(clean(lines.cut)) is not None:
        notes.append(lines.cut_note())
    table = _test_as_validation(rows.rows)
    if table is not rows.rows:
        notes.append("test metrics read as validation metrics (the log has no other validation metric)")
    for name in _percent_accuracies(table):
        for row in table.values():
            if name in row:
                row[name] /= 100
        notes.append(f"{name} is printed in percent: read as a fraction")
    return build_run(table, source=source.name, format=FORMAT, events=rows.events, planned_epochs=parser.planned, notes=notes)


class _Parser:
    """Turns lines into ``(epoch, {metric: value}, per_step)`` records, keeping the
    state that spans lines: the open epoch and a table header."""

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.header: list[str] | None = None
        self.planned: int | None = None

    def parse(self, line: str):
        if self.header is not None:
            if _TABLE_RULE.match(line):
                return None
            record = self._table_row(line)
            if record is not None:
                return record
            self.header = None
        tokens = [t for t in _TOKENS.split(line.strip()) if t]
        if len(tokens) >= 2 and all(_NAME.match(t) for t in tokens) and any(t.lower() in _EPOCH_NAMES for t in tokens):
            self.header = tokens
            return None
        bracket = BRACKET_EPOCH.match(line)
        if bracket and index_or_none(bracket.group(1)) is not None:
            self.epoch = int(bracket.group(1))
            metrics = {name: value for name, value, _ in _pairs(line[bracket.end():]) if name not in _STEP_NAMES | _EPOCH_NAMES}
            return (self.epoch, metrics, True) if metrics else None
        found = EPOCH_WORD.search(line)
        if found:
            pairs = _pairs(line[found.start():])
            if not pairs or pairs[0][0] not in _EPOCH_NAMES or index_or_none(pairs[0][1]) is None:
                return None
            (_, epoch, planned), pairs = pairs[0], pairs[1:]
            self.epoch = int(epoch)
            if planned:
                self.planned = max(planned, self.planned or 0)
        elif self.epoch is not None and PHASE_LINE.match(line):
            word = PHASE_LINE.match(line).group(1).lower()
            pairs = _pairs(line, _PHASES[word])
        else:
            return None
        per_step = any(name in _STEP_NAMES for name, _, _ in pairs) or bool(_COUNTER.search(line))
        metrics = {name: value for name, value, _ in pairs if name not in _STEP_NAMES | _EPOCH_NAMES}
        return (self.epoch, metrics, per_step) if metrics else None

    def _table_row(self, line: str):
        cells = [t for t in _TOKENS.split(line.strip()) if t]
        if len(cells) != len(self.header):
            return None
        row = {}
        for name, cell in zip((h.lower() for h in self.header), cells):
            if _CLOCK.match(cell):
                continue  # a time column
            try:
                row[name] = parse_number(cell)
            except ValueError:
                return None
        epoch = next((row.pop(k) for k in list(row) if k in _EPOCH_NAMES), None)
        if index_or_none(epoch) is None:
            return None
        self.epoch = int(epoch)
        return self.epoch, {_table_name(k, self.header): v for k, v in row.items() if v is not None}, False


def _table_name(column: str, header: list[str]) -> str:
    """Canonical name of a table column. In fastai's tables (``train_loss valid_loss
    accuracy``) the metric columns after ``valid_loss`` are measured on validation."""
    lowered = [h.lower() for h in header]
    if "valid_loss" in lowered and lowered.index(column) > lowered.index("valid_loss") and not column.startswith(("train", "val")):
        return canonical("val_" + column)
    return canonical(column)


def _pairs(text: str, phase: str | None = None) -> list[tuple[str, float, int | None]]:
    """``(canonical name, value, denominator of N/M)`` of the ``name value`` pairs;
    ``phase`` is the set a line's leading word names (``Test set: Average loss: ...``).
    A metric printed as ``9680/10000`` or ``97.1%`` is read as a fraction."""
    out = []
    for match in PAIR.finditer(_BRACKETS.sub(" ", text)):
        word, name, value, planned, percent = match.groups()
        if name.lower() in _NOT_METRICS:
            continue
        if word:
            phase = _PHASES[word.lower()]
        low = name.lower()
        if low in _EPOCH_NAMES or low in _STEP_NAMES:
            out.append((low, float(value), index_or_none(planned) if planned else None))
            continue
        full = f"{phase}_{name}" if phase and not _PHASE_PREFIX.match(name) else name
        number = parse_number(value)
        if planned and float(planned) > 0:
            number /= float(planned)
        elif percent:
            number /= 100
        out.append((canonical(full), number, None))
    return out


def _percent_accuracies(rows: dict[int, dict[str, float]]) -> list[str]:
    """Accuracy columns printed as percentages without a % sign (values above 1, at most 100)."""
    names = sorted({k for row in rows.values() for k in row if k.endswith("accuracy")})
    out = []
    for name in names:
        values = [row[name] for row in rows.values() if name in row and math.isfinite(row[name])]
        if values and max(values) > 1.0 and max(values) <= 100.0 and min(values) >= 0.0:
            out.append(name)
    return out


def _test_as_validation(rows: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
    names = {k for row in rows.values() for k in row}
    if any(n.startswith("val_") for n in names) or not any(n.startswith("test_") for n in names):
        return rows
    rename = {n: canonical("val_" + n[len("test_"):]) if n.startswith("test_") else n for n in names}
    return {epoch: {rename[k]: v for k, v in row.items()} for epoch, row in rows.items()}
