"""Cells of plain decimal numbers read in bulk, exactly as ``float()`` reads each:
rows of ``width`` cells, split by a delimiter, each row ending in a newline. The
Keras CSVLogger and Trainer dict-line fast paths read their numbers with
:func:`read_cells`; a block it doubts is theirs to read another way."""

from __future__ import annotations

import sys
import warnings

import numpy as np


def read_cells(data: bytes, sep: bytes, width: int) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Each cell of ``data`` (rows of ``width`` cells ending in newlines) as ``float()``
    reads it, or None when a cell is not ``[-+]digits[.[digits]][e[-+]digits]`` or NA.

    The bytes that are not digits (the marks) are found in place by NumPy and
    classified by a ``translate`` of the marks; the marks of each cell are checked
    pair by pair (:func:`_follows`). One ``np.fromstring`` over the text with the dots
    deleted and every ``e`` and delimiter made a comma reads each cell's mantissa
    (its digits, without the dot) and exponent as integers; the value, the mantissa
    times ten to the exponent less the number of fraction digits, is scaled by
    :func:`_scaled`. Other cells, and those it doubts, are read by ``float()``. Masks
    over the cells are turned into indices first: NumPy is slow on irregular masks,
    and on new large arrays (hence the in-place operations)."""
    raw = np.frombuffer(data, np.uint8)
    is_mark = raw - np.uint8(48)
    at = np.flatnonzero(np.greater(is_mark, 9, out=is_mark.view(bool)))  # where each mark is
    marks = np.frombuffer(raw[at].tobytes().translate(_CLASSES[sep]), np.uint8).copy()  # their classes
    kept = marks.tobytes().translate(None, _IN_CELL)  # the delimiters, and any byte no cell may hold
    rows = kept.count(_NEWLINE_BYTE)
    if not rows or kept != (_SEP_BYTE * (width - 1) + _NEWLINE_BYTE) * rows:
        return None
    after_exp = np.flatnonzero(marks[:-1] == _EXP) + 1
    marks[after_exp[marks[after_exp] == _SIGN]] = _EXP_SIGN  # the exponent's sign
    before = np.concatenate((_NEWLINE_MARK, marks[:-1]))  # the mark before each (a newline before the first)
    gaps = np.empty_like(at)  # one more than the digits between the two (one array, not np.diff's two)
    gaps[0] = at[0] + 1
    np.subtract(at[1:], at[:-1], out=gaps[1:])
    pairs = before * np.uint8(2 * _CLASS_COUNT) + marks * np.uint8(2) + (gaps > 1)
    if pairs.tobytes().translate(None, _FOLLOWS):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # older NumPy warns where newer raises
        try:
            ints = np.fromstring(data.translate(_COMMAS[sep], b"."), np.int64, sep=",")
        except (ValueError, DeprecationWarning):
            return None
    ends = np.flatnonzero(marks <= _EXP)  # the marks that end an integer: delimiters and e
    if ints.size != ends.size:
        return None
    before = before[ends]
    power = 1 - gaps[ends]
    power *= before == _DOT  # minus the number of fraction digits
    with_exp = np.flatnonzero(marks[ends] == _EXP)  # the mantissas an exponent follows
    if with_exp.size:
        power[with_exp] += np.minimum(np.maximum(ints[with_exp + 1], -1000), 1000)
        mantissas = np.flatnonzero((before != _EXP) & (before != _EXP_SIGN))  # the integers no exponent mark precedes
        ints, power, before = ints[mantissas], power[mantissas], before[mantissas]
    slow = np.abs(ints).view(np.uint64) >= _INT_MAX  # 19 digits or more saturate
    values, doubt = _scaled(ints, power)
    slow |= doubt
    zeros = np.flatnonzero(ints == 0)
    na = np.flatnonzero(before == _A) if b"N" in data else np.empty(0, np.intp)
    slow[na] = False
    values[na] = np.nan
    if zeros.size > na.size or slow.any():  # (NA cells read as 0)
        cell_ends = at[np.flatnonzero(marks <= _NEWLINE)]
        slow[zeros[raw[_starts(cell_ends, zeros)] == _MINUS]] = True  # "-0": its sign is only in the text
        cells = np.flatnonzero(slow)
        values[cells] = [float(data[b:e]) for b, e in zip(_starts(cell_ends, cells).tolist(), cell_ends[cells].tolist())]
    if not na.size:
        return values.reshape(rows, width), None
    present = np.ones(values.size, bool)
    present[na] = False
    return values.reshape(rows, width), present.reshape(rows, width)


def _starts(cell_ends: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Where these cells begin, from where each cell ends."""
    return np.where(cells > 0, cell_ends[cells - 1] + 1, 0)


def exactly_scaled(mantissa: np.ndarray, power) -> np.ndarray:
    """``mantissa * 10**power`` as ``float()`` reads the decimal, for integer mantissas
    below 2**53 and powers within ``EXACT_POWER`` (Clinger's fast path, see :func:`_scaled`)."""
    return _times_ten_to(mantissa.astype(np.float64), np.broadcast_to(power, mantissa.shape), _DIVISORS, _MULTIPLIERS)


