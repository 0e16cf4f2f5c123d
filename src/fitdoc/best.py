"""Which epoch to keep, in the record's own numbering.

The monitor is ``val_loss``; without it, another validation metric (``val_accuracy``
maximised, ...); without any validation there is no basis and the answer is null.
A record that says which weights it restored (EarlyStopping ``restore_best_weights``)
is taken at its word. NaN is never an improvement: evaluations after the first
non-finite loss are ignored. When the monitor is still improving at the end of the
record (its last evaluations are within noise of its best), there is no best epoch
yet: the answer is null and the advice is to train longer. When it never moved beyond
its noise (a flat or dead curve), no epoch stands out and the answer is null too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analysis import Context


@dataclass
class BestEpoch:
    epoch: int | None
    metric: str | None
    value: float | None = None
    recommended_epochs: int | None = None
    patience: int | None = None  # EarlyStopping patience (in evaluations) that keeps it
    stop_epoch: int | None = None  # where that EarlyStopping would have stopped
    reason: str = ""  # "restored", "minimum", "still_improving", "flat", "no_validation"
    metrics_at_best: dict | None = None


def choose_best(ctx: Context, monitor_name: str | None = None, noise_factor: float = 3.0, min_turn: float = 0.01) -> BestEpoch:
    monitor = ctx.monitor(monitor_name)
    if monitor is None:
        return BestEpoch(None, None, reason="no_validation")
    name = monitor.name
    restored = [e.epoch for e in ctx.run.events_of("restore_best") if e.epoch is not None]
    best_i = int(np.argmin(monitor.values))
    if restored and restored[-1] in set(monitor.epochs.tolist()):
        best_i = int(np.nonzero(monitor.epochs == restored[-1])[0][0])
        reason = "restored"
    else:
        trend = monitor.smooth
        trend_low = float(np.min(trend))

        def beyond_noise(change: float, level: float) -> bool:
            return change > max(noise_factor * monitor.noise, min_turn * abs(level))

        if ctx.nan_onset_index is None and not beyond_noise(trend[-1] - trend_low, trend_low):
            fell = beyond_noise(trend[0] - trend[-1], trend[0])
            return BestEpoch(None, name, reason="still_improving" if fell else "flat")
        reason = "minimum"
    epoch = int(monitor.epochs[best_i])
    patience = _patience(monitor.values, best_i)
    stop_i = best_i + patience
    return BestEpoch(
        epoch=epoch,
        metric=name,
        value=ctx.value_at(name, epoch),
        recommended_epochs=epoch - ctx.epoch_base + 1,
        patience=patience,
        stop_epoch=int(monitor.epochs[stop_i]) if stop_i < len(monitor) else None,
        reason=reason,
        metrics_at_best=_metrics_at(ctx, epoch),
    )


def _patience(values: np.ndarray, best_i: int, minimum: int = 3) -> int:
    """Smallest EarlyStopping patience that would not have stopped before ``best_i``:
    one more than the longest stretch without a new best before it."""
    longest = wait = 0
    best = np.inf
    for v in values[: best_i + 1]:
        if v < best:
            best, wait = v, 0
        else:
            wait += 1
            longest = max(longest, wait)
    return max(minimum, longest + 1)


def _metrics_at(ctx: Context, epoch: int) -> dict:
    i = int(np.nonzero(ctx.run.epochs == epoch)[0][0])
    return {
        name: float(s.values[i])
        for name, s in ctx.run.series.items()
        if s.present[i] and np.isfinite(s.values[i])
    }
