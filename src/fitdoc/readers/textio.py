"""Text decoding shared by the text readers: BOMs, UTF-16 (PowerShell ``>``), GBK,
terminal control sequences (``\\r``, ``\\b``, ANSI colour codes)."""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path
from typing import IO, Iterator

from ..errors import UnreadableRecord

HEAD_BYTES = 64 * 1024

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][AB012]|\x1b[=>]")


def detect_encoding(head: bytes) -> str:
    """Encoding of a file from its first bytes."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if head:
        # UTF-16 without BOM: every other byte is NUL in mostly-ASCII text.
        sample = head[:4096]
        if sample[1::2].count(0) > 0.4 * len(sample[1::2]):
            return "utf-16-le"
        if sample[0::2].count(0) > 0.4 * len(sample[0::2]):
            return "utf-16-be"
    if b"\x00" in head[:4096]:
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


def read_head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def open_text(path: Path, encoding: str | None = None) -> IO[str]:
    """Open a text log for streaming; ``newline=''`` keeps ``\\r`` progress updates apart."""
    raw = open(path, "rb")
    if encoding is None:
        try:
            encoding = detect_encoding(raw.read(HEAD_BYTES))
        except UnreadableRecord as exc:
            raw.close()
            raise UnreadableRecord(str(path), exc.reason) from None
        raw.seek(0)
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")


def clean(segment: str) -> str:
    """A screen segment without ANSI codes, backspaces and trailing whitespace."""
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
