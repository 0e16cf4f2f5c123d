"""FD2xx: numerical stability — NaN, divergence, a loss that climbs back, oscillation,
isolated spikes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..analysis import LOSSES, Context, median, running_median, slope, smooth, window_medians
from ..run import epoch_value
from .base import Rule


@dataclass
class NanLoss(Rule):
    """What it detects
    A training or validation loss that is NaN or Inf at some evaluation.

    Why it matters
    Once the loss is NaN the weights usually are too, and nothing after it can be
    trusted. A NaN is never an improvement: fitdoc ignores everything after it when
    choosing the best epoch.

    Example
    loss 1.46, 1.21, 1.18, nan, nan... (or ``loss: inf - val_loss: nan``).

    What to do
    Lower the learning rate, clip gradients, check the inputs for NaN and the loss
    for log(0); add TerminateOnNaN.

    Known false alarms
    None: a non-finite loss is always reported. One that is finite again afterwards
    (variant ``recovered``, info) was a skipped step, as mixed precision does when a
    gradient overflows: the weights were not hit.
    """

    code = "FD201"
    name = "nan-loss"
    kind = "nan_loss"
    severity = "error"
    rising_before: int = 3

    def check(self, ctx: Context):
        i = ctx.nan_onset_index
        if i is None:
            return
        run = ctx.run
        which = [n for n in LOSSES if n in run.series and run.series[n].nonfinite[i]]
        value = float(run.series[which[0]].values[i])
        train = ctx.curve("loss")
        rising = train is not None and len(train) >= 2 and train.values[-1] > train.values[max(0, len(train) - self.rising_before)]
        lr = ctx.lr
        if train is None or len(train) < 2:
            causes = [("data_problem", 0.55), ("lr_too_high", 0.5), ("loss_activation_mismatch", 0.3)]
        elif rising or (lr is not None and lr >= 0.01):
            causes = [("lr_too_high", 0.75), ("loss_activation_mismatch", 0.3), ("data_problem", 0.25)]
        else:
            causes = [("lr_too_high", 0.5), ("loss_activation_mismatch", 0.45), ("data_problem", 0.35)]
        last = None if train is None else float(train.values[-1])
        if ctx.nan_recovered:  # finite again afterwards: a skipped step, not broken weights
            yield self.finding(
                run.epochs[i], variant="recovered", severity="info", causes=[], metric="/".join(which),
                value="nan" if np.isnan(value) else "inf", count=int(run.series[which[0]].nonfinite.sum()),
            )
            return
        # once the training loss is NaN the weights are too: nothing after says more
        broke = "loss" in run.series and bool(run.series["loss"].nonfinite.any())
        yield self.finding(
            run.epochs[i], causes=causes, variant="" if last is not None else "first", metric="/".join(which), value="nan" if np.isnan(value) else "inf",
            supersedes=("FD102", "FD103", "FD104") if broke else (),
            last_finite=last, rising=bool(rising), stopped=bool(run.events_of("terminate_on_nan")),
        )


@dataclass
class Divergence(Rule):
    """What it detects
    The training loss grows without bound: after its minimum it climbs to more than
    ``growth`` times that minimum (and by more than ``noise_factor`` times its noise)
    and is still at or near its highest at the end; or it races to huge negative
    values (below ``-negative_scale`` times its first magnitude); or (variant
    ``drift``) it never improves on its first evaluation and rises by ``min_drift`` of
    it over at least ``min_drift_evals`` evaluations; or (variant ``jump``) it ends at
    ``jump_factor`` times its lowest value or more, even on the last evaluation.

    Why it matters
    Optimisation has failed; the classic fifth reading (train and validation loss both
    rising): usually the learning rate, sometimes the data or the set-up.

    Example
    loss 0.48 at epoch 12, then 0.7, 1.2, ... 4.7 at epoch 34; val_loss follows.

    What to do
    Lower the learning rate (often 10x), clip gradients, check the data.

    Known false alarms
    A run that rises once and settles is FD203 (loss rises after fall), not this.
    """

    code = "FD202"
    name = "divergence"
    kind = "divergence"
    severity = "error"
    supersedes = ("FD101", "FD102", "FD103", "FD203", "FD204")
    min_evals: int = 4
    growth: float = 1.0
    noise_factor: float = 4.0
    near_top: float = 0.8
    negative_scale: float = 100.0
    jump_factor: float = 10.0
    min_drift_evals: int = 8
    min_drift: float = 0.1
    drift_noise_factor: float = 3.0

    def check(self, ctx: Context):
        train = ctx.curve("loss")
        if train is None or len(train) < self.min_evals:
            return
        for shape in (self._negative, self._drift, self._rising, self._jump):
            found = shape(ctx, train)
            if found is not None:
                yield found
                return

    def _negative(self, ctx: Context, train):
        """A loss racing to huge negative values."""
        y = train.values
        first = abs(float(y[0])) or 1.0
        if y[-1] < -self.negative_scale * first and slope(y) < 0:
            return self.finding(
                train.epochs[int(np.argmax(y < 0))], variant="negative",
                causes=[("loss_activation_mismatch", 0.6), ("data_problem", 0.5), ("lr_too_high", 0.4)],
                value_from=float(y[0]), value_to=float(y[-1]),
            )
        return None

    def _rising(self, ctx: Context, train):
        """A loss that climbs far above its minimum and is still near its highest."""
        y, s = train.values, train.smooth
        low_i = train.argmin_near_trend()
        low, end, top = float(s[low_i]), float(s[-1]), float(np.max(s[low_i:]))
        if (
            low_i < len(s) - 2
            and end > (1 + self.growth) * max(low, 0) + 1e-12
            and end - low > self.noise_factor * train.noise
            and end >= low + self.near_top * (top - low)
            and float(y[-1]) >= float(y[low_i]) + self.near_top * (float(np.max(y[low_i:])) - float(y[low_i]))
            and slope(train.tail(0.3, 3).values) > 0
        ):
            val = ctx.curve("val_loss")
            return self.finding(
                train.epochs[low_i], variant="rising",
                causes=[("lr_too_high", 0.75), ("data_problem", 0.3), ("batch_too_small", 0.2)],
                value_from=float(y[low_i]), value_to=float(y[-1]), evals=len(y) - 1 - low_i,
                val_rising=bool(val is not None and len(val) > 2 and val.values[-1] > np.min(val.values) * (1 + self.growth / 2)),
            )
        return None

    def _jump(self, ctx: Context, train):
        """A loss ending at ``jump_factor`` times its lowest value, even on the last evaluation."""
        y = train.values
        lowest_i = int(np.argmin(y))
        lowest = float(y[lowest_i])
        if lowest > 0 and y[-1] >= self.jump_factor * lowest:
            onset = lowest_i + int(np.argmax(y[lowest_i:] >= self.jump_factor * lowest))
            factor = float(y[-1] / lowest)
            return self.finding(
                train.epochs[onset], variant="jump", causes=[("lr_too_high", 0.75), ("data_problem", 0.3)],
                value_from=lowest, value_to=float(y[-1]), factor=factor if math.isfinite(factor) else None,
            )
        return None

    def _drift(self, ctx: Context, train):
        """A loss that never improved on its first evaluation and rose steadily by
        ``min_drift`` of it over at least ``min_drift_evals`` evaluations."""
        y = train.values
        if len(y) < self.min_drift_evals or y[0] <= 0:
            return None
        rise = slope(y) * (len(y) - 1)
        # a window from the middle of a run must rise from its very first value
        never_better = float(np.min(y[1:])) >= float(y[0]) - (0.0 if ctx.is_window else train.noise)
        # a slope over n points is known to about noise * sqrt(12 / n)
        if never_better and rise > self.min_drift * float(y[0]) and rise > self.drift_noise_factor * train.noise * np.sqrt(12 / len(y)):
            return self.finding(
                train.epochs[0], variant="drift", causes=[("lr_too_high", 0.6), ("data_problem", 0.3)],
                value_from=float(y[0]), value_to=float(y[-1]), evals=len(y),
            )
        return None


@dataclass
class LossRisesAfterFall(Rule):
    """What it detects
    The training loss falls (by ``min_fall`` of its first value, over at least
    ``min_fall_evals`` evaluations), then climbs back by at least ``min_rise`` of the
    ground it had gained and ``min_relative_rise`` of its lowest value, and stays up
    for at least ``persist_evals`` evaluations (no quick recovery: that would be a spike).
    In a window pasted from the middle of a run (variant ``window``) the fall happened
    before the record starts: a lower value after a higher one is enough.

    Why it matters
    The classic "loss goes up again at epoch 68": the optimiser was thrown out of a good
    region, typically by a learning rate too high for this stage of training or noisy
    small batches. Not overfitting: the training loss itself got worse.

    Example
    loss 1.34 -> 1.06 (epoch 67), then 1.15, 1.31, 1.29, 1.28, 1.27... val_loss too.

    What to do
    Lower the learning rate or decay it (ReduceLROnPlateau), use larger batches,
    try SGD with momentum instead of Adam.

    Known false alarms
    Loss jumps right after a resume from a checkpoint whose optimiser state was lost.
    """

    code = "FD203"
    name = "loss-rises-after-fall"
    kind = "loss_rises_after_fall"
    min_evals: int = 6
    min_fall: float = 0.1
    min_fall_evals: int = 2
    min_rise: float = 0.25
    min_relative_rise: float = 0.1
    persist_evals: int = 3
    noise_factor: float = 3.0

    def check(self, ctx: Context):
        train = ctx.curve("loss")
        if train is None or len(train) < self.min_evals:
            return
        y = train.values
        start = float(np.max(y[: max(2, len(y) // 10)]))
        # the lowest point that is followed by a lasting rise
        for low_i in np.argsort(y):
            low = float(y[low_i])
            fall = start - low
            # a window from the middle of a run had its fall before the record starts
            fell = fall > self.min_fall * abs(start) or (ctx.is_window and float(np.max(y[:low_i], initial=low)) > low)
            if low_i >= len(y) - self.persist_evals or low_i < self.min_fall_evals or not fell:
                continue
            threshold = low + max(self.min_rise * fall, self.min_relative_rise * abs(low), self.noise_factor * train.noise)
            above = y[low_i + 1 :] > low + 0.5 * (threshold - low)
            peak = float(np.max(y[low_i + 1 :]))
            if peak > threshold and above[-self.persist_evals :].all() and above.sum() >= self.persist_evals:
                onset = low_i + 1 + int(np.argmax(y[low_i + 1 :] > low + 0.5 * (threshold - low)))
                val = ctx.curve("val_loss")
                val_rose = val is not None and ctx.value_at("val_loss", epoch_value(train.epochs[-1])) > float(np.min(val.values)) * 1.05
                yield self.finding(
                    train.epochs[onset], variant="" if fall > self.min_fall * abs(start) else "window",
                    causes=[("lr_too_high", 0.7), ("batch_too_small", 0.45)],
                    low=low, low_epoch=epoch_value(train.epochs[low_i]), peak=peak, end=float(y[-1]),
                    val_rose=bool(val_rose),
                )
            return


@dataclass
class Oscillation(Rule):
    """What it detects
    A curve that zig-zags instead of settling: successive changes alternate in sign in
    at least ``min_alternation`` of the steps and the wiggle around the trend is at
    least ``min_amplitude`` of the level of a loss, or ``min_accuracy_amplitude``
    accuracy points of the validation accuracy, and at least ``min_range_share`` of the
    ground its trend covers (noise around a converging trend is normal). A positive loss
    spanning more than ``log_span`` is judged on a log scale.

    Why it matters
    The classic unstable validation curves: a learning rate too high, batches too small,
    an unbalanced or tiny validation set, no regularisation or little data. The best
    epoch picked from such a curve is partly luck.

    Example
    val_loss alternating +0.22/-0.18 around a falling trend every epoch.

    What to do
    Lower the learning rate, use larger batches, a larger or balanced validation
    set, regularisation; pick the best epoch from a smoothed curve.

    Known false alarms
    A very small validation set makes val_loss noisy without anything being wrong in
    training; the causes are ranked accordingly when the training loss is smooth.
    """

    code = "FD204"
    name = "oscillation"
    kind = "oscillation"
    min_evals: int = 6
    min_alternation: float = 0.5
    min_amplitude: float = 0.05
    min_accuracy_amplitude: float = 0.05
    min_range_share: float = 0.015
    log_span: float = 100.0

    def _amplitude(self, curve, relative: bool) -> tuple[float, float]:
        y = curve.values
        if relative and np.all(y > 0) and y.max() > self.log_span * y.min():
            y = np.log(y)  # a loss spanning decades zig-zags in ratios, not in units
            relative = False
        d = np.diff(y)
        signs = np.sign(d[d != 0])
        alternation = float(np.mean(signs[1:] != signs[:-1])) if len(signs) > 2 else 0.0
        wiggle = median(np.abs(np.diff(y, n=2))) / 4  # a zig-zag of +-a has |d2| = 4a
        # noise around a converging trend is normal: the wiggle must matter next to the
        # ground the curve covers
        trend = smooth(y)
        if wiggle < self.min_range_share * float(np.ptp(trend)) * (1.0 if len(y) >= self.min_evals else 0.5):
            return alternation, 0.0
        level = (median(np.abs(y)) or 1.0) if relative else 1.0
        return alternation, wiggle / level

    def check(self, ctx: Context):
        amplitude = {}
        limits = {"loss": self.min_amplitude, "val_loss": self.min_amplitude}
        if not ctx.accuracy_meaningless:
            limits["val_accuracy"] = self.min_accuracy_amplitude  # in accuracy points
        for name, limit in limits.items():
            c = ctx.curve(name)
            if c is not None and len(c) >= self.min_evals:
                amplitude[name] = (c, *self._amplitude(c, relative=name in LOSSES))
        shaky = [n for n, (c, alt, amp) in amplitude.items() if alt >= self.min_alternation and amp >= limits[n]]
        if not shaky:
            return
        name = next(n for n in ("val_loss", "val_accuracy", "loss") if n in shaky)
        c, alt, amp = amplitude[name]
        train_shaky = "loss" in shaky
        if train_shaky:
            causes = [("lr_too_high", 0.65), ("batch_too_small", 0.5), ("data_problem", 0.2)]
        else:
            causes = [("batch_too_small", 0.4), ("data_problem", 0.4), ("needs_regularization", 0.35), ("lr_too_high", 0.35)]
        yield self.finding(
            c.epochs[0], causes=causes, metric=name,
            amplitude=amp, alternation=alt, train_shaky=train_shaky, evals=len(c),
        )


@dataclass
class LossSpike(Rule):
    """What it detects
    An isolated jump: a training-loss value more than ``min_jump`` above the median of the
    ``baseline_evals`` evaluations before it (and more than ``noise_factor`` times the
    curve's noise and ``min_jump_of_fall`` of the ground the loss had gained), back
    within ``recover_evals`` evaluations to within ``min_jump``/2
    of that baseline.

    Why it matters
    A bad batch, an outlier or a learning-rate step too large for a moment; harmless
    if rare, a sign of instability if repeated.

    Example
    loss x4 at epoch 20, x2.2 at 21, x1.35 at 22, then back on trend.

    What to do
    Usually nothing if it is rare; otherwise clip gradients and look for bad
    samples in the batch where it happened.

    Known false alarms
    Oscillating curves are reported by FD204 instead. Validation-loss jumps are left
    to FD204: on a small validation set a single bad evaluation is noise.

    Per-step records (TensorBoard, Trainer, Lightning, MLflow) are also checked at full
    resolution, where a spike inside an epoch is not averaged away: a step more than
    ``min_jump`` above the running median of ``step_window`` steps and more than
    ``step_noise_factor`` times the step noise, lasting at most ``recover_steps``.
    """

    code = "FD205"
    name = "loss-spike"
    kind = "loss_spike"
    baseline_evals: int = 3
    min_jump: float = 0.5
    noise_factor: float = 5.0
    recover_evals: int = 5
    min_jump_of_fall: float = 0.1
    step_window: int = 21
    step_noise_factor: float = 8.0
    recover_steps: int = 10

    def check(self, ctx: Context):
        found = list(self._epochs(ctx))
        yield from found or self._steps(ctx)

    def _steps(self, ctx: Context):
        series = ctx.run.step_series.get("loss")
        if series is None or len(series.values) < 2 * self.step_window:
            return
        y = series.values.astype(float)
        finite = np.isfinite(y)
        y = np.where(finite, y, np.nan)
        base = running_median(np.nan_to_num(y, nan=float(np.nanmedian(y))), self.step_window)
        residual = y - base
        noise = 1.4826 * float(np.nanmedian(np.abs(residual - np.nanmedian(residual))))
        high = (residual > self.min_jump * np.abs(base)) & (residual > self.step_noise_factor * noise) & finite
        start, length = _first_short_run(high, self.recover_steps)
        if length:
            i = start + int(np.argmax(y[start : start + length]))
            epoch = None if series.epochs is None else epoch_value(series.epochs[i])
            yield self.finding(
                epoch, variant="step", causes=[("lr_too_high", 0.5), ("data_problem", 0.35), ("batch_too_small", 0.3)],
                metric="loss", step=int(series.steps[i]), base=float(base[i]), peak=float(y[i]), factor=float(y[i] / base[i]),
            )

    def _epochs(self, ctx: Context):
        c = ctx.curve("loss")
        if c is not None and len(c) >= self.baseline_evals + 2:
            y = c.values
            fall = float(y[0] - np.min(y))
            # the median of the evaluations before each one, all at once
            bases = window_medians(y[:-1], self.baseline_evals)
            jumps = y[self.baseline_evals :] - bases
            big = (jumps > self.min_jump * bases) & (jumps > self.min_jump_of_fall * fall)
            for k in np.flatnonzero((bases > 0) & big & (jumps > self.noise_factor * c.noise)):
                i, base = self.baseline_evals + int(k), float(bases[k])
                later = y[i + 1 : i + 1 + self.recover_evals]
                back = np.nonzero(later <= base * (1 + self.min_jump / 2))[0]
                if len(back):
                    end = i + int(back[0])
                    yield self.finding(
                        c.epochs[i], end_epoch=c.epochs[end], causes=[("lr_too_high", 0.5), ("data_problem", 0.35), ("batch_too_small", 0.3)],
                        metric="loss", base=base, peak=float(y[i]), factor=float(y[i] / base),
                    )
                    return


def _first_short_run(mask: np.ndarray, longest: int) -> tuple[int, int]:
    """(start, length) of the first run of True no longer than ``longest``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(int), [0]))))
    for start, stop in zip(edges[::2], edges[1::2]):
        if stop - start <= longest:
            return int(start), int(stop - start)
    return 0, 0
