"""Which checkpoint to keep, in the record's own numbering.

The answer is the epoch whose weights ``ModelCheckpoint(monitor=..., save_best_only=True)``
would have kept: the lowest finite value of the monitor (``val_loss``; without it,
another validation metric, ``val_accuracy`` maximised...), the first of equal values,
NaN never counted. A record that says which weights it kept (EarlyStopping
``restore_best_weights``, a Trainer's ``best_model_checkpoint`` chosen on the monitor)
is taken at its word. The answer is null only without a finite validation value.

``reason`` says how much the epoch means: ``minimum`` (the curve turned), ``restored``
(the record's own choice), ``still_improving`` (the minimum is at the end of the
record, or within noise of it while the curve's trend is lowest at the end: train longer) or ``flat``
(the curve never moved beyond its noise: any epoch is about as good).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .analysis import Context, Curve
from .run import epoch_value

# a record's own best checkpoint counts when its value is the monitor's at that epoch
SAME_VALUE = 1e-6
# a curve whose trend is lowest within this many last evaluations is still falling
STILL_FALLING_EVALS = 2


@dataclass
class BestEpoch:
    epoch: int | float | None
    metric: str | None
    value: float | None = None
    recommended_epochs: int | None = None
    patience: int | None = None  # EarlyStopping patience (in evaluations) that keeps it
    stop_epoch: int | float | None = None  # where that EarlyStopping would have stopped
    reason: str = ""  # "minimum", "restored", "still_improving", "flat", "no_validation"
    metrics_at_best: dict | None = None
    evals: int = 0  # finite evaluations of the monitor


def choose_best(ctx: Context, monitor_name: str | None = None, noise_factor: float = 3.0, min_turn: float = 0.01) -> BestEpoch:
    monitor = ctx.monitor(monitor_name, whole=True)
    if monitor is None:
        return BestEpoch(None, None, reason="no_validation")
    best_i = int(np.argmin(monitor.values))
    restored = _record_choice(ctx, monitor)
    if restored is not None:
        best_i, reason = restored, "restored"
    else:
        reason = _reason(monitor, best_i, noise_factor, min_turn, cut_by_nan=ctx.nan_onset_index is not None)
    epoch = epoch_value(monitor.epochs[best_i])
    patience = _patience(monitor.values, best_i)
    stop_i = best_i + patience
    at_best = _metrics_at(ctx, monitor.epochs[best_i])
    return BestEpoch(
        epoch=epoch,
        metric=monitor.name,
        value=at_best.get(monitor.name),
        recommended_epochs=int(np.ceil(epoch - ctx.epoch_base + 1)),
        patience=patience,
        stop_epoch=epoch_value(monitor.epochs[stop_i]) if stop_i < len(monitor) else None,
        reason=reason,
        metrics_at_best=at_best,
        evals=len(monitor),
    )


def _record_choice(ctx: Context, monitor: Curve) -> int | None:
    """Index of the evaluation the record says it kept, if it says so."""
    epochs = monitor.epochs.tolist()
    restored = [e.epoch for e in ctx.run.events_of("restore_best") if e.epoch in epochs]
    if restored:
        return epochs.index(restored[-1])
    for event in ctx.run.events_of("best_checkpoint"):
        if event.epoch in epochs and isinstance(event.value, (int, float)):
            i = epochs.index(event.epoch)
            value = abs(float(monitor.values[i]))
            if abs(abs(float(event.value)) - value) <= SAME_VALUE * max(1.0, value):
                return i
    return None


def _reason(monitor: Curve, best_i: int, noise_factor: float, min_turn: float, cut_by_nan: bool) -> str:
    values = monitor.values
    noise = monitor.noise
    low = float(values[best_i])

    def beyond_noise(change: float, level: float) -> bool:
        return change > max(noise_factor * noise, min_turn * abs(level))

    if len(values) < 2 or not beyond_noise(float(np.max(values) - low), low):
        return "flat"
    if cut_by_nan:  # the run ended in NaN: whatever came before is all there is
        return "minimum"
    trend = monitor.smooth
    trend_low = float(np.min(trend))
    # near the minimum at the end and its trend lowest in the last evaluations: still falling
    at_end = (
        not beyond_noise(float(trend[-1]) - trend_low, trend_low) and not beyond_noise(float(values[-1]) - low, low)
        and int(np.argmin(trend)) >= len(trend) - STILL_FALLING_EVALS
    )
    return "still_improving" if best_i == len(values) - 1 or at_end else "minimum"


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


def _metrics_at(ctx: Context, epoch) -> dict:
    i = int(np.nonzero(ctx.run.epochs == epoch)[0][0])
    return {
        name: float(s.values[i])
        for name, s in ctx.run.series.items()
        if s.present[i] and np.isfinite(s.values[i])
    }