def _scaled(mantissa: np.ndarray, power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``mantissa * 10**power`` correctly rounded to doubles, and where it may not be.

    A double holds a mantissa up to 2**53 and 10**22 exactly, so one division or
    product rounds correctly (Clinger's fast path). Beyond, x87 long double holds a
    mantissa up to 2**63 and 10**27 exactly: the result rounded to 64 bits then to
    53 is the correctly rounded one unless the 64-bit result lies exactly halfway
    between two doubles; elsewhere than x87 all those are doubted, and powers beyond
    27 everywhere."""
    power = np.clip(power, -_MAX_POWER, _MAX_POWER)
    values = _times_ten_to(mantissa.astype(np.float64), power, _DIVISORS, _MULTIPLIERS)
    long = (np.abs(mantissa) > 2**53) | (np.abs(power) > EXACT_POWER)
    if not _X87:
        return values, long
    at = np.flatnonzero(long)
    power = power[at]
    wide = _times_ten_to(mantissa[at].astype(np.longdouble), power, _WIDE_DIVISORS, _WIDE_MULTIPLIERS)
    values[at] = wide
    long[at] = ((wide.view(np.uint64)[::2] & 0x7FF) == 0x400) | (np.abs(power) > 27)
    return values, long


def _times_ten_to(x: np.ndarray, power: np.ndarray, divisors: np.ndarray, multipliers: np.ndarray) -> np.ndarray:
    """``x * 10**power`` in place, by one division (``divisors[power]``: ``10**-power``
    where ``power <= 0``, else 1) or one product (``multipliers[power]``: ``10**power``)."""
    x /= divisors[power]
    up = np.flatnonzero(power > 0)
    x[up] *= multipliers[power[up]]
    return x


def _powers_of_ten(dtype) -> tuple[np.ndarray, np.ndarray]:
    """(divisors, multipliers) for :func:`_times_ten_to`, for powers within ``_MAX_POWER``
    (the divisors of negative powers indexed from the end); exact up to 10**22 as
    doubles, 10**27 as x87 long doubles (5**27 < 2**64)."""
    tens = np.cumprod(np.concatenate(([1], np.full(_MAX_POWER, 10))).astype(dtype))
    return np.concatenate((np.ones(_MAX_POWER + 1, dtype), tens[:0:-1])), tens


# the classes of the marks (the bytes of a cell that are not digits); _EXP_SIGN: a sign right after e
_SEP, _NEWLINE, _EXP, _DOT, _SIGN, _EXP_SIGN, _N, _A, _OTHER = range(1, 10)
_CLASS_COUNT = _OTHER + 1


def _byte_classes(sep: bytes) -> bytes:
    """The ``translate`` table from bytes to their classes (digits to 0)."""
    table = bytearray([_OTHER]) * 256
    for chars, class_ in ((b"0123456789", 0), (sep, _SEP), (b"\n", _NEWLINE), (b"eE", _EXP), (b".", _DOT), (b"+-", _SIGN), (b"N", _N), (b"A", _A)):
        for char in chars:
            table[char] = class_
    return bytes(table)


_CLASSES = {sep: _byte_classes(sep) for sep in (b",", b"\t", b";")}
_IN_CELL = bytes([_EXP, _DOT, _SIGN, _N, _A])
_SEP_BYTE, _NEWLINE_BYTE, _NEWLINE_MARK = bytes([_SEP]), bytes([_NEWLINE]), np.array([_NEWLINE], np.uint8)
_MINUS = ord("-")


def _follows() -> bytes:
    """The pairs of marks that may follow each other, with digits between or without,
    as bytes ``(before * _CLASS_COUNT + after) * 2 + digits``: a cell is NA or
    ``[sign] digits [. [digits]] [e [sign] digits]`` (a sign after ``e`` is an _EXP_SIGN)."""
    allowed = np.zeros((_CLASS_COUNT, _CLASS_COUNT, 2), bool)
    delimiters, with_digits, without, either = (_SEP, _NEWLINE), [1], [0], [0, 1]
    for before, after, digits in (
        (delimiters, delimiters + (_DOT, _EXP), with_digits), (delimiters, (_SIGN, _N), without),
        ((_SIGN,), delimiters + (_DOT, _EXP), with_digits),
        ((_DOT,), delimiters + (_EXP,), either),
        ((_EXP,), delimiters, with_digits), ((_EXP,), (_EXP_SIGN,), without),
        ((_EXP_SIGN,), delimiters, with_digits),
        ((_N,), (_A,), without), ((_A,), delimiters, without),
    ):
        allowed[np.ix_(before, after, digits)] = True
    return np.flatnonzero(allowed).astype(np.uint8).tobytes()


_FOLLOWS = _follows()
EXACT_POWER = 22  # 10**22 is the largest power of ten a double holds exactly
_MAX_POWER = 28  # powers of ten beyond 27 are doubted, and clipped to this
_DIVISORS, _MULTIPLIERS = _powers_of_ten(np.float64)
_WIDE_DIVISORS, _WIDE_MULTIPLIERS = _powers_of_ten(np.longdouble)
_INT_MAX = np.iinfo(np.int64).max  # where a number of 19 digits or more saturates
_X87 = np.finfo(np.longdouble).nmant == 63 and np.dtype(np.longdouble).itemsize == 16 and sys.byteorder == "little"
_COMMAS = {sep: bytes.maketrans(b"\neENA" + sep, b",,,00,") for sep in _CLASSES}
