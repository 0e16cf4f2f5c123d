"""The fast path of the Keras text reader: a ``verbose=1`` log is mostly progress
updates that a ``\\r`` overwrites (199 of 200 per epoch); this path scans the bytes
and hands the careful parser only the updates that can change what it reads.

Of each line it feeds the first update, the complete ones at its end (``N/N``) and
everything of a line it has any doubt about. It skips the updates between when the
first is a plain unfinished step with metrics, the last is an unfinished step of the
same bar and a cheap ``find`` sees no ``Epoch`` (a header or callback message) among
them: the parser ignores the unfinished steps of a bar after its first one (except in
the block before the first header, which keeps them). When
the epoch's block is still fresh, the finished, validated last step alone is fed.

A block without ``\\r`` (a ``verbose=2`` log) is read in bulk where it holds a run of
at least ``MIN_RECORDS`` plain records, an ``Epoch k/N`` header and one complete
summary line each, of one shape: the same text between the digit runs, found with
numpy over the bytes and read as exactly as ``float`` reads them (:class:`Records`).
Anything else (callback messages, blank lines, a record of another shape, say with
"nan" where the others have digits) is fed line by line, as are the first and last
records of each run: the first checks the shape against the careful parser.

A file that is not plain UTF-8 ending in a newline, or holds NUL bytes or a line
longer than the careful reader allows, is left to the careful path (``read`` returns
None), as is stdin.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from .decimal_cells import EXACT_POWER, exactly_scaled
from .numbers import NUMBER_PATTERN
from .textio import LINE_LIMIT, LeftToCareful, clean, whole_line_blocks

BLOCK = 1 << 20  # bytes read at a time: memory stays flat in the file size
# the first "done/total" of an update, past ANSI codes: "\x1b[1m57/200\x1b[0m" or " 57/200 ["
_STEPS = re.compile(rb"[ \x1b\[0-9;m]*?(\d+)/(\d+)")
_HEADER = re.compile(rb"Epoch (\d{1,15})/(\d+)")  # a line that is only a header


def read(source):
    """The runs of a plain verbose=1 or verbose=2 log, or None to read it carefully."""
    from .keras_text import _Parser

    parser = _Parser(source.name)
    try:
        for buf, end, last in whole_line_blocks(source, BLOCK):
            fed = _feed_plain(parser, buf, end) if buf.find(b"\r", 0, end) < 0 else _feed_lines(parser, buf, 0, end, last)
            if not fed:
                return None
    except LeftToCareful:
        return None
    runs = parser.runs()
    return runs[0] if len(runs) == 1 else runs


def _feed_lines(parser, buf: bytes, pos: int, end: int, last_block: bool = False) -> bool:
    """Feed the lines of ``buf[pos:end]``; False when one is longer than the careful reader allows."""
    while pos < end:
        nl = buf.index(b"\n", pos)
        if nl - pos >= LINE_LIMIT:
            return False
        stop = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl  # "\r\n" ends the line
        if buf.find(b"\r", pos, stop) < 0:
            if header := _HEADER.fullmatch(buf, pos, stop):  # what the parser makes of it, sooner
                parser.header(int(header.group(1)), header.group(2).decode())
                pos = nl + 1
                continue
            segments = [buf[pos:stop]]
        elif last_block and nl + 1 == end:
            segments = buf[pos:stop].split(b"\r")  # the last line is read in full
        else:
            segments = _kept(parser, buf, pos, stop)
        for segment in segments:
            if text := clean(segment.decode("utf-8", "replace")):  # a blank update changes nothing
                parser.feed_update(text)
        pos = nl + 1
    return True


def _kept(parser, buf: bytes, pos: int, stop: int) -> list[bytes]:
    """The ``\\r`` updates of the line ``buf[pos:stop]`` the parser must see, in order."""
    whole = buf[pos:stop].split
    first, last = buf.find(b"\r", pos, stop), buf.rfind(b"\r", pos, stop)
    steps = _STEPS.match(buf, last + 1, stop)
    if steps is None or first == last or parser.block.updates is not None:  # a block that keeps every update
        return whole(b"\r")
    total = steps.group(2)
    second, before = buf.find(b"\r", first + 1, stop), buf.rfind(b"\r", first, last)
    # Keras 3 prints the last step twice: without, then with the validation metrics
    tail = before if buf.find(total + b"/" + total, before, last) >= 0 else last
    if tail <= second:
        return whole(b"\r")
    first_update = buf[first + 1 : second]
    last_skipped = _STEPS.match(buf, buf.rfind(b"\r", second, tail) + 1, tail)
    if (
        # "E" is a memchr; Keras 2's "ETA" makes it common, then "Epoch" is looked for
        (buf.find(b"E", second, tail) >= 0 and buf.find(b"Epoch", second, tail) >= 0)
        or not last_skipped
        or last_skipped.group(2) != total
        or last_skipped.group(1) == total
        or not _plain_update(clean(first_update.decode("utf-8", "replace")), total.decode())
    ):
        return whole(b"\r")
    final = buf[last + 1 : stop]
    if steps.group(1) == total and _fresh(parser.block) and not buf[pos:first].strip() and _validated(final):
        return [final]
    return [buf[pos:first], first_update, *buf[tail + 1 : stop].split(b"\r")]


def _plain_update(segment: str, total: str) -> bool:
    """An unfinished step of a bar of ``total`` steps, with metrics: the parser then
    ignores any later such update until the bar finishes."""
    from .keras_text import PROGRESS, _looks_like_metrics

    m = PROGRESS.match(segment)
    return bool(m) and m.group(2) == total and int(m.group(1)) < int(total) and _looks_like_metrics(segment)


def _validated(update: bytes) -> bool:
    """The update holds a ``val_...: number`` pair (the parser's summary then takes it)."""
    from .keras_text import PAIR

    text = clean(update.decode("utf-8", "replace"))
    at = text.find("val_")
    return at >= 0 and PAIR.match(text, at) is not None


def _fresh(block) -> bool:
    """An epoch's block that has seen nothing yet: its finished, validated last step
    alone then gives it what the whole bar would (step count, summary, not partial)."""
    return block.epoch is not None and block.total is None and block.summary is None and not block.partial


# --- verbose=2: runs of plain records, read in bulk ----------------------------------

_DIGITS = b"0123456789."
MIN_RECORDS = 8  # fewer plain records in a row are left to the careful parser
LONG_RUN = 400  # clean() writes a run of this many digits "inf"
# Runs are read 8 bytes at a time: the little-endian word of the 8 bytes up to a place,
# its last byte the highest. _PAD bytes before the text keep the 16 up to a run's end in the buffer.
_PAD = 16
_KEEP = np.array([(1 << 64) - (1 << 8 * (8 - k)) for k in range(9)], np.uint64)  # a word's last k bytes
_NIBBLES = 0x0F0F0F0F0F0F0F0F  # of "0"-"9" each byte's digit
_DIGIT_BIT = np.uint64(0x1010101010101010)  # set in "0"-"9", clear in "."
_PAIRS, _QUADS, _OCTETS = (np.uint64(m) for m in (0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0xFFFFFFFF))
_NAME = rb"[A-Za-z_][\w./@-]*"
# "Epoch 3/20\n200/200 - 1s - 5ms/step - loss: 0.25 - lr: 1.0000e-04\n": header, steps, then items
_HEAD = re.compile(rb"Epoch (\d+)/\d+\n(\d+)/(\d+)(?= - )")
_ITEM = re.compile(rb" - (?:(" + _NAME + rb"): (" + NUMBER_PATTERN.encode() + rb")|[\d.]+[a-z]{0,3}(?:/[a-z]+)?)(?= - |\n)")
_RUN = re.compile(rb"[\d.]+")
_NUMBER = re.compile(rb"([-+]?)R(?:[eE]([-+]?)R)?")  # a value with its digit runs written R


class Records:
    """Plain verbose=2 records read in bulk: their ``epochs`` and a column of values per
    metric. ``epoch``, ``summary``, ``partial`` and ``updates`` answer what the parser asks of a block."""

    partial, updates = False, None

    def __init__(self, epochs: np.ndarray, summary: dict[str, np.ndarray]):
        self.epochs, self.summary = epochs, summary
        self.epoch = int(epochs[0])

    def rows(self):
        """``(epoch, {metric: value})`` of each record."""
        names, columns = list(self.summary), [c.tolist() for c in self.summary.values()]
        return [(epoch, dict(zip(names, row))) for epoch, *row in zip(self.epochs.tolist(), *columns)]


class _Value(NamedTuple):
    """How a record writes a metric's value: ``[sign]mantissa[e[exponent_sign]exponent]``
    with digit runs ``mantissa`` and ``exponent`` (their places in the record), or a
    ``constant`` without digits ("nan")."""

    name: str
    sign: float
    mantissa: int | None
    exponent_sign: int
    exponent: int | None
    constant: float | None


class _Shape:
    """One record as a template: its text without the digit runs, where each run goes in
    it, and which runs are the epoch, the steps, each metric's value and a time (any
    digits); all other runs (in a name) must be the same in every record."""

    def __init__(self, record: bytes):
        head = _HEAD.match(record)
        items, pos = [], head.end() if head else 0
        while head and (item := _ITEM.match(record, pos)):
            items.append(item)
            pos = item.end()
        runs = list(_RUN.finditer(record))
        self.ok = bool(head) and record[pos:] == b"\n" and any(i.group(1) for i in items)
        if not self.ok:
            return
        self.skeleton, self.tail = record.translate(None, _DIGITS), record[runs[-1].end():]
        lengths = np.array([len(r.group()) for r in runs])
        self.offsets = np.array([r.start() for r in runs]) - (np.cumsum(lengths) - lengths)
        self.gaps = np.diff(self.offsets, append=self.offsets[0] + len(self.skeleton))  # to the next run
        at = {r.span(): k for k, r in enumerate(runs)}
        self.epoch, self.done, self.total = (at.get(head.span(g)) for g in (1, 2, 3))
        self.values = [self._value(i, runs) for i in items if i.group(1)]
        # free: the header and steps (checked below), the values and the times
        spans = [i.span(2) if i.group(1) else i.span() for i in items]
        free = {k for k, r in enumerate(runs) if r.start() < head.end() or any(a <= r.start() < b for a, b in spans)}
        self.fixed = [(k, r.group()) for k, r in enumerate(runs) if k not in free]
        self.ok = None not in (self.epoch, self.done, self.total, *self.values)

    @staticmethod
    def _value(item, runs) -> _Value | None:
        """How the record writes the value of ``item`` (a ``name: value`` match)."""
        start, end = item.span(2)
        inside = [k for k, r in enumerate(runs) if start <= r.start() < end]
        name, shape = item.group(1).decode(), _NUMBER.fullmatch(_RUN.sub(b"R", item.group(2)))
        if not inside:
            return _Value(name, 1.0, None, 1, None, float(item.group(2)))
        if shape is None or len(inside) != 1 + (shape.group(2) is not None):
            return None
        sign, exponent_sign = (-1 if s == b"-" else 1 for s in (shape.group(1), shape.group(2)))
        return _Value(name, float(sign), inside[0], exponent_sign, inside[1] if len(inside) > 1 else None, None)


def _feed_plain(parser, buf: bytes, end: int) -> bool:
    """Feed the lines ``buf[:end]`` of a block without ``\\r``: the runs of plain records
    between its first and last ``Epoch`` lines in bulk, the rest line by line."""
    first = 0 if buf.startswith(b"Epoch ") else buf.find(b"\nEpoch ", 0, end) + 1
    last = buf.rfind(b"\nEpoch ", first, end) + 1
    if last <= first:
        return _feed_lines(parser, buf, 0, end)
    return _feed_lines(parser, buf, 0, first) and _feed_region(parser, buf, first, last) and _feed_lines(parser, buf, last, end)


def _feed_region(parser, buf: bytes, start: int, stop: int) -> bool:
    """Feed the whole lines ``buf[start:stop]``, from an ``Epoch`` line on: runs of plain
    records in bulk, any other record or message line by line."""
    while start < stop:
        found = _records(buf, start, stop)
        if found is None:
            after = buf.find(b"\nEpoch ", start, stop) + 1 or stop
            if not _feed_lines(parser, buf, start, after):
                return False
            start = after
            continue
        epochs, summary, second, last, after = found
        # the first record is read carefully too, to check the shape; the last so that the
        # parser's current block is its own, as careful reading leaves it
        _feed_lines(parser, buf, start, second)
        block = parser.block
        if block.epoch == epochs[0] and repr(block.summary) == repr({k: v[0].item() for k, v in summary.items()}):
            parser.blocks.append(Records(epochs[1:-1], {k: v[1:-1] for k, v in summary.items()}))
            second = last
        if not _feed_lines(parser, buf, second, after):
            return False
        start = after
    return True


def _records(buf: bytes, start: int, stop: int):
    """``(epochs, {metric: values}, where the second and the last record start, where
    they end)`` of the plain records of one shape from ``start`` on, or None when there
    are fewer than ``MIN_RECORDS``."""
    first = buf.find(b"\n", buf.find(b"\n", start, stop) + 1, stop) + 1
    shape = _shape(buf[start:first]) if first > start else None
    if shape is None or not shape.ok:
        return None
    n, end = _leading_records(buf, start, stop, shape, 4 * MIN_RECORDS * (first - start))
    width = len(shape.offsets)
    edges = _run_edges(buf, start, end, n * width) if n >= MIN_RECORDS else None
    if edges is None:
        return None
    # each run's length and the text from it to the next, where the shape puts them
    spans = np.empty_like(edges)
    np.subtract(edges[1:], edges[:-1], out=spans[:-1])
    spans[-1] = shape.gaps[-1]
    lengths, gaps = spans.reshape(n, width, 2).transpose(2, 0, 1)
    after = start + int(edges[-1]) + len(shape.tail)
    if edges[0] != shape.offsets[0] or lengths.max() >= LONG_RUN or not (gaps == shape.gaps).all() or buf[after - len(shape.tail):after] != shape.tail:
        return None
    source = buf if start >= _PAD else bytes(_PAD) + buf
    words = np.ndarray((len(source) - 7,), "<u8", source, strides=(1,))
    at = edges.reshape(n, width, 2)[..., 1] + (start + len(source) - len(buf) - 8)  # the word of each run's last 8 bytes
    if not all(_all_read(words, at[:, k], lengths[:, k], digits) for k, digits in shape.fixed):
        return None
    epochs = _integers(words, at[:, shape.epoch], lengths[:, shape.epoch])
    # each step finished: the careful parser keeps an unfinished one out of the summary
    steps, first_total = [shape.done, shape.total], buf[start + edges[2 * shape.total] : start + edges[2 * shape.total + 1]]
    if epochs is None or not _all_read(words, at[:, steps], lengths[:, steps], first_total):
        done, total = (_integers(words, at[:, k], lengths[:, k]) for k in (shape.done, shape.total))
        if epochs is None or done is None or not np.array_equal(done, total):
            return None
    read = _numbers(words, at, lengths, [v for v in shape.values if v.mantissa is not None])
    if read is None:
        return None
    summary = {v.name: np.full(n, v.constant) if v.mantissa is None else v.sign * next(read) for v in shape.values}
    second, last = start + edges[[2 * width, 2 * width * (n - 1)]] - shape.offsets[0]
    return epochs, summary, int(second), int(last), after


def _leading_records(buf: bytes, start: int, stop: int, shape: _Shape, window: int) -> tuple[int, int]:
    """How many records of ``shape`` ``buf[start:stop]`` starts with, and where the text
    looked at ends: a ``window`` that grows while all it holds are records of the shape."""
    while True:
        end = stop if start + 2 * window > stop else start + window
        skeleton = buf[start:end].translate(None, _DIGITS)  # the text between the digit runs
        n = _leading(skeleton, shape.skeleton)
        if end == stop or n < len(skeleton) // len(shape.skeleton):
            return n, end
        window *= 16


def _run_edges(buf: bytes, start: int, end: int, count: int) -> np.ndarray | None:
    """Where each of the first ``count`` digit runs of ``buf[start:end]`` starts and ends
    (from ``start``), or None when it holds fewer. Few arrays as large as the text are made
    (each new one costs its pages' faults), and none outlives the call."""
    text = np.frombuffer(buf, np.uint8, end - start, start)
    scratch = np.bitwise_xor(text, 1)  # "." and "/" swapped: "." or "0"-"9" are 47-57
    digit = np.less_equal(np.subtract(scratch, 47, out=scratch), 10)
    change = scratch.view(np.bool_)
    change[0] = False  # a record starts with other text
    np.not_equal(digit[1:], digit[:-1], out=change[1:])
    edges = np.flatnonzero(change)[: 2 * count]
    return edges if len(edges) == 2 * count else None


def _leading(text: bytes, part: bytes) -> int:
    """How many copies of ``part`` ``text`` starts with."""
    low, high = 0, len(text) // len(part)
    if text.startswith(part * high):
        return high
    high -= 1
    while low < high:  # it starts with low copies, not with high + 1
        middle = (low + high + 1) // 2
        low, high = (middle, high) if text.startswith(part * middle) else (low, middle - 1)
    return low


def _all_read(words: np.ndarray, at: np.ndarray, lengths: np.ndarray, digits: bytes) -> bool:
    """The runs whose last word is ``words[at]`` (and of ``lengths``, of any shape) all read ``digits``."""
    if not (lengths == len(digits)).all():
        return False
    for back in range(0, len(digits), 8):
        part = digits[max(len(digits) - back - 8, 0) : len(digits) - back].rjust(8, b"\0")
        if not (words[at - back] & _KEEP[min(len(digits) - back, 8)] == np.uint64(int.from_bytes(part, "little"))).all():
            return False
    return True


_SHAPES: dict[bytes, _Shape] = {}


def _shape(record: bytes) -> _Shape:
    """The shape of ``record``, kept by its text between the digit runs (a record of the
    same text with its runs elsewhere does not pass the checks against it)."""
    skeleton = record.translate(None, _DIGITS)
    if skeleton not in _SHAPES:
        if len(_SHAPES) >= 256:
            _SHAPES.clear()
        _SHAPES[skeleton] = _Shape(record)
    return _SHAPES[skeleton]


def _decimals(words: np.ndarray, at: np.ndarray, lengths: np.ndarray):
    """``(digits as an integer, digits after the point, has a point)`` of the runs whose
    last word is ``words[at]``, or None unless each is a decimal of 1 to 15 digits with its
    point, if any, as many places from the right in each (Keras prints a metric with a
    fixed precision). A run is read as its last 8 bytes and the 8 before them, in place:
    each new array costs its pages' faults."""
    width, shortest = int(lengths.max()), int(lengths.min())
    if width > 16:
        return None
    halves, marks = [], []
    for back in range(0, width, 8):
        keep = _KEEP[np.clip(lengths - back, 0, 8)]
        half = words[at - back]
        half &= keep
        points = np.bitwise_xor(half, keep, out=keep)  # bit 4 of each "." of the run
        points &= _DIGIT_BIT
        marks.append(int(points[0]))
        if (points != marks[-1]).any():
            return None
        halves.append(half)
    if sum(m.bit_count() for m in marks) > 1:
        return None
    after = next((8 * k + 7 - m.bit_length() // 8 for k, m in enumerate(marks) if m), None)
    if width - (after is not None) > 15 or (after is not None and shortest < 2):
        return None
    # the point read as a digit 0 (the "." byte cleared), then taken out of the integer
    value = _eight_digits(halves[0], marks[0])
    if len(halves) > 1:
        value += _eight_digits(halves[1], marks[1]) * np.uint64(10**8)
    if after is not None:
        value -= value // np.uint64(10 ** (after + 1)) * np.uint64(9 * 10**after)
    return value.view(np.int64), after or 0, after is not None


def _eight_digits(words: np.ndarray, point: int) -> np.ndarray:
    """The number the 8 bytes of each word write, one digit a byte, the first highest, the
    byte of ``point`` (bit 4 of a "." byte) read as 0; worked out in ``words``."""
    words &= np.uint64(_NIBBLES & ~((point >> 4) * 0xFF))
    shifted = np.empty_like(words)
    for factor, shift, lanes in ((10, 8, _PAIRS), (100, 16, _QUADS), (10000, 32, _OCTETS)):
        np.right_shift(words, np.uint64(shift), out=shifted)
        words *= np.uint64(factor)
        words += shifted
        words &= lanes
    return words


def _integers(words, at, lengths):
    """The runs as integers, or None unless each is at most 15 digits."""
    found = _decimals(words, at, lengths)
    return None if found is None or found[2] else found[0]


def _numbers(words, at, lengths, values: list[_Value]):
    """An iterator over the columns of ``values`` (with digits, unsigned) as ``float``
    reads them (mantissas of at most 15 digits: :func:`.decimal_cells.exactly_scaled`),
    or None. The mantissas are read in one pass when they are alike."""
    runs = [v.mantissa for v in values]
    found = _decimals(words, at[:, runs].ravel(), lengths[:, runs].ravel()) if runs else None
    if found:
        mantissas, afters = found[0].reshape(-1, len(runs)).T, [found[1]] * len(runs)
    else:
        each = [_decimals(words, at[:, k], lengths[:, k]) for k in runs]
        if None in each:
            return None
        mantissas, afters = [m for m, _, _ in each], [a for _, a, _ in each]
    columns = []
    for value, mantissa, after in zip(values, mantissas, afters):
        power = -after
        if value.exponent is not None:
            exponent = _integers(words, at[:, value.exponent], lengths[:, value.exponent])
            if exponent is None:
                return None
            power = power + value.exponent_sign * exponent
        if np.abs(power).max() > EXACT_POWER:
            return None
        columns.append(exactly_scaled(mantissa, power))
    return iter(columns)
