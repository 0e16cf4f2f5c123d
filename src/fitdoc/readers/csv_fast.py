"""The fast path of the Keras CSVLogger reader: the file is read as bytes, about a
megabyte of whole lines at a time, and a block of rows of plain numbers is parsed
by one NumPy call (``np.fromstring``, which rounds as ``float()`` does) instead of
the csv module and a ``float()`` per cell; ``NA`` cells are read as missing.

A block holding anything else (a repeated header, an empty cell, ``nan``...) gives
its text lines to the careful path. A file whose lines the careful path would see
differently is left to it whole (:class:`LeftToCareful`): not UTF-8, a header that
is not the first line, NUL bytes, a lone ``\\r``, a quote (a quoted cell may span
lines), a line longer than ``LINE_LIMIT``.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from .textio import LINE_LIMIT

BLOCK_BYTES = 1 << 20
_NUMBER_BYTES = b"0123456789.eE+-"


class LeftToCareful(Exception):
    """The careful path reads this file (again, from its start)."""


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
        sep = delim.encode()
        kept = data.translate(None, _NUMBER_BYTES)  # the delimiters and newlines, and anything else
        rows = kept.count(b"\n")
        layout = (sep * (width - 1) + b"\n") * rows
        has_na = kept != layout
        if has_na and (kept.replace(b"NA", b"") != layout or b"-NA" in data or b"+NA" in data):
            return None
        if has_na:
            data = data.replace(b"NA", b"nan")  # a cell "1NA" becomes "1nan": not a number, so left
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)  # older NumPy warns where newer raises
            try:
                flat = np.fromstring(data.translate(bytes.maketrans(sep + b"\n", b",,")), sep=",")
            except (ValueError, DeprecationWarning):
                return None
        if flat.size != rows * width:
            return None
        values = flat.reshape(rows, width)
        return values, ~np.isnan(values) if has_na else None


class ByteRows:
    """The header line and the :class:`Block` s of a UTF-8 file, or
    :class:`LeftToCareful` on entering or while reading."""

    def __init__(self, source):
        if getattr(source, "data", None) is None and not source.path.is_file():
            raise LeftToCareful
        if source.encoding not in ("utf-8", "utf-8-sig"):
            raise LeftToCareful
        self._fh = io.BytesIO(source.data) if getattr(source, "data", None) is not None else open(source.path, "rb")
        first = self._fh.read(BLOCK_BYTES)
        end = first.find(b"\n") + 1
        self.header = _checked(first[:end]).decode(source.encoding, "replace")
        if not end or not self.header.strip():
            self._fh.close()
            raise LeftToCareful
        self._carry = first[end:]

    def __enter__(self) -> ByteRows:
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()

    def blocks(self):
        """Blocks of whole lines; the last one may be a line without its newline."""
        buf = self._carry
        while chunk := self._fh.read(BLOCK_BYTES):
            buf += chunk
            end = buf.rfind(b"\n") + 1
            if end == 0 and len(buf) >= LINE_LIMIT:
                raise LeftToCareful
            if end:
                yield Block(_checked(buf[:end]))
                buf = buf[end:]
        if buf:
            yield Block(_checked(buf))


def _checked(data: bytes) -> bytes:
    """``data``, unless it holds what only the careful path reads alike."""
    if b"\x00" in data or b'"' in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        raise LeftToCareful
    return data
