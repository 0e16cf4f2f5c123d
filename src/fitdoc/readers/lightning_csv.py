"""PyTorch Lightning ``CSVLogger``: ``metrics.csv`` files and their logger directories.

``metrics.csv`` has one sparse row per log call with ``epoch`` and ``step`` columns.
A metric logged with ``on_step`` and ``on_epoch`` gets two columns: ``X_epoch`` feeds
the epoch series, ``X_step`` the step series. Other columns feed both: per epoch, the
mean of a training metric's rows and the last row of a validation metric or ``lr``.
``LearningRateMonitor`` columns (``lr-SGD``, ``lr-Adam``...) become ``lr``; their rows
have no epoch and take the epoch of the nearest following step that has one (a row
after the last epoch row, for an epoch the record has not reached, is left out). Epochs
are numbered as Lightning writes them (0-based).

A directory is a logger directory (``version_N/metrics.csv``, in version order), a
version directory, or a directory of logger directories (one run each). A version
that continues an earlier one (it does not start at the first epoch) is stitched to
it, and a step going back inside one file likewise: the later write wins and a
``resume`` event is kept. A version that starts again from the first epoch is a new
run. A cut last line is ignored with a note.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from ..errors import UnreadableRecord
from ..run import Run, build_run
from .numbers import parse_index, parse_number
from .steps import CompleteLines, EpochByStep, StepLog

FORMAT = "lightning-csv"

METRICS_FILE = "metrics.csv"
_VERSION = re.compile(r"version_(\d+)$")
_LR_OTHER = ("-momentum", "-weight_decay")


def sniff(source) -> float:
    if source.is_dir:
        return 0.9 if _runs(source.path) else 0.0
    header = _header(source.head.split("\n", 1)[0])
    return 0.95 if "epoch" in header and "step" in header else 0.0


def read(source) -> Run | list[Run]:
    if not source.is_dir:
        return _build([_read_file(source)], source.name)[0]
    runs = _runs(source.path)
    if not runs:
        raise UnreadableRecord(source.name, f"no {METRICS_FILE} here or in version_N/ folders")
    built = [run for files in runs for run in _build([_read_file(_source(f)) for f in files], str(files[0].parent.parent))]
    return built[0] if len(built) == 1 else built


def _source(path: Path):
    from . import Source

    return Source(path)


def _header(line: str) -> list[str]:
    return [c.strip() for c in line.strip().split(",")]


def _runs(directory: Path) -> list[list[Path]]:
    """The metrics files of each run under ``directory``, versions in order."""
    if (directory / METRICS_FILE).is_file():
        return [[directory / METRICS_FILE]]
    versions = _versions(directory)
    if versions:
        return versions
    return [run for child in sorted(directory.iterdir()) if child.is_dir() for run in _versions(child)]


def _versions(logger_dir: Path) -> list[list[Path]]:
    found = []
    for child in logger_dir.iterdir():
        match = _VERSION.match(child.name)
        if match and (child / METRICS_FILE).is_file():
            found.append((int(match.group(1)), child / METRICS_FILE))
    return [[path for _, path in sorted(found)]] if found else []


class _File:
    """The rows of one metrics.csv: ``(epoch or None, step, {column: value})``."""

    def __init__(self, name: str, rows: list, columns: list[str], notes: list[str]):
        self.name, self.rows, self.columns, self.notes = name, rows, columns, notes

    @property
    def label(self) -> str:
        return Path(self.name).parent.name or self.name


def _read_file(source) -> _File:
    notes: list[str] = []
    rows = []
    with source.open_text() as fh:
        lines = CompleteLines(fh)
        reader = csv.reader(lines)
        try:
            header = [c.strip() for c in next(reader, [])]
            if "epoch" not in header or "step" not in header:
                raise UnreadableRecord(source.name, "no 'epoch' and 'step' columns: not a Lightning CSVLogger metrics.csv")
            for cells in reader:
                if not cells or cells == header:
                    continue
                if len(cells) != len(header):
                    raise UnreadableRecord(source.name, f"line {lines.number}: {len(cells)} cells, header has {len(header)}")
                rows.append(_row(header, cells, lines.number, source.name))
        except csv.Error as exc:
            raise UnreadableRecord(source.name, f"line {lines.number + 1}: {exc}") from None
        rows = [row for row in rows if row is not None]
    if lines.cut is not None:
        notes.append(f"{source.name}: {lines.cut_note()}")
    return _File(source.name, rows, header, notes)


def _row(header: list[str], cells: list[str], line: int, name: str):
    """``(epoch or None, step, {column: value})`` of one row; None for a row without a step."""
    try:
        values = {c: parse_number(v) for c, v in zip(header, cells)}
    except ValueError:
        bad = next(v for v in cells if _not_number(v))
        raise UnreadableRecord(name, f"line {line}: {bad[:40]!r} is not a number") from None
    step, epoch = values.pop("step"), values.pop("epoch")
    if step is None:
        return None
    try:
        epoch = None if epoch is None else parse_index(epoch)
        step = parse_index(step)
    except ValueError:
        raise UnreadableRecord(name, f"line {line}: an epoch or step that is not a whole number in range") from None
    return epoch, step, {c: v for c, v in values.items() if v is not None}


def _not_number(cell: str) -> bool:
    try:
        parse_number(cell)
        return False
    except ValueError:
        return True


def _roles(columns: list[str]) -> dict[str, tuple[str, bool, bool]]:
    """``column -> (metric name, per_epoch, per_step)``."""
    pairs = {c[: -len("_step")] for c in columns if c.endswith("_step") and c[: -len("_step")] + "_epoch" in columns}
    lr_columns = [c for c in columns if c.startswith("lr-") and not c.endswith(_LR_OTHER)]
    roles = {}
    for c in columns:
        if c in ("epoch", "step"):
            continue
        if c.endswith("_step") and c[: -len("_step")] in pairs:
            roles[c] = (c[: -len("_step")], False, True)
        elif c.endswith("_epoch") and c[: -len("_epoch")] in pairs:
            roles[c] = (c[: -len("_epoch")], True, False)
        else:
            roles[c] = ("lr" if lr_columns and c == lr_columns[0] else c, True, True)
    return roles


def _build(files: list[_File], name: str) -> list[Run]:
    """One run per sequence of files where each later file continues the earlier."""
    runs, current, first_epoch = [], [], None
    for f in files:
        epochs = [e for e, _, _ in f.rows if e is not None]
        if current and epochs and epochs[0] == first_epoch:
            runs.append(current)
            current = []
        if not current and epochs:
            first_epoch = epochs[0]
        current.append(f)
    runs.append(current)
    return [_stitch(group, name) for group in runs]


def _stitch(files: list[_File], name: str) -> Run:
    log = StepLog()
    notes: list[str] = []
    for i, f in enumerate(files):
        epoch_of = EpochByStep([(step, epoch) for epoch, step, _ in f.rows if epoch is not None])
        if not epoch_of:
            if f.rows:
                raise UnreadableRecord(f.name, "no row has an epoch")
            continue
        if i:
            log.new_segment(f.label)
        roles = _roles(f.columns)
        for epoch, step, values in f.rows:
            if epoch is None and epoch_of.after_all(step):
                continue  # an lr row for an epoch that has not started in the record (a log cut or being written)
            epoch = epoch_of(step) if epoch is None else epoch
            for column, value in values.items():
                metric, per_epoch, per_step = roles[column]
                log.add(step, epoch, {metric: value}, per_epoch=per_epoch, per_step=per_step)
        notes.extend(f.notes)
    source = files[0].name if len(files) == 1 else name
    return build_run(log.epoch_rows(), source=source, format=FORMAT, events=log.events, step_series=log.step_series(), notes=notes)
