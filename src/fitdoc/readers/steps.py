"""Shared by the readers of step-logged records (Trainer logs, Lightning and MLflow
metrics): metrics kept at full resolution and aggregated to epochs, resumed runs
stitched by step, steps mapped to epochs, and complete-line iteration for files that
may be cut or still being written."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import IO, Iterator

import numpy as np

from ..names import canonical, is_validation
from ..run import Event, StepSeries
from .numbers import MAX_INDEX


@dataclass
class _Point:
    position: float
    epoch: int
    value: float
    per_epoch: bool
    per_step: bool


class StepLog:
    """Collects metric points in the order the record wrote them.

    ``position`` orders the points (a global step, or a fractional epoch). When a
    metric's position goes back, the run was resumed: that metric's points at or after
    the new position are dropped (the later write wins) and a ``resume`` event is kept.

    Epoch rows hold, per epoch, the mean of a training metric's points and the last
    point of a validation metric or ``lr`` (the value in force at the end of the epoch).
    """

    def __init__(self) -> None:
        self.points: dict[str, list[_Point]] = {}
        self.events: list[Event] = []
        self._segment: str | None = None

    def new_segment(self, label: str) -> None:
        """The next points come from a resumed run (``label`` names it in the event)."""
        self._segment = label

    def add(self, position: float, epoch: int, metrics: dict[str, float], *, per_epoch: bool = True, per_step: bool = True) -> None:
        if self._segment is not None:
            self._resume(epoch, f"{self._segment} resumes the run at epoch {epoch}")
            self._segment = None
        for name, value in metrics.items():
            points = self.points.setdefault(canonical(name), [])
            if points and position < points[-1].position:
                self._resume(epoch, f"{name} goes back from step {points[-1].position:g} to {position:g}; later values kept")
                points[:] = [p for p in points if p.position < position]
            points.append(_Point(position, epoch, value, per_epoch, per_step))

    def _resume(self, epoch: int, message: str) -> None:
        if not (self.events and self.events[-1].epoch == epoch):
            self.events.append(Event(epoch, "resume", None, message))

    def epoch_rows(self) -> dict[int, dict[str, float]]:
        per_epoch: dict[int, dict[str, list[float]]] = {}
        for name, points in self.points.items():
            for p in points:
                if p.per_epoch:
                    per_epoch.setdefault(p.epoch, {}).setdefault(name, []).append(p.value)
        return {
            epoch: {name: epoch_value_of(name, values) for name, values in row.items()}
            for epoch, row in per_epoch.items()
        }

    def step_series(self, *, renumber: bool = False) -> dict[str, StepSeries]:
        """Per-step series, one value per position (the last write).

        ``renumber`` replaces positions by their rank 1, 2, 3... over all metrics, for
        records that order their log lines without printing a step number.
        """
        by_name = {
            name: {p.position: (p.value, p.epoch) for p in points if p.per_step} for name, points in self.points.items()
        }
        by_name = {name: values for name, values in by_name.items() if values}
        rank = {}
        if renumber:
            positions = sorted({pos for values in by_name.values() for pos in values})
            rank = {pos: i + 1 for i, pos in enumerate(positions)}
        out = {}
        for name, values in by_name.items():
            steps = sorted(values)
            out[name] = StepSeries(
                np.array([rank.get(s, s) for s in steps]),
                np.array([values[s][0] for s in steps], dtype=float),
                np.array([values[s][1] for s in steps], dtype=int),
            )
        return out


def epoch_value_of(name: str, values: list[float]) -> float:
    """An epoch's value of a metric from its points: the last of ``lr`` and of a
    validation metric, the mean of a training metric (``StepLog`` and the Trainer's
    fast path both use it)."""
    if name == "lr" or is_validation(name):
        return values[-1]
    return math.fsum(values) / len(values)


class EpochByStep:
    """The epoch of a step, from the steps where the record wrote its epoch.

    A step without an epoch belongs to the epoch of the first known step at or after it
    (metrics logged at the start of an epoch precede that epoch's first epoch-tagged
    row), or to the last epoch when it comes after all of them.
    """

    def __init__(self, pairs: list[tuple[float, int]]) -> None:
        pairs = sorted(pairs)
        self._steps = [s for s, _ in pairs]
        self._epochs = [e for _, e in pairs]

    def __bool__(self) -> bool:
        return bool(self._steps)

    def after_all(self, step: float) -> bool:
        """Whether ``step`` comes after every step with a known epoch."""
        return step > self._steps[-1]

    def __call__(self, step: float) -> int:
        i = bisect.bisect_left(self._steps, step)
        return self._epochs[min(i, len(self._epochs) - 1)]


def epoch_of_fraction(epoch: float) -> int:
    """1-based epoch of a fractional epoch position: (k-1, k] is epoch k. Raises
    ValueError for NaN, Inf or an epoch beyond ``MAX_INDEX``."""
    if not abs(epoch) <= MAX_INDEX:
        raise ValueError("epoch is not a number in range")
    return max(1, math.ceil(epoch - 1e-9))


class CompleteLines:
    """Iterates the newline-terminated lines of a text stream.

    A last line without its newline (a file cut or still being written) is not yielded
    but kept in :attr:`cut`, so that readers never take a half-written number as data.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.number = 0
        self.cut: str | None = None

    def __iter__(self) -> Iterator[str]:
        for line in self.stream:
            if not line.endswith(("\n", "\r")):
                self.cut = line
                return
            self.number += 1
            yield line

    def cut_note(self) -> str:
        return f"line {self.number + 1} is incomplete (file cut or still being written) and was ignored"
