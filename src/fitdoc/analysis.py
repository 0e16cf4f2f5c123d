"""Series work shared by the rules: one :class:`Context` per run, computed once.

Curves are taken at the evaluations where a metric was written (validation every N
epochs gives a shorter curve), so onsets and patience count evaluations, not epochs.
Rules other than the NaN rule see the run only up to the first non-finite loss: what
follows a NaN says nothing more about the run's health.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.ndimage import median_filter
from scipy.stats import theilslopes

from .names import canonical, higher_is_better
from .run import Run

LOSSES = ("loss", "val_loss")


@dataclass
class Curve:
    """The finite evaluations of one metric: record epochs and values."""

    name: str
    epochs: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    @cached_property
    def smooth(self) -> np.ndarray:
        return smooth(self.values)

    @cached_property
    def noise(self) -> float:
        return noise_scale(self.values)

    def tail(self, fraction: float, minimum: int) -> Curve:
        k = min(len(self), max(minimum, int(round(fraction * len(self)))))
        return Curve(self.name, self.epochs[-k:], self.values[-k:])

    def level_at_end(self, k: int = 3) -> float:
        return float(np.median(self.values[-k:]))

    def argmin_near_trend(self) -> int:
        """Index of the lowest raw value near the lowest point of the trend (a single
        lucky evaluation far from the trend's minimum does not count)."""
        center = int(np.argmin(self.smooth))
        lo, hi = max(0, center - 2), min(len(self), center + 3)
        return lo + int(np.argmin(self.values[lo:hi]))


def smooth(values: np.ndarray) -> np.ndarray:
    """A robust trend: running median (5 points, 3 for short curves) then a 3-point mean."""
    n = len(values)
    if n < 3:
        return values.astype(float)
    size = 5 if n >= 10 else 3
    med = median_filter(values.astype(float), size=size, mode="nearest")
    padded = np.pad(med, 1, mode="edge")
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


def noise_scale(values: np.ndarray) -> float:
    """Robust standard deviation of the point-to-point noise around the trend, from
    second differences (which cancel a locally linear trend: Var = 6 sigma^2)."""
    if len(values) < 4:
        return 0.0
    d2 = np.diff(values.astype(float), n=2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def slope(values: np.ndarray) -> float:
    """Theil-Sen slope per evaluation (robust to a few outliers)."""
    if len(values) < 3:
        return 0.0
    return float(theilslopes(values, np.arange(len(values)))[0])


def longest_run(mask: np.ndarray) -> tuple[int, int]:
    """(start, length) of the longest run of True in ``mask``."""
    best = (0, 0)
    start = None
    for i, flag in enumerate(list(mask) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best[1]:
                best = (start, i - start)
            start = None
    return best


def chance_classes(value: float, tolerance: float = 0.005) -> int | None:
    """k when ``value`` is the chance accuracy 1/k of k classes (2..20)."""
    for k in range(2, 21):
        if abs(value - 1.0 / k) <= tolerance:
            return k
    return None


class Context:
    """A run plus the derived facts every rule needs."""

    def __init__(self, run: Run):
        self.run = run
        self._curves: dict[tuple[str, bool], Curve | None] = {}

    @cached_property
    def nan_onset_index(self) -> int | None:
        """Index (in run.epochs) of the first present non-finite loss value."""
        idx = [int(np.argmax(self.run.series[n].nonfinite)) for n in LOSSES
               if n in self.run.series and self.run.series[n].nonfinite.any()]
        return min(idx) if idx else None

    @cached_property
    def healthy_span(self) -> int:
        """Number of epochs before the first NaN/Inf loss (all of them if none)."""
        return len(self.run) if self.nan_onset_index is None else self.nan_onset_index

    def curve(self, name: str, whole: bool = False) -> Curve | None:
        """The finite evaluations of ``name`` before any NaN loss (``whole``: over the
        whole record, as a checkpoint callback sees it); None if absent. Built once per
        metric, so every rule shares its smoothing and noise."""
        key = (name, whole)
        if key not in self._curves:
            self._curves[key] = self._build_curve(name, len(self.run) if whole else self.healthy_span)
        return self._curves[key]

    def _build_curve(self, name: str, span: int) -> Curve | None:
        if name not in self.run.series:
            return None
        s = self.run.series[name]
        mask = s.finite[:span]
        if not mask.any():
            return None
        return Curve(name, self.run.epochs[:span][mask], s.values[:span][mask])

    def paired(self, a: str, b: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(epochs, a, b) at the epochs where both metrics are finite."""
        if a not in self.run.series or b not in self.run.series:
            return None
        sa, sb = self.run.series[a], self.run.series[b]
        mask = sa.finite & sb.finite
        mask[self.healthy_span:] = False
        if not mask.any():
            return None
        return self.run.epochs[mask], sa.values[mask], sb.values[mask]

    def value_at(self, name: str, epoch: int) -> float | None:
        """Value of ``name`` at ``epoch`` or the nearest earlier evaluation."""
        c = self.curve(name)
        if c is None:
            return None
        i = np.searchsorted(c.epochs, epoch, side="right") - 1
        return float(c.values[max(i, 0)])

    @cached_property
    def epoch_base(self) -> int:
        return int(self.run.info.get("epoch_base", 1))

    @cached_property
    def is_window(self) -> bool:
        """The record starts after the run's first epoch (a pasted window)."""
        return bool(len(self.run)) and int(self.run.epochs[0]) > self.epoch_base

    @cached_property
    def accuracy_meaningless(self) -> bool:
        """Accuracy at most 0.05 on train and validation while the loss falls: a regression
        model compiled with ``metrics=['accuracy']``; read the loss instead."""
        acc = [self.curve(n) for n in ("accuracy", "val_accuracy")]
        acc = [c for c in acc if c is not None]
        loss = self.curve("loss")
        if not acc or loss is None or len(loss) < 3:
            return False
        tiny = all(np.nanmax(c.values) <= 0.05 for c in acc)
        start = loss.values[: max(1, len(loss) // 10)].mean()
        return tiny and loss.level_at_end() < 0.7 * start

    def monitor(self, name: str | None = None, whole: bool = False) -> Curve | None:
        """The validation curve to judge generalisation by: ``name`` if given, else
        val_loss, else another validation metric (flipped so that lower is better)."""
        if name is not None:
            series_name = canonical(name) if name not in self.run.series else name
            self.run.get(series_name)  # KeyError listing the metrics that exist
            return self._lower_is_better(series_name, whole)
        c = self.curve("val_loss", whole)
        if c is not None:
            return c
        for name in self.run.series:
            if name.startswith("val_") and name != "val_loss":
                c = self._lower_is_better(name, whole)
                if c is not None and len(c) >= 2:
                    return c
        return None

    def _lower_is_better(self, name: str, whole: bool) -> Curve | None:
        c = self.curve(name, whole)
        if c is not None and higher_is_better(name):
            return Curve(name, c.epochs, -c.values)
        return c

    @cached_property
    def lr(self) -> float | None:
        """Learning rate at the end of the run, if the record (or the live set-up of a
        training callback) has it."""
        c = self.curve("lr")
        if c is not None:
            return float(c.values[-1])
        changes = self.run.events_of("lr_change")
        if changes:
            return float(changes[-1].value)
        return getattr(self.run.info.get("setup"), "lr", None)
