"""Errors that reach the user as one line naming the file and the problem."""

from __future__ import annotations


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
