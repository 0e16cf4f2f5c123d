"""Keras ``CSVLogger`` files: header ``epoch,<sorted metric names>``, 0-based epochs,
``NA`` cells (validation every N epochs), a header repeated mid-file when
``append=True`` resumed a run. Epochs keep the file's 0-based numbering.

Rows are streamed into one typed array per column, so a long per-step CSV is read in
memory proportional to its numbers, not its text. Blocks of plain numeric rows are
parsed by :mod:`.csv_fast`; every other row, and every row of a file it leaves, is
read here with the csv module, one cell at a time."""

from __future__ import annotations

import csv
from array import array
from bisect import bisect_left

import numpy as np

from ..errors import UnreadableRecord
from ..names import canonicalize_keys
from ..run import Event, Run, Series
from . import csv_fast
from .numbers import MAX_INDEX, MISSING, parse_index

FORMAT = "keras-csv"
_DELIMITERS = (",", "\t", ";")


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

    def extend(self, names: list[str], block: np.ndarray, present: np.ndarray | None = None) -> bool:
        """Append a block of numeric rows (epoch first, increasing after the rows
        already read; ``present`` None when every cell is); False, appending nothing,
        when it is not such a block."""
        epochs = block[:, 0]
        if present is not None and not present[:, 0].all():
            return False
        if not np.all(np.abs(epochs) <= MAX_INDEX) or not np.array_equal(epochs, np.floor(epochs)) or np.any(np.diff(epochs) <= 0):
            return False
        if self.epochs and epochs[0] <= self.epochs[-1]:
            return False
        self.epochs.frombytes(epochs.astype(np.int64).tobytes())
        for j, name in enumerate(names, start=1):
            self.values[name].frombytes(block[:, j].tobytes())
            self.present[name] += b"\x01" * len(epochs) if present is None else present[:, j].tobytes()
        for name in self.values.keys() - set(names):
            self.values[name].frombytes(np.full(len(epochs), np.nan).tobytes())
            self.present[name] += bytes(len(epochs))
        return True

    def run(self, source: str, notes: list[str]) -> Run:
        names = canonicalize_keys({n: n for n in self.values})  # canonical -> original
        series = {
            canonical: Series(np.frombuffer(self.values[original], dtype=float), np.frombuffer(self.present[original], dtype=bool))
            for canonical, original in names.items()
        }
        return Run(np.frombuffer(self.epochs, dtype=np.int64), series, self.events, source=source,
                   format=FORMAT, notes=notes, info={"epoch_base": 0})


def read(source) -> Run:
    """The file's rows; a last line without its newline (a file cut or still being
    written: its last number may be cut) is left out with a note."""
    try:
        with csv_fast.ByteRows(source) as rows:
            return _read(source.name, 1, rows.header, rows.blocks())
    except csv_fast.LeftToCareful:
        pass
    with source.open_text() as fh:
        line_no, line = 0, ""
        for line in fh:
            line_no += 1
            if line.strip():
                break
        return _read(source.name, line_no, line, [_TextLines(fh)])


class _TextLines:
    """The rest of a text stream, all for the careful path."""

    def __init__(self, lines):
        self._lines = lines

    def lines(self):
        return self._lines

    def numbers(self, delim: str, width: int) -> None:
        return None


def _read(name: str, line_no: int, line: str, blocks) -> Run:
    """The run of a header ``line`` (at ``line_no``) and the blocks of lines after it:
    a block's ``numbers`` where it has them, else its ``lines`` read row by row."""
    found = _header(line) if line.strip() else None
    if not found or not line.endswith(("\n", "\r")):
        raise UnreadableRecord(name, "no CSVLogger header (a first row starting with 'epoch')")
    header, delim = found
    table = _Columns()
    targets = table.use_header(_distinct(header, line_no, name)[1:])
    short: tuple[int, int] | None = None  # (line, cells) of a short row: an error unless it is the last
    cut: list[str] = []
    for block in blocks:
        numbers = None if short else block.numbers(delim, len(header))
        if numbers is not None and table.extend(header[1:], *numbers):
            line_no += len(numbers[0])
            continue
        try:
            for fields in csv.reader(_complete(block.lines(), cut), delimiter=delim):
                line_no += 1
                short, header, targets = _careful_row(table, fields, short, header, targets, line_no, name)
        except csv.Error as exc:
            raise UnreadableRecord(name, f"line {line_no + 1}: {exc}") from None
    notes = []
    if short:
        notes.append(f"last line ({short[0]}) is incomplete and was skipped: the file looks truncated")
    if cut and cut[0].strip():
        notes.append(f"last line ({line_no + 1}) does not end in a newline: the file looks truncated or is still being written; that line was ignored")
    if not table.epochs:
        raise UnreadableRecord(name, "CSVLogger header but no complete epoch rows")
    return table.run(name, notes)


def _complete(lines, cut: list[str]):
    """``lines`` up to one without its newline (only the file's last line can lack
    it), which goes into ``cut``."""
    for line in lines:
        if not line.endswith(("\n", "\r")):
            cut.append(line)
            return
        yield line


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
