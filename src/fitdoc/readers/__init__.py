"""Readers: one module per source format, plus content-based detection.

Each reader module defines ``FORMAT`` (its name in reports), ``sniff(source)``
returning a confidence in [0, 1] from the file's content, and ``read(source)``
returning a :class:`~fitdoc.run.Run` (or a list of runs for multi-run sources).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import FitdocError, UnreadableRecord
from ..run import Run
from . import textio

# Order matters only for ties: the more specific reader comes first.
READER_MODULES = [
    "keras_json",
    "keras_csv",
    "keras_text",
    "tensorboard",
    "hf_trainer",
    "lightning_csv",
    "mlflow_store",
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
        return self.head_bytes.decode(enc, errors="replace")

    def open_text(self):
        return textio.open_text(self.path, self.encoding)


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
    ".txt": ("keras_text", "hf_trainer"),
    ".log": ("keras_text", "hf_trainer"),
}
CEILING = {"keras_json": 0.9, "keras_csv": 0.9, "keras_text": 0.95, "hf_trainer": 0.95, "lightning_csv": 0.95,
           "mlflow_store": 0.9, "freeform": 0.5}


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
    best = _sniff(source)
    if best is None:
        if not source.is_dir and not source.head_bytes.strip():
            raise UnreadableRecord(source.name, "file is empty")
        if not source.is_dir:
            source.encoding  # raises for a binary file
        raise UnreadableRecord(
            source.name,
            "unknown format: no epoch lines, metric columns or history keys found "
            f"(readable formats: {', '.join(formats())})",
        )
    return best


def read_runs(path: str | Path, format: str | None = None, on_skip=None) -> list[Run]:
    """Read every run in ``path``: a file, a run directory, an ``mlflow://`` URI, or a
    folder of records (each readable file or run directory inside it; ``on_skip`` is
    called with the error of each one that is not a training record)."""
    if "://" in str(path):
        from .mlflow_store import read_uri

        return read_uri(str(path))
    p = Path(path)
    if not p.exists():
        raise FitdocError(str(p), "no such file or directory")
    source = Source(p)
    if format:
        by_name = {m.FORMAT: m for m in _modules()}
        if format not in by_name:
            raise FitdocError(str(p), f"unknown format {format!r}; choose one of {', '.join(by_name)}")
        module = by_name[format]
    elif p.is_dir():
        module = _sniff(source)
        if module is None:
            return _read_folder(p, on_skip)
    else:
        module = detect(source)
    try:
        result = module.read(source)
    except FitdocError:
        raise
    except (OSError, UnicodeError) as exc:
        raise UnreadableRecord(str(p), f"cannot read: {exc}") from None
    runs = result if isinstance(result, list) else [result]
    for run in runs:
        if len(run) == 0:
            raise UnreadableRecord(str(p), f"no epochs found in this {module.FORMAT} record")
    return runs


def folder_records(path: str | Path) -> list[Path] | None:
    """The entries ``read_runs`` reads one by one when ``path`` is a folder of records
    rather than a record some reader knows; None otherwise."""
    p = Path(path)
    if "://" in str(path) or not p.is_dir() or _sniff(Source(p)) is not None:
        return None
    return _entries(p)


def _entries(folder: Path) -> list[Path]:
    return [child for child in sorted(folder.iterdir()) if not child.name.startswith(".")]


def _read_folder(folder: Path, on_skip) -> list[Run]:
    runs: list[Run] = []
    for child in _entries(folder):
        try:
            runs.extend(read_runs(child, on_skip=on_skip))
        except FitdocError as exc:
            if on_skip:
                on_skip(exc)
    if not runs:
        raise empty_folder(folder)
    return runs


def empty_folder(folder: Path) -> UnreadableRecord:
    return UnreadableRecord(str(folder), "no readable training record in this directory")


def read(path: str | Path, format: str | None = None) -> Run:
    """Read one run from ``path``."""
    runs = read_runs(path, format)
    if len(runs) > 1:
        raise FitdocError(str(path), f"holds {len(runs)} runs; use read_runs() or point at one run")
    return runs[0]
