"""Hugging Face ``Trainer``: ``trainer_state.json`` and the dict lines it prints.

Sources: a ``trainer_state.json``; a checkpoint or output directory holding one (the
top-level file, else the latest ``checkpoint-N/``); or captured stdout, where Trainer
prints ``{'loss': 0.84, 'epoch': 0.25}`` lines (transformers 5 prints the numbers as
strings, ``'0.8473'``) between progress bars and other output.

Epochs: Trainer logs fractional epochs; a row logged at epoch ``e`` in ``(k-1, k]``
belongs to epoch ``k`` (1-based, so ``1.0`` -- the end of the first epoch -- is epoch
1). The epoch series hold the mean of the training rows of each epoch and the last
evaluation of each epoch; every row is kept by step in ``Run.step_series`` (numbered
by log line for stdout, which prints no step). A last epoch cut short (``max_steps``,
an interrupted run) is kept and noted; an epoch the record shows training went past
(the end-of-training row, the state's ``epoch``) is not partial, even when no row was
logged at its end. ``best_metric``, ``best_model_checkpoint`` and
``best_global_step`` go to ``Run.info`` and a ``checkpoint`` event.

A truncated ``trainer_state.json`` is read up to its last complete log row, with a
note; a truncated stdout capture loses only its cut last line.

This module is the careful path; ``hf_fast`` reads the common records column by column
and leaves it the rest.
"""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

from ..errors import UnreadableRecord
from ..run import Event, Run, build_run
from . import hf_fast
from .hf_fast import DICT_LINE, NOT_METRIC, PARSE_ERRORS, SUMMARY_KEY, number, parse_dict
from .numbers import MAX_INDEX, index_or_none
from .steps import CompleteLines, StepLog, epoch_of_fraction

FORMAT = "hf-trainer"

STATE_FILE = "trainer_state.json"
TRAINED_TO = "trained_to_epoch"  # Run.info: the fractional epoch training reached
_JSON_OBJECT = re.compile(r'\s*\{\s*"')
_CHECKPOINT = re.compile(r"checkpoint-([0-9]{1,15})")


def sniff(source) -> float:
    if source.is_dir:
        return 0.9 if _state_file(source.path) else 0.0
    head = source.head
    if _JSON_OBJECT.match(head) and '"log_history"' in head:
        return 0.95
    if not DICT_LINE.search(head):
        return 0.0
    # a head of nothing but dict lines is Trainer's for sure: scored at free-form text's
    # ceiling, it spares detection the free-form parser (a tenth of reading a large log)
    lines = head.splitlines()[:-1]  # the last may be cut
    return 0.75 if lines and all(map(DICT_LINE.fullmatch, lines)) else 0.7


def read(source) -> Run:
    path = _state_file(source.path) if source.is_dir else source.path
    if path is None:
        raise UnreadableRecord(source.name, f"no {STATE_FILE} in this directory or its checkpoint-N/ folders")
    if path != source.path:
        from . import Source

        source = Source(path)
    if _JSON_OBJECT.match(source.head):
        return _read_state(source)
    return _read_stdout(source)


def _state_file(directory: Path) -> Path | None:
    top = directory / STATE_FILE
    if top.is_file():
        return top
    checkpoints = {
        int(m.group(1)): p for p in directory.glob(f"checkpoint-*/{STATE_FILE}") if (m := _CHECKPOINT.fullmatch(p.parent.name))
    }
    return checkpoints[max(checkpoints)] if checkpoints else None


def _read_state(source) -> Run:
    with source.open_text() as fh:
        text = fh.read()
    fast = hf_fast.read_state(text)
    if fast is None:
        return _read_state_carefully(source, text)
    state, tally = fast
    info: dict = {}
    for row in tally.summaries:
        _add_row(None, info, row, row["step"])
    return _state_run(source, state, tally, info, [], tally.last_epoch, tally.epoch_at)


def _read_state_carefully(source, text: str) -> Run:
    notes = []
    try:
        state = json.loads(text)
    except RecursionError:
        raise UnreadableRecord(source.name, "JSON nested too deeply: not a trainer_state.json") from None
    except json.JSONDecodeError as exc:
        if text.rstrip().endswith("}"):
            raise UnreadableRecord(source.name, f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
        rows = _complete_rows(text)
        if not rows:
            raise UnreadableRecord(source.name, "JSON ends before the first complete log_history row (file cut?)") from None
        state = {"log_history": rows}
        notes.append(f"file ends mid-JSON (cut?): read its {len(rows)} complete log_history rows")
    except ValueError as exc:  # an integer of more than 4300 digits
        raise UnreadableRecord(source.name, f"not valid JSON: {exc}") from None
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise UnreadableRecord(source.name, "JSON without a log_history list: not a Trainer trainer_state.json")
    log = StepLog()
    info: dict = {}
    last, bad = None, 0
    for row in state["log_history"]:
        if isinstance(row, dict) and isinstance(row.get("step"), (int, float)):
            try:
                epoch = _add_row(log, info, row, row["step"])
            except ValueError:
                bad += 1
                continue
            last = last if epoch is None else epoch
    if bad:
        notes.append(f"{bad} log_history row(s) with an epoch or step that is not a number in range were skipped")
    return _state_run(source, state, log, info, notes, last, partial(_first_epoch_at, log))


def _first_epoch_at(log: StepLog, step) -> int | None:
    """The epoch of the first point ``log`` holds at ``step``."""
    return next((p.epoch for points in log.points.values() for p in points if p.position == step), None)


def _state_run(source, state: dict, log, info: dict, notes: list, last: float | None, epoch_at) -> Run:
    """The run of a parsed state file whose rows ``log`` holds (a ``StepLog`` or a
    ``hf_fast.Tally``); ``epoch_at(step)`` is the epoch of a step."""
    events = _best_checkpoint(state, info, epoch_at)
    planned = index_or_none(state.get("num_train_epochs")) or None
    batch = index_or_none(state.get("train_batch_size")) or None
    info["settings"] = {k: v for k, v in (("batch_size", batch), ("num_epochs", planned)) if v}
    return _run(log, source, info, notes, events, _furthest(last, number(state.get("epoch"))), planned=planned)


def _complete_rows(text: str) -> list:
    """The log_history rows of a JSON document cut before its end."""
    start = text.find('"log_history"')
    start = text.find("[", start) + 1 if start >= 0 else 0
    if start <= 0:
        return []
    decoder, rows, pos = json.JSONDecoder(), [], start
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            row, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):  # JSONDecodeError included: the cut row
            return rows
        rows.append(row)


