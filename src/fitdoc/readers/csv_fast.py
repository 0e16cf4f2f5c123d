"""The fast path of the Keras CSVLogger reader: the file is read as bytes, about a
megabyte of whole lines at a time, and a block of rows of plain numbers is parsed
with a few NumPy calls over the whole block (see :func:`_cells`) instead of the
csv module and a ``float()`` per cell; ``NA`` cells are read as missing.

A block holding anything else (a repeated header, an empty cell, ``nan``...) gives
its text lines to the careful path. A file whose lines the careful path would see
differently is left to it whole (:class:`LeftToCareful`): not UTF-8, a header that
is not the first line, NUL bytes, a lone ``\\r``, a quote (a quoted cell may span
lines), a line longer than ``LINE_LIMIT``.
"""

from __future__ import annotations

import io
import sys
import warnings

import numpy as np

from .textio import LINE_LIMIT

BLOCK_BYTES = 1 << 20


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
        return _cells(data, delim.encode(), width)


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


def _cells(data: bytes, sep: bytes, width: int) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Each cell of ``data`` (rows of ``width`` cells ending in newlines) as ``float()``
    reads it, or None when a cell is not ``[-+]digits[.digits][e[-+]digits]`` or NA.

    The digits are read as integers by one ``np.fromstring`` over the text with
    every ``.``, ``e`` and delimiter made a comma; a cell's value is its mantissa
    (up to 18 digits) times a power of ten (up to 27) scaled by :func:`_scaled`;
    other cells, and those it doubts, are read by ``float()``."""
    raw = np.frombuffer(data, np.uint8)
    at = np.flatnonzero((raw - np.uint8(48)) > 9)  # where each byte that is not a digit is
    marks = np.append(raw[at], np.uint8(10))  # those bytes, and a newline for the NA test's look-ahead
    kept = marks[:-1].tobytes().translate(None, b".eE+-NA")
    rows = kept.count(b"\n")
    if not rows or kept != (sep * (width - 1) + b"\n") * rows:
        return None
    last = np.flatnonzero((marks[:-1] == sep[0]) | (marks[:-1] == 10))  # each cell's delimiter, among the marks
    end = at[last]
    begin = np.concatenate(([0], end[:-1] + 1))
    # walk each cell's marks: NA | [sign] [.] [e [sign]]
    j = np.concatenate(([0], last[:-1] + 1))
    na = (marks[j] == 78) & (marks[j + 1] == 65) & (at[j] == begin) & (end == begin + 2) if b"N" in data else np.zeros(len(j), bool)
    j = j + 2 * na
    c = marks[j]
    signed = ((c == 45) | (c == 43)) & (at[j] == begin)
    negative = signed & (c == 45)
    j = j + signed
    dot = marks[j] == 46
    dot_at = at[j]
    j = j + dot
    exp = (marks[j] | 32) == 101
    exp_at = at[j]
    j = j + exp
    c = marks[j]
    exp_signed = exp & ((c == 45) | (c == 43)) & (at[j] == exp_at + 1)
    j = j + exp_signed
    mantissa_end = np.where(exp, exp_at, end)
    whole_digits = np.where(dot, dot_at, mantissa_end) - begin - signed
    fraction_digits = np.where(dot, mantissa_end - dot_at - 1, 0)
    if not np.array_equal(j, last) or not np.all(na | (whole_digits > 0) & (~exp | (end - exp_at - 1 - exp_signed > 0))):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # older NumPy warns where newer raises
        try:
            ints = np.fromstring(data.translate(_COMMAS[sep]), np.int64, sep=",")
        except (ValueError, DeprecationWarning):
            return None
    tokens = 1 + dot + exp.astype(np.intp)
    first = np.cumsum(tokens) - tokens
    if ints.size != first[-1] + tokens[-1]:
        return None
    whole = np.abs(ints[first])
    fraction = np.where(dot, ints[first + dot], 0)
    power = np.where(exp, np.minimum(np.maximum(ints[first + tokens - 1], -1000), 1000), 0) - fraction_digits
    mantissa = np.where(whole == 0, fraction, whole * _POW10[np.minimum(fraction_digits, 18)] + fraction)
    slow = ~na & ((whole != 0) & (whole_digits + fraction_digits > 18) | (fraction == _INT_MAX) | (np.abs(power) > 27))
    values, doubt = _scaled(mantissa, power)
    slow |= ~na & doubt
    np.negative(values, out=values, where=negative)
    values[na] = np.nan
    cells = np.flatnonzero(slow)
    values[cells] = [float(data[b:e]) for b, e in zip(begin[cells].tolist(), end[cells].tolist())]
    return values.reshape(rows, width), ~na.reshape(rows, width) if na.any() else None


def _scaled(mantissa: np.ndarray, power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``mantissa * 10**power`` correctly rounded to doubles, and where it may not be.

    A double holds a mantissa up to 2**53 and 10**22 exactly, so one division or
    product rounds correctly (Clinger's fast path). Beyond, x87 long double holds a
    mantissa up to 2**63 and 10**27 exactly: the result rounded to 64 bits then to
    53 is the correctly rounded one unless the 64-bit result lies exactly halfway
    between two doubles; elsewhere than x87 all those are doubted."""
    values = mantissa.astype(np.float64) / _POW10_DOUBLE[np.minimum(np.maximum(-power, 0), 22)]
    values *= _POW10_DOUBLE[np.minimum(np.maximum(power, 0), 22)]
    long = (mantissa > 2**53) | (np.abs(power) > 22)
    if not _X87:
        return values, long
    at = np.flatnonzero(long)
    wide, scale = mantissa[at].astype(np.longdouble), _POW10_WIDE[np.minimum(np.abs(power[at]), 27)]
    wide = np.where(power[at] < 0, wide / scale, wide * scale)
    values[at] = wide
    long[at] = (wide.view(np.uint64)[::2] & 0x7FF) == 0x400
    return values, long


_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)
_POW10_WIDE = np.cumprod(np.concatenate(([1], np.full(27, 10))).astype(np.longdouble))  # 10**0 .. 10**27, exact (5**27 < 2**64)
_POW10_DOUBLE = np.array([float(10**k) for k in range(23)])  # exact
_INT_MAX = np.iinfo(np.int64).max  # where a number of 19 digits or more saturates
_X87 = np.finfo(np.longdouble).nmant == 63 and np.dtype(np.longdouble).itemsize == 16 and sys.byteorder == "little"
_COMMAS = {sep: bytes.maketrans(b"\n.eENA" + sep, b",,,,00,") for sep in (b",", b"\t", b";")}
