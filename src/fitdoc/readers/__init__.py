"""Readers: one module per source format, plus content-based detection.

Each reader module defines ``FORMAT`` (its name in reports), ``sniff(source)``
returning a confidence in [0, 1] from the file's content, and ``read(source)``
returning a :class:`~fitdoc.run.Run` (or a list of runs for multi-run sources). Readers
of free text set ``MIN_POINTS = 2``: a record they read must hold a metric at two
epochs or evaluations at least, or it is refused (prose that mentions an epoch and a
number is not a training record). ``-`` reads standard input, held in memory.
"""

from __future__ import annotations

import importlib
import io
import sys
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from ..errors import FitdocError, InternalError, UnreadableRecord, printable
from ..names import is_bookkeeping
from ..run import Run
from . import textio
from .shapes import SHAPES

STDIN = "-"
STDIN_LIMIT = 256 * 1024 * 1024  # a log pasted or piped in is read into memory, up to this

# Order matters only for ties: the more specific reader comes first.
READER_MODULES = [
    "keras_json",
    "ultralytics_csv",
    "keras_csv",
    "paddle_hapi",
    "keras_text",
    "tensorboard",
    "hf_trainer",
    "lightning_csv",
    "mlflow_store",
    "markdown_table",
    "mmengine_json",
    "json_lines",
    "freeform",
]


@dataclass
class Source:
    """A path to read plus its decoded head, computed once for all sniffers."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    @cached_property
    def is_dir(self) -> bool:
        return self.path.is_dir()

    @cached_property
    def head_bytes(self) -> bytes:
        return b"" if self.is_dir else textio.read_head(self.path)

    @cached_property
    def encoding(self) -> str:
        try:
            return textio.detect_encoding(self.head_bytes)
        except UnreadableRecord as exc:
            raise UnreadableRecord(self.name, exc.reason) from None

    @cached_property
    def head(self) -> str:
        """First 64 KiB as text (empty for directories and binary files)."""
        if self.is_dir:
            return ""
        try:
            enc = self.encoding
        except UnreadableRecord:
            return ""
        return self.head_bytes.decode(enc, errors="replace").replace("\x00", "")

    def open_text(self):
        return textio.open_text(self.path, self.encoding)


class MemorySource(Source):
    """A record held in memory (standard input), read like a file."""

    def __init__(self, name: str, data: bytes):
        super().__init__(Path(name))
        self.data = data

    @property
    def is_dir(self) -> bool:
        return False

    @cached_property
    def head_bytes(self) -> bytes:
        return self.data[: textio.HEAD_BYTES]

    def open_text(self):
        return io.TextIOWrapper(io.BytesIO(self.data), encoding=self.encoding, errors="replace", newline="")


def _stdin_source() -> MemorySource:
    data = sys.stdin.buffer.read(STDIN_LIMIT + 1)
    if len(data) > STDIN_LIMIT:
        raise UnreadableRecord("<stdin>", f"standard input holds more than {STDIN_LIMIT >> 20} MiB: save it to a file")
    return MemorySource("<stdin>", data)


def _modules():
    return [importlib.import_module(f"{__name__}.{m}") for m in READER_MODULES]


def formats() -> list[str]:
    return [m.FORMAT for m in _modules()]


# The readers a file's name suggests are asked first, and a reader is not asked once
# its highest score (CEILING) cannot beat the best so far: for a History JSON, the
# free-form parser never runs.
_LIKELY = {
    "dir": ("tensorboard", "hf_trainer", "lightning_csv", "mlflow_store"),
    "tfevents": ("tensorboard",),
    ".csv": ("keras_csv", "lightning_csv"),
    ".json": ("keras_json", "hf_trainer"),
    ".jsonl": ("json_lines", "mmengine_json"),
    ".txt": ("keras_text", "hf_trainer"),
    ".log": ("keras_text", "hf_trainer"),
    ".md": ("markdown_table",),
}
# a reader that can score higher must say so here (tests/test_detect.py checks the data)
CEILING = {"keras_json": 0.9, "keras_csv": 0.9, "keras_text": 0.95, "hf_trainer": 0.95, "lightning_csv": 0.95,
           "mlflow_store": 0.9, "markdown_table": 0.9, "ultralytics_csv": 0.95, "paddle_hapi": 0.97,
           "mmengine_json": 0.9, "json_lines": 0.6, "freeform": 0.75}


def _sniff(source: Source):
    """The reader module that best recognises ``source``'s content, or None; ties go
    to the reader listed first in READER_MODULES."""
    kind = "dir" if source.is_dir else "tfevents" if "tfevents" in source.path.name else source.path.suffix.lower()
    likely = _LIKELY.get(kind, ())
    best, best_key = None, (0.0, 0)
    for name in [*likely, *(m for m in READER_MODULES if m not in likely)]:
        rank = -READER_MODULES.index(name)
        if (CEILING.get(name, 1.0), rank) < best_key:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        score = module.sniff(source)
        if score > 0 and (score, rank) > best_key:
            best, best_key = module, (score, rank)
    return best


def detect(source: Source):
    """The reader module that best recognises ``source``'s content."""
    return next(_candidates(source))


def _candidates(source: Source):
    """The reader modules that recognise ``source``: the most confident first (found by
    the quick sniff), then, only if asked for, the others that recognise it."""
    best = _sniff(source)
    if best is None:
        if not source.is_dir and not source.head_bytes.strip():
            raise UnreadableRecord(source.name, "file is empty")
        if not source.is_dir:
            source.encoding  # raises for a binary file
        raise UnreadableRecord(
            source.name,
            f"unknown format: not a training record fitdoc reads ({', '.join(shape.name for shape in SHAPES)}; "
            "`fitdoc formats` shows an example of each)",
        )
    yield best
    scored = [(module.sniff(source), i, module) for i, module in enumerate(_modules()) if module is not best]
    yield from (module for score, _, module in sorted(scored, key=lambda t: (-t[0], t[1])) if score > 0)


