"""Markdown tables of a run's epochs or evaluations (a README's results table), and
the Hugging Face model card that Trainer writes: its "Training results" table
(``| Training Loss | Epoch | Step | Validation Loss | Accuracy |``, ``No log`` before
the first logged training loss) and its "Training hyperparameters" list, kept in
``Run.info["settings"]`` (``learning_rate``, ``batch_size`` -- the total batch when the
card gives one --, ``optimizer`` by its lower-case name, ``num_epochs``).

A table is read when its header row names an epoch or step column and a loss- or
accuracy-like column, and a rule row (``|---|``, or ``-- | --`` where GitHub made a
pasted notebook table into Markdown) follows it; other tables of the
document are passed over. Rows are numbered by their epoch as printed (Trainer's
fractional epochs, ``2.07``, too), or by their step when the table has no epoch
column or prints one twice.
"""

from __future__ import annotations

import math
import re

from ..names import TEST_AS_VALIDATION_NOTE, test_as_validation
from ..run import Run, build_run
from .numbers import parse_number
from .steps import CompleteLines
from .stitch import EpochRows
from .tables import EPOCH_COLUMNS, STEP_COLUMNS, Row, Table

FORMAT = "markdown-table"
MIN_POINTS = 2

# a header row naming an epoch or step column, then the rule row ("|:---:|", or "-- | --"
# where GitHub turned a pasted notebook table into Markdown)
_HEADER_ROW = re.compile(r"^(?=[^\n]*\|)[^\n]*\b(?:epoch|step)s?\b[^\n]*\n[ \t]*\|?[ \t]*:?--[-|: \t]*$", re.I | re.M)
_SETTING = re.compile(r"^\s*[-*]\s+([A-Za-z_][\w ]*?)\s*:\s*(.+?)\s*$")
# the model card's names for what the advice reads; the effective batch (over devices
# and accumulation steps) wins over the per-device one
_SETTINGS = {
    "learning_rate": "learning_rate",
    "total_train_batch_size": "batch_size",
    "train_batch_size": "batch_size",
    "optimizer": "optimizer",
    "num_epochs": "num_epochs",
}


def sniff(source) -> float:
    for found in _HEADER_ROW.finditer(source.head):
        if _training_table(Table.parse(found.group().splitlines()[0])):
            return 0.9
    return 0.0


def read(source) -> Run:
    rows: list[Row] = []
    stated: dict = {}  # the card's own names
    table: Table | None = None
    with source.open_text() as fh:
        lines = CompleteLines(fh)
        for line in lines:
            if table is not None:
                row = table.row(line)
                if row is not None:
                    if row is not True:
                        rows.append(row)
                    continue
                table = None
            if "|" in line:
                table = _training_table(Table.parse(line))
                continue
            setting = _SETTING.match(line)
            if setting and setting.group(1) in _SETTINGS:
                name, text = setting.groups()
                stated.setdefault(name, _optimizer(text) if name == "optimizer" else _value(text))
    settings: dict = {}
    for name, key in _SETTINGS.items():  # in order of preference
        if name in stated:
            settings.setdefault(key, stated[name])
    epochs, note, by_point = _positions(rows)
    notes = [note] if note else []
    if table is not None and lines.cut is not None:
        notes.append(lines.cut_note())
    built = EpochRows()
    for at, row in zip(epochs, rows):
        built.add(at, row.metrics, merge=True)
    table_rows = test_as_validation(built.rows)
    if table_rows is not built.rows:
        notes.append(TEST_AS_VALIDATION_NOTE)
    info: dict = {"settings": settings} if settings else {}
    if by_point:
        info["x_axis"] = "step"
    planned = settings.get("num_epochs")
    return build_run(
        table_rows, source=source.name, format=FORMAT, events=built.events, notes=notes, info=info,
        planned_epochs=math.ceil(planned) if isinstance(planned, (int, float)) else None,
    )


def _training_table(table: Table | None) -> Table | None:
    """``table`` when it has the epoch or step column of a training record."""
    if table is None or not set(table.names) & (EPOCH_COLUMNS | STEP_COLUMNS):
        return None
    return table


def _positions(rows: list[Row]) -> tuple[list[int | float], str | None, bool]:
    """The number of each row, a note on how it was found, and whether the rows are
    points rather than epochs: epochs as printed (Trainer's fractional ones too) while
    they keep the rows apart, else the step or the row's place."""
    epochs = [r.epoch for r in rows]
    if all(e is not None and math.isfinite(e) for e in epochs) and len(set(epochs)) == len(epochs):
        return [int(e) if float(e).is_integer() else float(e) for e in epochs], None, False
    why = "epochs printed more than once" if all(e is not None for e in epochs) else "no epoch column"
    steps = [r.step for r in rows]
    if all(s is not None for s in steps) and len(set(steps)) == len(steps):
        return [int(s) for s in steps], f"{why}: each row is one point, numbered by its step", True
    return list(range(1, len(rows) + 1)), f"{why}: each row is one point, numbered from 1", True


def _optimizer(text: str) -> str:
    """The optimizer's name in lower case: ``Adam with betas=...`` -> ``adam``,
    ``Use OptimizerNames.ADAMW_TORCH_FUSED with ...`` -> ``adamw_torch_fused``."""
    name = re.split(r"\s+with\s+", text, maxsplit=1)[0]
    return re.sub(r"^(?:Use\s+)?(?:OptimizerNames\.)?", "", name.strip()).lower()


def _value(text: str):
    """A setting's number, or its text (``Adam with betas=(0.9,0.999)``)."""
    try:
        value = parse_number(text)
    except ValueError:
        return text
    return int(value) if value is not None and value.is_integer() and "." not in text and "e" not in text.lower() else value