def _read_stdout(source) -> Run:
    info: dict = {}
    notes: list[str] = []
    log = hf_fast.read_lines(source)
    if log is None:
        with source.open_text() as fh:
            lines = CompleteLines(fh)
            log, last, bad = _read_lines_carefully(lines, info)
        if lines.cut is not None and "{'" in lines.cut:
            notes.append(lines.cut_note())
        if bad:
            notes.append(f"{len(bad)} log line(s) could not be parsed and were skipped (first: line {bad[0]})")
    else:
        last = log.last_epoch
        for row in log.summaries:
            _add_row(None, info, row, None)
    return _run(log, source, info, notes, [], last, renumber=True)


def _read_lines_carefully(lines: CompleteLines, info: dict) -> tuple[StepLog, float | None, list[int]]:
    """The log of each dict in ``lines``, the epoch of the last one with metrics, and
    the numbers of the lines that do not parse."""
    log, last, bad = StepLog(), None, []
    for line in lines:
        for match in DICT_LINE.finditer(line):
            try:
                epoch = _add_row(log, info, parse_dict(match.group()), None)
            except PARSE_ERRORS:
                bad.append(lines.number)
                continue
            last = last if epoch is None else epoch
    return log, last, bad


def _add_row(log: StepLog | None, info: dict, row: dict, position: float | None) -> float | None:
    """Add one log row at ``position`` (its epoch when None); its fractional epoch if it
    held training or evaluation metrics. Values that are not numbers are ignored; an
    epoch or step out of range raises ValueError. A summary row only updates ``info``
    (the fast paths, which tally the others, pass no ``log``)."""
    values = {k: number(v) for k, v in row.items() if isinstance(k, str) and k != "step"}
    epoch = values.pop("epoch", None)
    values = {k: v for k, v in values.items() if v is not None}
    if epoch is None:
        return None
    if position is not None and not abs(position) <= MAX_INDEX:
        raise ValueError("step out of range")
    if SUMMARY_KEY in values:
        info.update(values)
        info[TRAINED_TO] = _furthest(info.get(TRAINED_TO), epoch)
        return None
    metrics = {k: v for k, v in values.items() if not NOT_METRIC.search(k)}
    if not metrics:
        return None
    log.add(epoch if position is None else position, epoch_of_fraction(epoch), metrics)
    return epoch


def _best_checkpoint(state: dict, info: dict, epoch_at) -> list[Event]:
    checkpoint, metric = state.get("best_model_checkpoint"), number(state.get("best_metric"))
    if checkpoint is None and metric is None:
        return []
    step = index_or_none(state.get("best_global_step"))
    if step is None and checkpoint:
        found = _CHECKPOINT.search(str(checkpoint).rstrip("/"))
        step = int(found.group(1)) if found and found.end() == len(str(checkpoint).rstrip("/")) else None
    info.update(best_metric=metric, best_model_checkpoint=checkpoint, best_global_step=step)
    epoch = epoch_at(step)
    where = f" at step {step}" if step is not None else ""
    value = f" (best metric {metric:.6g})" if isinstance(metric, (int, float)) else ""
    return [Event(epoch, "best_checkpoint", metric, f"best checkpoint {checkpoint}{where}{value}")]


def _furthest(*epochs: float | None) -> float | None:
    """The latest of the fractional epochs that are known and in range."""
    return max((e for e in epochs if e is not None and abs(e) <= MAX_INDEX), default=None)


def _run(log, source, info, notes, events, last_epoch, *, planned=None, renumber=False) -> Run:
    """``last_epoch``: the epoch of the last row with metrics, or where the state says
    training was; the end-of-training row in ``info`` may show it went further."""
    rows = log.epoch_rows()
    reached = _furthest(last_epoch, info.get(TRAINED_TO))
    if reached is not None:
        info[TRAINED_TO] = reached
    if rows and reached is not None and reached < max(rows) - 1e-9:
        notes.append(f"training stopped at epoch {reached:g}: epoch {max(rows)} is partial")
    return build_run(
        rows,
        source=source.name,
        format=FORMAT,
        events=log.events + events,
        planned_epochs=planned,
        step_series=log.step_series(renumber=renumber),
        notes=notes,
        info=info,
    )
