"""The fast path of the Keras CSVLogger reader: the file is read as bytes, about a
megabyte of whole lines at a time, and a block of rows of plain numbers is parsed
with a few NumPy calls over the whole block (:func:`.decimal_cells.read_cells`)
instead of the csv module and a ``float()`` per cell; ``NA`` cells are read as missing.

A block holding anything else (a repeated header, an empty cell, ``nan``...) gives
its text lines to the careful path. A file whose lines the careful path would see
differently is left to it whole (:class:`LeftToCareful`): not UTF-8, a header that
is not the first line, NUL bytes, a lone ``\\r``, a quote (a quoted cell may span
lines), a line longer than ``LINE_LIMIT``.
"""

from __future__ import annotations

import io

import numpy as np

from .decimal_cells import read_cells
from .textio import LINE_LIMIT, LeftToCareful

BLOCK_BYTES = 1 << 20


class Block:
    """Whole lines of the file, as bytes."""

    def __init__(self, data: bytes):
        self.data = data

    def lines(self) -> list[str]:
        return list(io.StringIO(self.data.decode("utf-8", "replace"), newline=""))

    def numbers(self, delim: str, width: int) -> tuple[np.ndarray, np.ndarray | None] | None:
        """(values, present) of rows of ``width`` numbers, ``present`` None when all
        are; None when a cell is not a plain number or ``NA``."""
        data = self.data.replace(b"\r\n", b"\n") if b"\r" in self.data else self.data
        return read_cells(data, delim.encode(), width)


class ByteRows:
    """The header line and the :class:`Block` s of a UTF-8 file whose header is its
    first line; :class:`LeftToCareful` on entering or while reading otherwise."""

    def __init__(self, source):
        data = getattr(source, "data", None)  # standard input, held in memory
        if (data is None and not source.path.is_file()) or source.encoding not in ("utf-8", "utf-8-sig"):
            raise LeftToCareful
        self._fh = io.BytesIO(data) if data is not None else open(source.path, "rb")
        first = self._fh.read(BLOCK_BYTES)
        end = first.find(b"\n") + 1
        self.header = first[:end].decode(source.encoding, "replace")
        self._carry = first[end:]
        if not self.header.strip() or _careful_only(first[:end]):
            self._fh.close()
            raise LeftToCareful

    def __enter__(self) -> ByteRows:
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()

    def blocks(self):
        """Blocks of whole lines; the last one may be a line without its newline."""
        buf = self._carry
        while chunk := self._fh.read(BLOCK_BYTES):
            buf += chunk
            if buf.find(b"\n", 0, LINE_LIMIT - 1) < 0 and len(buf) >= LINE_LIMIT - 1:
                raise LeftToCareful  # a line the careful path may refuse as too long
            end = buf.rfind(b"\n") + 1
            if end:
                yield _block(buf[:end])
                buf = buf[end:]
        if buf:
            yield _block(buf)


def _block(data: bytes) -> Block:
    if _careful_only(data):
        raise LeftToCareful
    return Block(data)


def _careful_only(data: bytes) -> bool:
    """``data`` holds what the careful path reads differently line by line."""
    return b"\x00" in data or b'"' in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n"))