def read_runs(path: str | Path, format: str | None = None, on_skip=None) -> list[Run]:
    """Read every run in ``path``: a file, a run directory, an ``mlflow://`` URI, or a
    folder of records (each readable file or run directory inside it; ``on_skip`` is
    called with the error of each one that is not a training record)."""
    if "://" in str(path):
        from .mlflow_store import read_uri

        runs = read_uri(str(path))
    else:
        runs = _read_path(path, format, on_skip, set())
    for run in runs:
        _neutralise(run)
    return runs


def _neutralise(run: Run) -> None:
    """Control characters in the names and notes a record brought are made visible
    (``\\x1b``): a metric name must not retitle the terminal or forge a link."""
    run.source = printable(run.source)
    run.series = {printable(k): v for k, v in run.series.items()}
    run.step_series = {printable(k): v for k, v in run.step_series.items()}
    run.notes = [printable(n) for n in run.notes]
    run.events = [replace(e, message=printable(e.message)) for e in run.events]


def _read_path(path: str | Path, format: str | None, on_skip, seen: set[Path]) -> list[Run]:
    p = Path(path)
    if str(path) == STDIN:
        source = _stdin_source()
    elif not p.exists():
        raise FitdocError(str(p), "no such file or directory")
    else:
        if not p.is_dir():
            textio.check_regular(p)
        source = Source(p)
    if format:
        by_name = {m.FORMAT: m for m in _modules()}
        if format not in by_name:
            raise FitdocError(str(p), f"unknown format {format!r}; choose one of {', '.join(by_name)}")
        candidates = [by_name[format]]
    elif source.is_dir and _sniff(source) is None:
        return _read_folder(p, on_skip, seen)
    else:
        candidates = _candidates(source)
    # a file two readers recognise (a tab table whose first column is "Epoch") goes to
    # the next one when the most confident cannot read it; the first refusal is reported
    refusals = []
    for module in candidates:
        try:
            runs = _read_with(module, source)
        except UnreadableRecord as exc:
            refusals.append(exc)
            continue
        for run in runs if refusals else ():
            run.notes.append(f"read as {module.FORMAT}: the reader that recognised it best refused it ({refusals[0].reason})")
        return runs
    raise refusals[0]


def _read_with(module, source: Source) -> list[Run]:
    try:
        result = module.read(source)
    except FitdocError:
        raise
    except (OSError, UnicodeError) as exc:
        raise UnreadableRecord(source.name, f"cannot read: {exc}") from None
    except RecursionError:
        raise UnreadableRecord(source.name, "nested too deeply to read") from None
    except Exception as exc:  # a reader bug: named with its file, not a bare traceback
        raise InternalError(source.name, exc) from exc
    runs = result if isinstance(result, list) else [result]
    for run in runs:
        if len(run) == 0:
            raise UnreadableRecord(source.name, f"no epochs found in this {module.FORMAT} record")
    needed = getattr(module, "MIN_POINTS", 1)
    if not any(_evaluations(run) >= needed for run in runs):
        raise UnreadableRecord(
            source.name,
            f"not a training record: a {module.FORMAT} record needs {needed} epochs or evaluations of a metric "
            f"(loss, accuracy...), this one has {max(_evaluations(run) for run in runs)}",
        )
    return runs


def _evaluations(run: Run) -> int:
    """The most epochs (or logged steps) at which one metric of ``run`` was written."""
    by_epoch = [int(s.present.sum()) for name, s in run.series.items() if not is_bookkeeping(name)]
    by_step = [len(s.steps) for name, s in run.step_series.items() if not is_bookkeeping(name)]
    return max(by_epoch + by_step, default=0)


def _read_folder(folder: Path, on_skip, seen: set[Path]) -> list[Run]:
    """The runs of each entry of ``folder``; an entry that a symbolic link leads to
    again (a link loop, a second link to one file) is read once."""
    seen.add(folder.resolve())
    runs: list[Run] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        try:
            real = child.resolve()
        except (OSError, RuntimeError):  # RuntimeError: a loop of links to links
            real = None
        if real is not None and real in seen:
            continue
        seen.add(real)
        try:
            if real is None:
                raise UnreadableRecord(str(child), "symbolic link loop")
            runs.extend(_read_path(child, None, on_skip, seen))
        except FitdocError as exc:
            if on_skip:
                on_skip(exc)
    if not runs:
        raise empty_folder(folder)
    return runs


def empty_folder(folder: Path) -> UnreadableRecord:
    return UnreadableRecord(str(folder), "no readable training record in this directory")


def folder_records(path: str | Path) -> list[Path] | None:
    """The files ``read_runs`` reads one by one when ``path`` is a folder of plain
    files (no links, no subfolders) that no reader knows as a whole; None otherwise."""
    p = Path(path)
    if "://" in str(path) or str(path) == STDIN or not p.is_dir() or _sniff(Source(p)) is not None:
        return None
    entries = [child for child in sorted(p.iterdir()) if not child.name.startswith(".")]
    if any(child.is_symlink() or not child.is_file() for child in entries):
        return None
    return entries


def read(path: str | Path, format: str | None = None) -> Run:
    """Read one run from ``path``."""
    runs = read_runs(path, format)
    if len(runs) > 1:
        raise FitdocError(str(path), f"holds {len(runs)} runs; use read_runs() or point at one run")
    return runs[0]
