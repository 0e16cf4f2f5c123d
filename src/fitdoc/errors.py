"""Errors that reach the user as one line naming the file and the problem."""

from __future__ import annotations


class FitdocError(Exception):
    """A problem with the user's input or settings, shown as one line (exit code 2)."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


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
