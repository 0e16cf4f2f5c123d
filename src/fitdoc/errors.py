"""Errors that reach the user as one line naming the file and the problem."""

from __future__ import annotations

import re

# Characters that steer a terminal or reorder text (C0/C1 controls, DEL, bidi overrides).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``), so that
    a name, note or file name read from input can be shown on a terminal without acting on it."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text)


class FitdocError(Exception):
    """A problem with the user's input or settings, shown as one line (exit code 2)."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason

    def __reduce__(self):  # rebuilt from its two fields when it crosses a process boundary
        return self.__class__, (self.source, self.reason)


class UnreadableRecord(FitdocError):
    """The file cannot be read as a training record."""


class MissingMetric(FitdocError, KeyError):
    """A metric asked for by name is not in the record."""

    def __str__(self) -> str:
        return Exception.__str__(self)


class InternalError(Exception):
    """An unexpected error (a fitdoc bug) met while working on ``source``: the CLI
    shows one line and exits with code 3; ``fitdoc --debug`` shows the traceback."""

    def __init__(self, source: str, error: BaseException):
        first = (str(error).splitlines() or [""])[0][:200]
        super().__init__(f"{source}: {type(error).__name__}: {first}" if first else f"{source}: {type(error).__name__}")
        self.source = source
        self.error = error

    def __reduce__(self):  # a worker process's error reaches the command line whole
        return self.__class__, (self.source, self.error)
