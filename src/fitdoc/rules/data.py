"""FD3xx: data and wiring — frozen accuracy, validation accuracy at zero, negative
loss, validation that is too good, accuracy on a regression model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import LOSSES, Context, chance_classes, longest_run, median, slope
from ..run import epoch_value
from .base import Rule

from .causes import WIRING, dead_network, loss_change


@dataclass
class StuckAccuracy(Rule):
    """What it detects
    Training or validation accuracy frozen: the same printed value (within
    ``exact_tolerance``) for ``min_exact_evals`` evaluations in a row, or nearly the
    same (within ``near_tolerance``) for ``min_near_fraction`` of the run at a value
    below ``max_near_value``, while the training loss is flat too. An exact freeze
    above ``max_near_value`` counts only with a loss that changes by less than
    ``max_loss_change`` (a good model on a small set moves in steps of 1/n). The frozen value is compared
    with the chance rate 1/k; otherwise it is most likely the share of the majority
    class (the model predicts one class for every sample). A record of at most
    ``short_record`` evaluations frozen for its last ``min_exact_short`` counts too.

    Why it matters
    The network outputs the same answer whatever the input: a loss that does not fit
    the last activation, labels in the wrong encoding, dead units after a too-large
    step, or unbalanced data. A well-known case: val_acc stuck at 0.4672 for 67 epochs.

    Example
    val_acc 0.4672 at every epoch from 1 to 10; acc 0.4708 from epoch 2 to 10.

    What to do
    Match the last activation to the loss, check the label encoding, lower the
    learning rate if units died, balance the classes.

    Known false alarms
    A tiny validation set (accuracy moves in steps of 1/n) or a converged model at
    ~100 % (values of 0.995 and above are not reported).
    """

    code = "FD301"
    name = "stuck-accuracy"
    kind = "stuck_accuracy"
    min_exact_evals: int = 5
    exact_tolerance: float = 1e-4
    min_near_fraction: float = 0.3
    near_tolerance: float = 0.01
    max_near_value: float = 0.6
    converged: float = 0.995
    max_loss_change: float = 0.01
    short_record: int = 8
    min_exact_short: int = 3

    def check(self, ctx: Context):
        if ctx.accuracy_meaningless:
            return
        for name in ("val_accuracy", "accuracy"):
            c = ctx.curve(name)
            if c is None or len(c) < self.min_exact_short:
                continue
            y = c.values
            exact = np.abs(np.diff(y)) <= self.exact_tolerance
            start, length = longest_run(exact)
            length += 1  # n equal steps cover n+1 evaluations
            # a short record frozen from some evaluation to its end is as telling
            frozen_to_end = len(y) <= self.short_record and length >= self.min_exact_short and start + length == len(y)
            needed = self.min_exact_short if frozen_to_end else self.min_exact_evals
            variant = "exact"
            if length < needed:
                if len(c) < self.min_exact_evals:
                    continue
                start, length = self._near(ctx, c)
                variant = "near"
                if not length:
                    continue
            value = median(y[start : start + length])
            first, last = epoch_value(c.epochs[start]), epoch_value(c.epochs[start + length - 1])
            change = loss_change(ctx, first, last)
            val_frozen = _frozen(ctx.curve("val_loss"), first, last, self.exact_tolerance)
            learning = change is not None and change > self.max_loss_change and value > self.max_near_value and not val_frozen
            if variant == "exact" and (value >= self.converged or learning):
                continue  # a good model still learning on a small set moves in steps of 1/n
            dead = dead_network(ctx, first, last)
            causes = dead or WIRING
            supersedes = ("FD102",) if dead else ()  # nothing is learned: not a matter of capacity
            k = chance_classes(value)
            yield self.finding(
                first, end_epoch=last, causes=causes, variant=variant, supersedes=supersedes,
                metric=name, value=value, evals=length, classes=k, reading="chance" if k else "majority",
            )
            return

    def _near(self, ctx: Context, c) -> tuple[int, int]:
        """The longest stretch near the median value while the loss is flat too."""
        y = c.values
        loss = ctx.curve("loss")
        center = median(y)
        near = np.abs(y - center) <= self.near_tolerance
        start, length = longest_run(near)
        trend = abs(slope(y[start : start + length])) * length
        flat_loss = loss is not None and abs(slope(loss.values[start : start + length])) * length <= 0.05 * abs(median(loss.values)) + 1e-9
        long_enough = length >= max(self.min_exact_evals, self.min_near_fraction * len(y))
        if long_enough and center <= self.max_near_value and flat_loss and trend <= self.near_tolerance:
            return start, length
        return 0, 0


def _frozen(curve, first, last, tolerance: float) -> bool:
    """Whether ``curve`` holds one value over epochs first..last (at least 3 evaluations)."""
    if curve is None:
        return False
    window = curve.values[(curve.epochs >= first) & (curve.epochs <= last)]
    return len(window) >= 3 and float(np.ptp(window)) <= tolerance * max(1.0, abs(float(window[0])))


@dataclass
class ValAccuracyZero(Rule):
    """What it detects
    Validation accuracy at or below ``max_value`` in at least half the evaluations
    while training accuracy is at least ``min_train`` higher.

    Why it matters
    The classic "val_acc is almost 0": most often the data was not shuffled before the
    split, so ``validation_split`` (which takes the last samples) holds classes the
    model never saw in training.

    Example
    accuracy 0.35 -> 0.92 while val_accuracy stays 0.0000.

    What to do
    Shuffle the data before splitting (validation_split takes the last samples).

    Known false alarms
    An accuracy metric on a regression model is near zero on both sets: then the
    finding names the metric as the cause (with FD306), not the split, and is a warning
    only when validation accuracy is ≈0 in ``regression_share`` of the evaluations.
    """

    code = "FD302"
    name = "val-accuracy-zero"
    kind = "val_acc_zero"
    severity = "error"
    supersedes = ("FD101", "FD301")  # the validation set measures classes never trained on
    max_value: float = 0.02
    min_train: float = 0.1
    regression_share: float = 0.9

    def check(self, ctx: Context):
        val, train = ctx.curve("val_accuracy"), ctx.curve("accuracy")
        if val is None or len(val) < 2:
            return
        zero = val.values <= self.max_value
        if ctx.accuracy_meaningless:
            if zero.mean() >= 0.5:  # the symptom is real; its cause is the metric (FD306)
                yield self.finding(
                    val.epochs[int(np.argmax(zero))], variant="regression",
                    severity="warning" if zero.mean() >= self.regression_share else "info",
                    causes=[("metric_mismatch", 0.9)], supersedes=(), zero=int(zero.sum()), evals=len(val),
                )
            return
        train_end = None if train is None else train.level_at_end()
        if zero.mean() >= 0.5 and (train_end is None or train_end >= self.max_value + self.min_train):
            yield self.finding(
                val.epochs[int(np.argmax(zero))], causes=[("data_problem", 0.85), ("loss_activation_mismatch", 0.2)],
                zero=int(zero.sum()), evals=len(val), train_end=train_end,
            )


@dataclass
class NegativeLoss(Rule):
    """What it detects
    A training or validation loss below zero. A loss negative from the start and
    within [-1, 0] (variant ``by_design``: cosine similarity) is named as such, with
    no cause attached.

    Why it matters
    Cross-entropy and squared errors cannot be negative: labels outside [0, 1] for a
    binary cross-entropy, inputs or targets not normalised, or a log-likelihood loss
    fed probabilities instead of log-probabilities (the classic "negative loss").

    Example
    loss 0.31, -0.52, -3.9, -12.7 ...

    What to do
    Put labels in the range the loss expects, normalise inputs and targets, feed
    log-probabilities to NLL losses.

    Known false alarms
    Losses that are negative by design (Keras ``cosine_similarity`` in [-1, 0], some
    log-likelihoods of continuous densities): ignore FD303 for them.
    """

    code = "FD303"
    name = "negative-loss"
    kind = "negative_loss"
    severity = "error"
    supersedes = ("FD306",)  # labels outside the loss's range also explain a junk accuracy
    tolerance: float = 1e-6

    def check(self, ctx: Context):
        for name in LOSSES:
            c = ctx.curve(name)
            if c is None:
                continue
            negative = c.values < -self.tolerance
            if negative.any():
                bounded = bool(np.all(c.values >= -1.0 - 1e-6))
                # negative in [-1, 0] from the start is a loss negative by design (cosine
                # similarity): worth saying, not a broken set-up
                by_design = bounded and bool(np.all(c.values[: max(1, len(c) // 2)] < 0))
                yield self.finding(
                    c.epochs[int(np.argmax(negative))], severity="warning" if bounded else None,
                    variant="by_design" if by_design else "",
                    causes=[] if by_design else [("data_problem", 0.6), ("loss_activation_mismatch", 0.55)],
                    metric=name, min_value=float(np.min(c.values)), count=int(negative.sum()), bounded=bounded,
                )
                return


@dataclass
class SuspiciousValidation(Rule):
    """What it detects
    Validation that is too good to be true: validation accuracy at or above
    ``perfect`` while training accuracy stays below ``train_below``, or validation
    loss below ``max_ratio`` times the training loss in at least ``min_share`` of the
    evaluations after the first.

    Why it matters
    Leakage (validation samples also in training), a tiny or duplicated validation
    set, or an unshuffled split that put only easy samples in validation. The model
    is not as good as the curve says.

    Example
    val_accuracy 1.0000 from epoch 3 while accuracy is 0.82.

    What to do
    Look for duplicates across the sets, make the validation set larger and
    drawn the same way as the training set.

    Known false alarms
    Heavy regularisation (dropout 0.5+, strong augmentation) keeps the training loss
    well above the validation loss, often at 0.3-0.5 times; hence the low
    ``max_ratio``. FD105 covers the mild case.
    """

    code = "FD304"
    name = "suspicious-validation"
    kind = "suspicious_validation"
    supersedes = ("FD105",)
    perfect: float = 0.995
    train_below: float = 0.95
    max_ratio: float = 0.2
    min_share: float = 0.8
    min_evals: int = 5

    def check(self, ctx: Context):
        acc = ctx.paired("accuracy", "val_accuracy")
        if acc is not None and len(acc[0]) >= self.min_evals and not ctx.accuracy_meaningless:
            epochs, train, val = acc
            hit = (val >= self.perfect) & (train < self.train_below)
            if hit.mean() >= 0.5:
                yield self.finding(
                    epochs[int(np.argmax(hit))], variant="perfect", causes=[("data_problem", 0.8)],
                    val=median(val[hit]), train=median(train[hit]), evals=int(hit.sum()),
                )
                return
        loss = ctx.paired("loss", "val_loss")
        if loss is not None and len(loss[0]) >= self.min_evals:
            epochs, train, val = (a[1:] for a in loss)
            low = val < self.max_ratio * train
            if low.mean() >= self.min_share and np.all(train > 0):
                yield self.finding(
                    epochs[0], variant="low_loss", causes=[("data_problem", 0.7), ("needs_regularization", 0.2)],
                    ratio=median(val / train), evals=len(epochs),
                )


@dataclass
class TrainFlatValFalling(Rule):
    """What it detects
    The training loss is flat (changes by less than ``flat`` of its level) while the
    validation loss falls by more than ``val_drop``: the classic third reading.

    Why it matters
    "train loss flat, test loss falling: the data set has a problem" — the validation
    set does not measure the same task as training (leakage, a different
    distribution, labels or preprocessing applied to one set only).

    Example
    loss 0.69, 0.69, 0.69 ... while val_loss 0.69 -> 0.41.

    What to do
    Evaluate both sets with the same pipeline and check for overlap or a
    different distribution.

    Known false alarms
    Training loss measured with heavy augmentation or dropout can stay flat while
    the model improves; check with the same pipeline on both sets.
    """

    code = "FD305"
    name = "train-flat-val-falling"
    kind = "suspicious_validation"
    min_evals: int = 5
    flat: float = 0.02
    val_drop: float = 0.1

    def check(self, ctx: Context):
        train, val = ctx.curve("loss"), ctx.curve("val_loss")
        if train is None or val is None or min(len(train), len(val)) < self.min_evals:
            return
        t_change = abs(train.smooth[-1] - train.smooth[0]) / (abs(train.smooth[0]) or 1.0)
        v_drop = (val.smooth[0] - val.smooth[-1]) / (abs(val.smooth[0]) or 1.0)
        if t_change < self.flat and v_drop > self.val_drop:
            yield self.finding(
                val.epochs[0], causes=[("data_problem", 0.8)],
                train_change=float(t_change), val_from=float(val.values[0]), val_to=float(val.values[-1]),
            )


@dataclass
class AccuracyOnRegression(Rule):
    """What it detects
    Accuracy stays at or below 0.05 on training and validation while the loss falls
    by more than 30 %: an ``accuracy`` metric on a regression model.

    Why it matters
    Accuracy compares predictions and targets for exact equality; on continuous
    targets it is meaningless. Judge the run by its loss (or MAE); the accuracy rules
    are switched off for this run.

    Example
    loss (mse) 412 -> 35 while accuracy is 0.0000 throughout.

    What to do
    Remove accuracy from the metrics of a regression model; monitor MAE or the loss.

    Known false alarms
    A classifier that is really predicting nothing right while its loss falls:
    check the label encoding.
    """

    code = "FD306"
    name = "accuracy-on-regression"
    kind = "stuck_accuracy"

    def check(self, ctx: Context):
        if ctx.accuracy_meaningless:
            loss = ctx.curve("loss")
            yield self.finding(
                loss.epochs[0], causes=[("metric_mismatch", 0.9)],
                loss_from=float(loss.values[0]), loss_to=float(loss.values[-1]),
            )


@dataclass
class EmptyEvaluation(Rule):
    """What it detects
    Evaluations at which every loss and accuracy of the epoch is exactly 0 (or a loss
    at most ``epsilon``) while other epochs have a loss above ``min_other`` : the
    epoch measured no data.

    Why it matters
    A loss of exactly 0 is not a perfect model: the generator ran out (a wrong
    ``steps_per_epoch`` or ``validation_steps``), the validation set is empty, or the
    metric divides by a count of zero. Those epochs say nothing, and a checkpoint
    callback keeps one of them as the "best".

    Example
    Every even epoch: ``0s - loss: 0.0000e+00 - accuracy: 0.0000e+00 - val_loss:
    0.0000e+00 - val_accuracy: 0.0000e+00``.

    What to do
    Check ``steps_per_epoch`` / ``validation_steps`` against the size of the data and
    that the validation set is not empty.

    Known false alarms
    A loss that really reaches 0 on a trivial task also has accuracy 1, not 0.
    """

    code = "FD307"
    name = "empty-evaluation"
    kind = "suspicious_validation"
    severity = "error"
    supersedes = ("FD302",)
    epsilon: float = 1e-7
    min_other: float = 1e-3

    def check(self, ctx: Context):
        run = ctx.run
        losses = [n for n in LOSSES if n in run.series]
        if not losses:
            return
        metrics = [n for n in run.series if n in LOSSES or "accuracy" in n]
        present = np.zeros(len(run), dtype=bool)
        empty = np.ones(len(run), dtype=bool)
        for name in metrics:
            s = run.series[name]
            present |= s.present
            limit = self.epsilon if name in LOSSES else 0.0
            empty &= ~s.present | (s.finite & (np.abs(s.values) <= limit))
        empty &= present
        others = [run.series[n].values[~empty & run.series[n].finite] for n in losses]
        if not empty.any() or not any(len(v) and np.max(np.abs(v)) > self.min_other for v in others):
            return
        kind = "val_acc_zero" if "val_accuracy" in run.series and run.series["val_accuracy"].present[empty].any() else None
        yield self.finding(
            run.epochs[int(np.argmax(empty))], kind=kind, causes=[("data_problem", 0.85)],
            metrics=", ".join(metrics), count=int(empty.sum()), evals=int(present.sum()),
            first=epoch_value(run.epochs[int(np.argmax(empty))]),
        )
