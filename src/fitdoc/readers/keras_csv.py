"""Keras ``CSVLogger`` files: header ``epoch,<sorted metric names>``, 0-based epochs,
``NA`` cells (validation every N epochs), a header repeated mid-file when
``append=True`` resumed a run. Epochs keep the file's 0-based numbering.

Rows are streamed into one typed array per column, so a long per-step CSV is read in
memory proportional to its numbers, not its text."""

from __future__ import annotations

import csv
import re
from array import array
from bisect import bisect_left
from itertools import islice

import numpy as np

from ..errors import UnreadableRecord
from ..names import canonicalize_keys
from ..run import Event, Run, Series
from .numbers import MAX_INDEX, MISSING, parse_index

FORMAT = "keras-csv"
_DELIMITERS = (",", "\t", ";")
BLOCK_LINES = 50_000
_PLAIN = re.compile(r"[0-9eE+\-.\n]*")  # a block of plain numbers (delimiters removed)


def _header(line: str) -> tuple[list[str], str] | None:
    """(names, delimiter) of a CSVLogger header line."""
    first = line.strip().lstrip("\ufeff")
    for delim in _DELIMITERS:
        fields = [f.strip() for f in first.split(delim)]
        if len(fields) >= 2 and fields[0].lower() == "epoch":
            return fields, delim
    return None


def sniff(source) -> float:
    found = next((_header(line) for line in source.head.splitlines() if line.strip()), None)
    if not found:
        return 0.0
    fields = [f.lower() for f in found[0]]
    return 0.3 if "step" in fields else 0.9


class _Columns:
    """Epochs and one (values, present) pair of arrays per metric, in file order."""

    def __init__(self) -> None:
        self.epochs = array("q")
        self.values: dict[str, array] = {}
        self.present: dict[str, bytearray] = {}
        self.events: list[Event] = []

    def use_header(self, names: list[str]) -> list[tuple[array, bytearray]]:
        """The column arrays for a header's metric names (new ones padded as missing)."""
        for name in names:
            if name not in self.values:
                self.values[name] = array("d", bytes(8 * len(self.epochs)))
                self.present[name] = bytearray(len(self.epochs))
        return [(self.values[n], self.present[n]) for n in names]

    def start_row(self, epoch: int) -> None:
        if self.epochs and epoch <= self.epochs[-1]:
            self.events.append(Event(epoch, "resume", None, f"record goes back from epoch {self.epochs[-1]} to {epoch}; later rows kept"))
            cut = bisect_left(self.epochs, epoch)  # the abandoned attempt's rows go
            del self.epochs[cut:]
            for name in self.values:
                del self.values[name][cut:]
                del self.present[name][cut:]
        self.epochs.append(epoch)
        for name in self.values:
            self.values[name].append(np.nan)
            self.present[name].append(0)

    def extend(self, names: list[str], block: np.ndarray) -> bool:
        """Append a block of complete numeric rows (epoch first, increasing after the
        rows already read); False, appending nothing, when it is not such a block."""
        epochs = block[:, 0]
        if not np.all(np.abs(epochs) <= MAX_INDEX) or not np.array_equal(epochs, np.floor(epochs)) or np.any(np.diff(epochs) <= 0):
            return False
        if self.epochs and epochs[0] <= self.epochs[-1]:
            return False
        self.epochs.extend(epochs.astype(np.int64).tolist())
        for name, column in zip(names, block[:, 1:].T):
            self.values[name].extend(column.tolist())
            self.present[name].extend(b"\x01" * len(column))
        for name in self.values.keys() - set(names):
            self.values[name].extend([np.nan] * len(epochs))
            self.present[name].extend(bytes(len(epochs)))
        return True

    def run(self, source: str, notes: list[str]) -> Run:
        names = canonicalize_keys({n: n for n in self.values})  # canonical -> original
        series = {
            canonical: Series(np.frombuffer(self.values[original], dtype=float).copy(),
                              np.frombuffer(self.present[original], dtype=np.uint8).astype(bool))
            for canonical, original in names.items()
        }
        return Run(np.frombuffer(self.epochs, dtype=np.int64).copy(), series, self.events, source=source,
                   format=FORMAT, notes=notes, info={"epoch_base": 0})


