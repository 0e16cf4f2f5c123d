"""Keras ``CSVLogger`` files: header ``epoch,<sorted metric names>``, 0-based epochs,
``NA`` cells (validation every N epochs), a header repeated mid-file when
``append=True`` resumed a run. Epochs keep the file's 0-based numbering."""

from __future__ import annotations

import csv

from ..errors import UnreadableRecord
from ..run import Run, build_run
from .numbers import parse_number
from .stitch import EpochRows

FORMAT = "keras-csv"
_DELIMITERS = (",", "\t", ";")


def _header(source) -> tuple[list[str], str] | None:
    for line in source.head.splitlines():
        if line.strip():
            first = line.strip().lstrip("\ufeff")
            for delim in _DELIMITERS:
                fields = [f.strip() for f in first.split(delim)]
                if len(fields) >= 2 and fields[0].lower() == "epoch":
                    return fields, delim
            return None
    return None


def sniff(source) -> float:
    found = _header(source)
    if not found:
        return 0.0
    fields = [f.lower() for f in found[0]]
    return 0.3 if "step" in fields else 0.9


def read(source) -> Run:
    found = _header(source)
    if not found:
        raise UnreadableRecord(source.name, "no CSVLogger header (a first row starting with 'epoch')")
    header, delim = found
    rows = EpochRows()
    notes: list[str] = []
    with source.open_text() as fh:
        reader = csv.reader(fh, delimiter=delim)
        lines = iter(reader)
        next(lines)
        pending: tuple[int, list[str]] | None = None  # a short row is an error unless it is the last
        for fields in lines:
            if pending:
                raise UnreadableRecord(source.name, f"line {pending[0]}: {len(pending[1])} cells, header has {len(header)}")
            if not fields or not "".join(fields).strip():
                continue
            fields = [f.strip() for f in fields]
            if fields[0].lower().lstrip("\ufeff") == "epoch":
                header = fields  # append=True writes the header again after a resume
                continue
            if len(fields) != len(header):
                pending = (reader.line_num, fields)
                continue
            try:
                epoch = int(float(fields[0]))
                row = {name: parse_number(cell) for name, cell in zip(header[1:], fields[1:])}
            except ValueError:
                raise UnreadableRecord(source.name, f"line {reader.line_num}: not a number in {fields!r}") from None
            rows.add(epoch, {k: v for k, v in row.items() if v is not None})
        if pending:
            notes.append(f"last line ({pending[0]}) is incomplete and was skipped: the file looks truncated")
    if not rows.rows:
        raise UnreadableRecord(source.name, "CSVLogger header but no epoch rows")
    return build_run(rows.rows, source=source.name, format=FORMAT, events=rows.events, notes=notes, info={"epoch_base": 0})
