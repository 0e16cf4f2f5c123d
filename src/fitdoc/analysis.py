"""Series work shared by the rules: one :class:`Context` per run, computed once.

Curves are taken at the evaluations where a metric was written (validation every N
epochs gives a shorter curve), so onsets and patience count evaluations, not epochs.
Rules other than the NaN rule see the run only up to the first non-finite training
loss: what follows says nothing more about the run's health (a NaN validation loss
alone breaks the evaluation, not the weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .names import canonical, higher_is_better
from .run import Run

LOSSES = ("loss", "val_loss")
# Theil-Sen takes every pair up to this many pairs (about 1,400 points), then this many
# pairs drawn with a fixed seed: the median of a million slopes is as stable as the exact one.
SLOPE_PAIRS = 1_000_000


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
        return median(self.values[-k:])

    def argmin_near_trend(self) -> int:
        """Index of the lowest raw value near the lowest point of the trend (a single
        lucky evaluation far from the trend's minimum does not count)."""
        center = int(np.argmin(self.smooth))
        lo, hi = max(0, center - 2), min(len(self), center + 3)
        return lo + int(np.argmin(self.values[lo:hi]))


def median(values) -> float:
    """``np.median`` of a 1-D array, without its per-call overhead: the rules take
    thousands of medians of short curves per run."""
    y = np.asarray(values, dtype=float)
    n = len(y)
    if n == 0 or np.isnan(y).any():
        return float("nan")
    k = n // 2
    if n % 2:
        return float(np.partition(y, k)[k])
    part = np.partition(y, [k - 1, k])
    return float((part[k - 1] + part[k]) / 2)


def window_medians(values: np.ndarray, size: int) -> np.ndarray:
    """``np.median`` of each ``size``-point window of ``values``, NaN where a window
    holds one; without ``np.median``, whose NaN check imports ``numpy.ma`` (15 ms)."""
    windows = np.sort(sliding_window_view(np.asarray(values, dtype=float), size), axis=1)  # NaN sorts last
    half = size // 2
    out = windows[:, half] if size % 2 else (windows[:, half - 1] + windows[:, half]) / 2
    out[np.isnan(windows[:, -1])] = np.nan
    return out


def running_median(values: np.ndarray, size: int) -> np.ndarray:
    """Median of each ``size``-point window (odd ``size``), the ends repeated outwards."""
    half = size // 2
    y = values.astype(float)
    return window_medians(np.concatenate([np.repeat(y[:1], half), y, np.repeat(y[-1:], half)]), size)


def smooth(values: np.ndarray) -> np.ndarray:
    """A robust trend: running median (5 points, 3 for short curves) then a 3-point mean."""
    n = len(values)
    if n < 3:
        return values.astype(float)
    med = running_median(values, 5 if n >= 10 else 3)
    padded = np.concatenate([med[:1], med, med[-1:]])
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


def noise_scale(values: np.ndarray) -> float:
    """Robust standard deviation of the point-to-point noise around the trend, from
    second differences (which cancel a locally linear trend: Var = 6 sigma^2)."""
    if len(values) < 4:
        return 0.0
    d2 = np.diff(values.astype(float), n=2)
    return float(1.4826 * median(np.abs(d2 - median(d2))) / np.sqrt(6.0))


def slope(values: np.ndarray) -> float:
    """Theil-Sen slope per evaluation (robust to a few outliers): the median of the
    pairwise slopes, all pairs for short curves, ``SLOPE_PAIRS`` random ones beyond."""
    n = len(values)
    if n < 3:
        return 0.0
    y = values.astype(float)
    if n * (n - 1) // 2 <= SLOPE_PAIRS:
        pairs = np.concatenate([(y[k:] - y[:-k]) / k for k in range(1, n)])
    else:
        rng = np.random.default_rng(0)
        i, j = rng.integers(0, n, SLOPE_PAIRS), rng.integers(0, n, SLOPE_PAIRS)
        keep = i != j
        i, j = i[keep], j[keep]
        pairs = (y[j] - y[i]) / (j - i)
    return median(pairs)


def longest_run(mask: np.ndarray) -> tuple[int, int]:
    """(start, length) of the first longest run of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not len(starts):
        return (0, 0)
    k = int(np.argmax(ends - starts))
    return (int(starts[k]), int(ends[k] - starts[k]))


def flat_ends(values: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """For each start i, the last index j >= i with ``|values[k] - values[i]| <= tol[i]``
    for every k in i+1..j. Binary lifting over a sparse table of window maxima and
    minima: O(n log n) time and memory."""
    n = len(values)
    highs, lows = [values], [values]
    while 2 ** len(highs) <= n:
        w = 2 ** (len(highs) - 1)
        highs.append(np.maximum(highs[-1][:-w], highs[-1][w:]))
        lows.append(np.minimum(lows[-1][:-w], lows[-1][w:]))
    nxt = np.arange(1, n + 1)  # first index not yet known to be flat
    for level in range(len(highs) - 1, -1, -1):
        w = 2**level
        i = np.flatnonzero(nxt + w <= n)
        at = nxt[i]
        # subtracting the same number keeps the order of floats, so the extremes decide
        ok = (highs[level][at] - values[i] <= tol[i]) & (values[i] - lows[level][at] <= tol[i])
        nxt[i[ok]] += w
    return nxt - 1


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
        """Number of epochs before the weights broke: the start of the non-finite
        training loss that lasts to the end of the record (a NaN that recovers was a
        skipped step, as mixed precision does on an overflow; a NaN validation loss
        alone says the evaluation broke, not the training), or of the validation loss
        in a record without a training loss."""
        for name in LOSSES:
            if name in self.run.series:
                s = self.run.series[name]
                finite = np.flatnonzero(s.finite)
                last = int(finite[-1]) if len(finite) else -1
                return len(self.run) if not s.nonfinite[last + 1:].any() else last + 1
        return len(self.run)

    @cached_property
    def nan_recovered(self) -> bool:
        """Whether every loss that became NaN/Inf is finite again afterwards."""
        broken = [self.run.series[n] for n in LOSSES if n in self.run.series and self.run.series[n].nonfinite.any()]
        return bool(broken) and all(s.finite[int(np.argmax(s.nonfinite)):].any() for s in broken)

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
        """The number of a run's first epoch: what the reader knows, else 0 when the record
        starts at epoch 0 (MLflow and Lightning count from 0), else 1."""
        default = 0 if len(self.run) and self.run.epochs[0] == 0 else 1
        return int(self.run.info.get("epoch_base", default))

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
        once = None  # the first metric evaluated once, if none is evaluated twice or more
        for name in self.run.series:
            if name.startswith("val_") and name != "val_loss":
                c = self._lower_is_better(name, whole)
                if c is not None and len(c) >= 2:
                    return c
                once = once or c
        return once

    def _lower_is_better(self, name: str, whole: bool) -> Curve | None:
        c = self.curve(name, whole)
        if c is not None and higher_is_better(name):
            return Curve(name, c.epochs, -c.values)
        return c

    @cached_property
    def lr(self) -> float | None:
        """Learning rate at the end of the run, if the record (its lr column, LR change
        messages, the settings it states, or the live set-up of a training callback)
        has it."""
        c = self.curve("lr")
        if c is not None:
            return float(c.values[-1])
        changes = self.run.events_of("lr_change")
        if changes:
            return float(changes[-1].value)
        stated = self.run.info.get("settings", {}).get("learning_rate")
        if isinstance(stated, (int, float)) and np.isfinite(stated):
            return float(stated)
        return getattr(self.run.info.get("setup"), "lr", None)
