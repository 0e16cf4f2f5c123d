"""The fast path of the Keras text reader: a ``verbose=1`` log is mostly progress
updates that a ``\\r`` overwrites (199 of 200 per epoch); this path scans the bytes
and hands the careful parser only the updates that can change what it reads.

Of each line it feeds the first update, the complete ones at its end (``N/N``) and
everything of a line it has any doubt about. It skips the updates between when the
first is a plain unfinished step with metrics, the last is an unfinished step of the
same bar and a cheap ``find`` sees no ``Epoch`` (a header or callback message) among
them: the parser ignores the unfinished steps of a bar after its first one. When
the epoch's block is still fresh, the finished, validated last step alone is fed.
A file that is not plain UTF-8 ending in a newline, or holds NUL bytes or a line
longer than the careful reader allows, is left to the careful path (``read`` returns
None), as is stdin.
"""

from __future__ import annotations

import re

from .textio import LINE_LIMIT, clean

BLOCK = 1 << 20  # bytes read at a time: memory stays flat in the file size
# the first "done/total" of an update, past ANSI codes: "\x1b[1m57/200\x1b[0m" or " 57/200 ["
_STEPS = re.compile(rb"[ \x1b\[0-9;m]*?(\d+)/(\d+)")


def read(source):
    """The runs of a plain verbose=1 or verbose=2 log, or None to read it carefully."""
    from .keras_text import _Parser

    if getattr(source, "data", None) is not None or source.encoding != "utf-8":
        return None
    parser = _Parser(source.name)
    with open(source.path, "rb") as fh:
        size = fh.seek(0, 2)
        if size == 0 or (fh.seek(size - 1), fh.read(1))[1] != b"\n":
            return None  # a cut last line: the careful path notes it
        fh.seek(0)
        carry, offset = b"", 0
        while block := fh.read(BLOCK):
            buf = carry + block if carry else block
            end = buf.rfind(b"\n") + 1
            if b"\x00" in block or (end == 0 and len(buf) >= LINE_LIMIT):
                return None
            if not _feed_lines(parser, buf, end, offset + end == size):
                return None
            carry, offset = buf[end:], offset + end
    runs = parser.runs()
    return runs[0] if len(runs) == 1 else runs


def _feed_lines(parser, buf: bytes, end: int, last_block: bool) -> bool:
    """Feed the lines of ``buf[:end]``; False when one is longer than the careful reader allows."""
    pos = 0
    while pos < end:
        nl = buf.index(b"\n", pos)
        if nl - pos >= LINE_LIMIT:
            return False
        stop = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl  # "\r\n" ends the line
        if buf.find(b"\r", pos, stop) < 0:
            segments = [buf[pos:stop]]
        elif last_block and nl + 1 == end:
            segments = buf[pos:stop].split(b"\r")  # the last line is read in full
        else:
            segments = _kept(parser, buf, pos, stop)
        for segment in segments:
            if text := clean(segment.decode("utf-8", "replace")):  # a blank update changes nothing
                parser.feed(text)
        pos = nl + 1
    return True


def _kept(parser, buf: bytes, pos: int, stop: int) -> list[bytes]:
    """The ``\\r`` updates of the line ``buf[pos:stop]`` the parser must see, in order."""
    whole = buf[pos:stop].split
    first, last = buf.find(b"\r", pos, stop), buf.rfind(b"\r", pos, stop)
    steps = _STEPS.match(buf, last + 1, stop)
    if steps is None or first == last:
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
