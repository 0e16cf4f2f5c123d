"""Text decoding shared by the text readers: BOMs, UTF-16 (PowerShell ``>``), GBK,
terminal control sequences (``\\r``, ``\\b``, ANSI colour codes), NUL padding; and the
limits that keep any input bounded: regular files only, lines of at most
``LINE_LIMIT`` characters, whole-file reads of at most ``READ_LIMIT``."""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path
from typing import IO, Iterator

from ..errors import UnreadableRecord

HEAD_BYTES = 64 * 1024
LINE_LIMIT = 16 << 20  # characters: a longer line is not a training log's
READ_LIMIT = 256 << 20  # characters of a file read whole (JSON)
# Bytes that do not occur in text (NUL is handled apart: logs get NUL-padded).
_CONTROL = bytes(c for c in range(1, 32) if chr(c) not in "\t\n\r\f\v\b\x1b") + b"\x7f"

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][AB012]|\x1b[=>]")


class LeftToCareful(Exception):
    """A fast path leaves the file to its careful reader (which reads it from its start)."""


def whole_line_blocks(source, block: int):
    """``(buf, end, last)`` of each block of whole lines of a UTF-8 file that ends in a
    newline: ``buf[:end]`` the lines, ``last`` whether they end the file. Each block is
    read from the first byte not yet given (a part carried over is read again, not
    copied onto the next block); a line longer than ``block`` is read whole.
    :class:`LeftToCareful` for stdin, another encoding, a cut last line (the careful
    reader notes it), NUL bytes and a line of ``LINE_LIMIT`` bytes or more."""
    if getattr(source, "data", None) is not None or source.encoding != "utf-8":
        raise LeftToCareful
    with open(source.path, "rb") as fh:
        size = fh.seek(0, 2)
        if size == 0 or (fh.seek(size - 1), fh.read(1))[1] != b"\n":
            raise LeftToCareful
        offset, want = 0, block
        while offset < size:
            fh.seek(offset)
            buf = fh.read(want)
            end = buf.rfind(b"\n") + 1
            if b"\x00" in buf or (end == 0 and len(buf) >= LINE_LIMIT):
                raise LeftToCareful
            if end == 0:
                want = min(2 * want, LINE_LIMIT)
                continue
            yield buf, end, offset + end == size
            offset, want = offset + end, block


def detect_encoding(head: bytes) -> str:
    """Encoding of a file from its first bytes."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if head:
        # UTF-16 without BOM: every other byte (and only that one) is NUL in mostly-ASCII text.
        sample = head[:4096]
        odd, even = sample[1::2].count(0) / len(sample[1::2] or b"."), sample[0::2].count(0) / len(sample[0::2])
        if odd > 0.4 and even < 0.1:
            return "utf-16-le"
        if even > 0.4 and odd < 0.1:
            return "utf-16-be"
    if b"\x00" in head:  # NUL padding (a crash, a power cut) is dropped; binary data is refused
        head = head.replace(b"\x00", b"")
        if not head.strip():
            raise UnreadableRecord("", "the file holds only NUL bytes, no text")
    if len(head) - len(head.translate(None, _CONTROL)) > 0.01 * len(head):
        raise UnreadableRecord("", "binary file, not a text log")
    try:
        _strict_prefix_decode(head, "utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        _strict_prefix_decode(head, "gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return "latin-1"


def _strict_prefix_decode(data: bytes, encoding: str) -> None:
    """Decode ``data`` strictly, tolerating a multi-byte character cut at the end."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    decoder.decode(data, final=False)


def check_regular(path: Path) -> None:
    """Refuse a FIFO, device or socket: reading one may never end."""
    if not path.is_file():
        raise UnreadableRecord(str(path), "not a regular file (a FIFO, device or socket); save the record to a file first")


def read_head(path: Path) -> bytes:
    check_regular(path)
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def open_text(path: Path, encoding: str | None = None) -> TextStream:
    """Open a text log for streaming; ``newline=''`` keeps ``\\r`` progress updates apart."""
    check_regular(path)
    raw = open(path, "rb")
    if encoding is None:
        try:
            encoding = detect_encoding(raw.read(HEAD_BYTES))
        except UnreadableRecord as exc:
            raw.close()
            raise UnreadableRecord(str(path), exc.reason) from None
        raw.seek(0)
    return TextStream(io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=""), str(path))


class TextStream:
    """The lines of a text file without NUL bytes, each at most ``LINE_LIMIT``
    characters (a longer one raises :class:`UnreadableRecord`), and :meth:`read` of
    at most ``READ_LIMIT`` characters, so that no input grows memory without bound."""

    def __init__(self, stream: IO[str], name: str) -> None:
        self._stream, self.name = stream, name
        self._lines = self._iter()

    def __enter__(self) -> TextStream:
        return self

    def __exit__(self, *exc) -> None:
        self._stream.close()

    def __iter__(self) -> Iterator[str]:
        return self._lines

    def __next__(self) -> str:
        return next(self._lines)

    def read(self) -> str:
        text = self._stream.read(READ_LIMIT + 1)
        if len(text) > READ_LIMIT:
            raise UnreadableRecord(self.name, f"more than {READ_LIMIT >> 20} MiB of text to read at once: not a training record")
        return text.replace("\x00", "") if "\x00" in text else text

    def _iter(self) -> Iterator[str]:
        readline, number = self._stream.readline, 0
        while line := readline(LINE_LIMIT):
            number += 1
            if len(line) == LINE_LIMIT and not line.endswith(("\n", "\r")):
                raise UnreadableRecord(self.name, f"line {number} is longer than {LINE_LIMIT >> 20} MiB: not a training log")
            if "\x00" in line:
                line = line.replace("\x00", "")
                if not line:
                    continue
            yield line


_LONG_DIGITS = re.compile(r"\d{400,}")  # beyond any float: written "inf" so regexes stay linear


def clean(segment: str) -> str:
    """A screen segment without ANSI codes, backspaces and trailing whitespace; a run of
    400 or more digits (a number beyond any float) becomes ``inf``."""
    if len(segment) >= 400:
        segment = _LONG_DIGITS.sub("inf", segment)
    if "\x1b" in segment:
        segment = ANSI.sub("", segment)
    if "\b" in segment:
        segment = segment.replace("\b", "")
    return segment.rstrip()


def screen_segments(stream: IO[str]) -> Iterator[str]:
    """Yield what each line or ``\\r``-overwritten progress update showed on screen."""
    for raw in stream:
        # newline='' splits at \n, \r and \r\n; each piece is one screen update.
        yield clean(raw.rstrip("\r\n"))