def _numeric_block(lines: list[str], delim: str, width: int) -> np.ndarray | None:
    """The block as a (rows, width) float array when every line is ``width`` plain
    numbers; None when any cell needs the careful path (NA, quotes, a header...)."""
    text = "".join(lines).replace("\r\n", "\n")
    if not text.endswith("\n") or not _PLAIN.fullmatch(text.replace(delim, "")):
        return None
    if text.count(delim) != (width - 1) * len(lines):
        return None
    try:
        flat = np.array(text.replace("\n", delim).split(delim)[:-1], dtype=float)
    except ValueError:  # an empty cell, a lone "-" or "."
        return None
    return flat.reshape(len(lines), width) if flat.size == width * len(lines) else None


def read(source) -> Run:
    """The file's rows; a last line without its newline (a file cut or still being
    written: its last number may be cut) is left out with a note."""
    table = _Columns()
    notes: list[str] = []
    with source.open_text() as fh:
        line_no, found = 0, None
        for line in fh:
            line_no += 1
            if line.strip():
                found = _header(line)
                break
        if not found or not line.endswith(("\n", "\r")):
            raise UnreadableRecord(source.name, "no CSVLogger header (a first row starting with 'epoch')")
        header, delim = found
        targets = table.use_header(_distinct(header, line_no, source.name)[1:])
        short: tuple[int, int] | None = None  # (line, cells) of a short row: an error unless it is the last
        cut = None
        while True:
            lines = list(islice(fh, BLOCK_LINES))
            if not lines:
                break
            if not lines[-1].endswith(("\n", "\r")):
                cut = lines.pop()  # only the file's last line can lack its newline
            block = None if short else _numeric_block(lines, delim, len(header))
            if block is not None and table.extend(header[1:], block):
                line_no += len(lines)
                continue
            try:
                for fields in csv.reader(lines, delimiter=delim):
                    line_no += 1
                    short, header, targets = _careful_row(table, fields, short, header, targets, line_no, source.name)
            except csv.Error as exc:
                raise UnreadableRecord(source.name, f"line {line_no + 1}: {exc}") from None
        if short:
            notes.append(f"last line ({short[0]}) is incomplete and was skipped: the file looks truncated")
        if cut is not None and cut.strip():
            notes.append(f"last line ({line_no + 1}) does not end in a newline: the file looks truncated or is still being written; that line was ignored")
    if not table.epochs:
        raise UnreadableRecord(source.name, "CSVLogger header but no complete epoch rows")
    return table.run(source.name, notes)


def _distinct(header: list[str], line_no: int, name: str) -> list[str]:
    """``header``, or a one-line error when it names a column twice."""
    if len(set(header)) < len(header):
        twice = next(h for i, h in enumerate(header) if h in header[:i])
        raise UnreadableRecord(name, f"line {line_no}: the header names the column {twice[:40]!r} twice")
    return header


def _careful_row(table: _Columns, fields: list[str], short, header, targets, line_no: int, name: str):
    """One row that the fast path could not take: headers, NA cells, short rows."""
    if short:
        raise UnreadableRecord(name, f"line {short[0]}: {short[1]} cells, header has {len(header)}")
    if not fields or not "".join(fields).strip():
        return None, header, targets
    if fields[0].strip().lstrip("\ufeff").lower() == "epoch":
        header = _distinct([f.strip() for f in fields], line_no, name)  # append=True writes it again after a resume
        return None, header, table.use_header(header[1:])
    if len(fields) != len(header):
        return (line_no, len(fields)), header, targets
    try:
        table.start_row(parse_index(fields[0]))
    except ValueError:
        raise UnreadableRecord(name, f"line {line_no}: epoch {fields[0][:40]!r} is not a whole number in range") from None
    for (values, present), cell in zip(targets, fields[1:]):
        try:
            values[-1] = float(cell)
        except ValueError:
            if cell.strip().lower() not in MISSING:
                raise UnreadableRecord(name, f"line {line_no}: {cell[:40]!r} is not a number") from None
            continue
        present[-1] = 1
    return None, header, targets
