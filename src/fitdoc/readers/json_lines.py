"""JSON Lines of metric rows, one JSON object per line: W&B history exported with
``scan_history()`` (``{"_step": 3, "_runtime": 12.1, "epoch": 1, "loss": 0.41}``) and
the logs of hand-written training loops (``{"epoch": 3, "loss": 0.41, "val_loss": 0.52}``).

A row's place is its ``epoch`` when every row states one (a fractional epoch ``0.25``
counts to epoch 1, as a Trainer's does), else its step (``_step``, ``step``,
``global_step``, ``iteration``), else its line. An epoch logged over several rows
holds the mean of a training metric and the last validation value and ``lr``; the
rows are kept per step too. W&B's ``_`` keys, clocks and counters, and values that are
not numbers (media, nested objects, null) are left out; a string holding a plain
decimal number (fairseq's ``"loss": "3.180"``) is that number. Lines cut or not JSON are
passed over with a note.
"""

from __future__ import annotations

import json

from ..errors import UnreadableRecord
from ..names import TEST_AS_VALIDATION_NOTE, is_bookkeeping, is_metric_name, test_as_validation
from ..run import Run, build_run
from .numbers import MAX_INDEX, is_number, plain_number
from .steps import CompleteLines, StepLog, epoch_of_fraction

FORMAT = "json-lines"
MIN_POINTS = 2
STEP_KEYS = ("_step", "step", "global_step", "iteration")
SNIFF_LINES = 20


def _metrics(entry: dict) -> dict[str, float]:
    numbers = {k: plain_number(v) for k, v in entry.items()
               if not k.startswith("_") and k not in STEP_KEYS and (k == "lr" or not is_bookkeeping(k))}
    return {k: v for k, v in numbers.items() if v is not None}


def sniff(source) -> float:
    """0.6 when most of the first lines are JSON objects and one holds a number under a
    metric's name (below the readers of specific JSON lines, such as OpenMMLab's)."""
    texts = [line.strip() for line in source.head.splitlines()[:SNIFF_LINES] if line.strip()]
    rows = []
    for text in texts:
        try:
            entry = json.loads(text) if text.startswith("{") else None
        except (ValueError, RecursionError):  # a cut last line, a 5000-digit integer, deep nesting
            continue
        if isinstance(entry, dict):
            rows.append(entry)
    if len(rows) < 2 or 2 * len(rows) < len(texts):
        return 0.0
    return 0.6 if any(is_metric_name(k) for r in rows for k in _metrics(r)) else 0.0


def read(source) -> Run:
    entries: list[dict] = []
    skipped = 0
    with source.open_text() as fh:
        lines = CompleteLines(fh)
        for line in lines:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                skipped += 1
                continue
            if not isinstance(entry, dict):
                skipped += 1
                continue
            entries.append(entry)
    notes = [lines.cut_note()] if lines.cut is not None else []
    if skipped:
        notes.append(f"{skipped} line(s) that are not JSON objects were skipped")
    return run_of_rows(entries, source=source.name, format=FORMAT, notes=notes)


def run_of_rows(entries, *, source: str, format: str, notes: list[str]) -> Run:
    """The run of metric rows (dicts, in the order they were logged), placed as the
    module's docstring says; also the history rows of a W&B run log."""
    rows: list[tuple[object, object, dict[str, float]]] = []  # (epoch, step, metrics)
    for entry in entries:
        metrics = _metrics(entry)
        if metrics:
            step = next((entry[k] for k in STEP_KEYS if is_number(entry.get(k))), None)
            rows.append((entry.get("epoch"), step, metrics))
    if not rows:
        raise UnreadableRecord(source, "no row holds a number under a metric's name")
    by_epoch = all(is_number(e) and abs(e) <= MAX_INDEX for e, _, _ in rows)
    by_step = not by_epoch and all(s is not None and abs(s) <= MAX_INDEX for _, s, _ in rows)
    if by_epoch:
        rows = _resumed(rows, notes)
    log = StepLog()
    for i, (epoch, step, metrics) in enumerate(rows, 1):
        position = step if step is not None else i
        if by_epoch:
            at = int(epoch) if float(epoch).is_integer() else epoch_of_fraction(epoch)
        else:
            at = int(position) if by_step else i
        log.add(position, at, metrics)
    info = {}
    if not by_epoch:
        info["x_axis"] = "step"
        notes.append("no epoch on every row: each row is one point, numbered by its step" if by_step
                     else "no epoch or step on every row: each row is one point, numbered by its line")
    logged = log.epoch_rows()
    epoch_rows = test_as_validation(logged)
    if epoch_rows is not logged:
        notes.append(TEST_AS_VALIDATION_NOTE)
    if min(epoch_rows, default=1) == 0:
        info["epoch_base"] = 0  # numbered from 0: epoch 10 is the 11th
    per_step = by_epoch and any(len(p) > len(epoch_rows) for p in log.points.values())
    extra = {"step_series": log.step_series()} if per_step else {}
    return build_run(epoch_rows, source=source, format=format, events=log.events, notes=notes, info=info, **extra)


def _resumed(rows: list, notes: list[str]) -> list:
    """The rows of a log whose epochs step back with the same metrics (a run resumed from
    a checkpoint, or logged again into the same file): from each such step back on, the
    later rows of an epoch replace the earlier ones instead of being averaged with them.
    Rows of other metrics logged later for earlier epochs (evaluations) are kept."""
    kept: list = []
    for row in rows:
        epoch, _, metrics = row
        if kept and epoch < kept[-1][0]:
            again = [r for r in kept if r[0] >= epoch and r[2].keys() & metrics.keys()]
            if again:
                last = max(r[0] for r in again)
                notes.append(f"the epochs go back from {last:g} to {epoch:g}: a resumed run; "
                             f"the later rows of epochs {epoch:g}-{last:g} replace the earlier ones")
                replaced = set(map(id, again))
                kept = [r for r in kept if id(r) not in replaced]
        kept.append(row)
    return kept
