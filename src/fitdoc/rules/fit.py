"""FD1xx: how the model fits — overfitting, underfitting, still learning, plateaus,
validation better than training. These are the classic train-vs-validation readings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import Context, chance_classes, flat_ends, median, slope
from ..run import epoch_value
from .base import Rule
from .causes import dead_network, not_learning


@dataclass
class Overfitting(Rule):
    """What it detects
    The validation loss reaches its minimum and then worsens for several evaluations
    while the training loss keeps improving (variant ``rising``), or comes within
    ``stall_tolerance`` of its best and stays there for ``stall_fraction`` of the run
    while the training loss keeps falling (variant ``stalled``, info: the classic "train
    loss falling, validation loss flat"). In short runs (variant ``consecutive``): the
    validation loss rose at each of its last ``min_rises`` evaluations or more after its
    minimum, by ``min_rises_total`` of it in all, while the training loss fell. In a
    window pasted from the middle of a run (variant ``gap_window``), where the minimum may
    lie before the first line: the validation loss is ``gap_ratio`` times the training loss
    or more and the validation accuracy ``gap_accuracy`` or more below the training
    accuracy, in the median of the window.

    Why it matters
    The onset is the first evaluation after the minimum. Every epoch after it makes the
    model worse on unseen data: keep the weights
    of the best epoch and add regularisation or data.

    Example
    val_loss 0.88 -> 0.58 (epoch 7) -> 2.16 (epoch 29) while loss falls 1.95 -> 0.06.

    What to do
    Keep the best epoch's weights (ModelCheckpoint on val_loss, EarlyStopping with
    restore_best_weights) and add regularisation: dropout, L2, augmentation, more data.

    Known false alarms
    A noisy validation curve with one bad evaluation near the end, or one lucky one at
    the minimum: the rise, from halfway between the lowest evaluation and the trend's
    minimum to the median of the last 3 evaluations (or of the last quarter, for a slow
    noisy drift), must exceed both ``min_rise`` of the trend's minimum and
    ``noise_factor`` times the noise of that median. A window pasted from the middle of
    a long run cannot show where the minimum was.
    """

    code = "FD101"
    name = "overfitting"
    kind = "overfitting"
    # a training loss that keeps improving is not underfitting; a validation loss past its best is not still learning
    supersedes = ("FD102", "FD103")
    min_evals: int = 6
    min_rises: int = 3
    min_rises_total: float = 0.05
    min_evals_after: int = 3
    min_rise: float = 0.10
    noise_factor: float = 3.0
    min_train_drop: float = 0.05
    stall_fraction: float = 0.4
    stall_tolerance: float = 0.03
    stall_train_drop: float = 0.3
    gap_ratio: float = 3.0
    gap_accuracy: float = 0.15

    def check(self, ctx: Context):
        val = ctx.monitor()
        train = ctx.curve("loss")
        if val is None or train is None or len(val) < self.min_rises + 1:
            return
        found = self._consecutive_rises(ctx, val) or self._window_gap(ctx, val, train)
        if found is not None:
            yield found
            return
        if len(val) < self.min_evals:
            return
        best = val.argmin_near_trend()
        low = float(val.values[best])
        after = len(val) - 1 - best
        # the reference lies halfway between the lowest evaluation and the trend's minimum,
        # so that one lucky evaluation does not make an ordinary wiggle look like a rise
        trend_low = float(np.min(val.smooth))
        reference = (low + max(low, trend_low)) / 2
        # the level the run ends at: the median of its last 3 evaluations (against the
        # curve's noise), or of its last quarter for a slow noisy drift (against the noise
        # of a median of k, about 1.25 sigma / sqrt(k))
        k = max(3, min(after, len(val) // 4))
        floor = self.min_rise * abs(trend_low)
        rose = any(
            median(val.values[-n:]) - reference > max(floor, self.noise_factor * noise)
            for n, noise in ((3, val.noise), (k, 1.25 * val.noise / np.sqrt(k)))
        )
        train_at_best = ctx.value_at("loss", epoch_value(val.epochs[best]))
        train_end = train.level_at_end()
        causes = _overfit_causes(ctx)
        facts = dict(
            metric=val.name, best_epoch=epoch_value(val.epochs[best]), best_value=abs(low),
            end_value=abs(float(val.values[-1])), evals_after=after, train_from=train_at_best,
            train_to=float(train.values[-1]),
        )
        # the training loss must keep improving: if it did not, the rise is instability or noise
        if (
            after >= self.min_evals_after
            and rose
            and train_end <= train_at_best * (1 - self.min_train_drop)
        ):
            # a window pasted from the middle of a run cannot show where the minimum was
            variant = "rising_window" if best == 0 and ctx.is_window else "rising"
            yield self.finding(val.epochs[best + 1], causes=causes, variant=variant, **facts)
            return
        near = int(np.argmax(val.values <= low + self.stall_tolerance * abs(low)))
        train_at_near = ctx.value_at("loss", epoch_value(val.epochs[near]))
        stalled = len(val) - 1 - near
        if stalled >= max(self.min_evals_after + 2, self.stall_fraction * len(val)) and train_end < (1 - self.stall_train_drop) * train_at_near:
            facts.update(best_epoch=epoch_value(val.epochs[near]), best_value=abs(float(val.values[near])), evals_after=stalled, train_from=train_at_near)
            yield self.finding(val.epochs[near + 1], causes=causes, variant="stalled", severity="info", **facts)


    def _window_gap(self, ctx: Context, val, train):
        """The window reading: a record from the middle of a run whose validation loss and
        accuracy are far worse than the training ones throughout; the onset is the
        evaluation after the window's lowest validation loss."""
        acc, val_acc = ctx.curve("accuracy"), ctx.curve("val_accuracy")
        if not ctx.is_window or val.name != "val_loss" or acc is None or val_acc is None or ctx.accuracy_meaningless:
            return None
        val_level, train_level = median(val.values), median(train.values)
        accuracy, val_accuracy = median(acc.values), median(val_acc.values)
        best = int(np.argmin(val.values))
        if train_level <= 0 or val_level < self.gap_ratio * train_level or accuracy - val_accuracy < self.gap_accuracy or best == len(val) - 1:
            return None
        return self.finding(
            val.epochs[best + 1], causes=_overfit_causes(ctx), variant="gap_window", metric=val.name,
            ratio=val_level / train_level, val_level=val_level, train_level=train_level,
            val_accuracy=val_accuracy, accuracy=accuracy, first_epoch=epoch_value(val.epochs[0]),
        )

    def _consecutive_rises(self, ctx: Context, val):
        """The short-run reading: the monitor rose at each of its last ``min_rises`` (or
        more) evaluations after its minimum, by ``min_rises_total`` of it in all, while
        the training loss fell over the same evaluations."""
        y = val.values
        best = int(np.argmin(y))
        after = len(y) - 1 - best
        if after < self.min_rises or not np.all(np.diff(y[best:]) > 0):
            return None
        low, end = float(y[best]), float(y[-1])
        if end - low <= self.min_rises_total * abs(low):
            return None
        best_epoch = epoch_value(val.epochs[best])
        train_from, train_to = ctx.value_at("loss", best_epoch), ctx.value_at("loss", epoch_value(val.epochs[-1]))
        if train_from is None or train_to is None or train_to >= train_from:
            return None
        return self.finding(
            val.epochs[best + 1], causes=_overfit_causes(ctx), variant="rising_window" if best == 0 and ctx.is_window else "consecutive",
            metric=val.name, best_epoch=best_epoch, best_value=abs(low), end_value=abs(end),
            evals_after=after, train_from=train_from, train_to=train_to,
        )


def _overfit_causes(ctx: Context) -> list[tuple[str, float]]:
    causes = [("needs_regularization", 0.7)]
    samples = ctx.run.info.get("train_samples")
    if samples is not None and samples < 5000:
        causes.append(("data_problem", 0.4))  # little data: augmentation / more data
    return causes


@dataclass
class Underfitting(Rule):
    """What it detects
    The training loss stays high: training accuracy ends below ``max_train_accuracy``
    with no generalisation gap while the loss fell by less than
    ``max_loss_drop_low_accuracy`` of its first value, or (no accuracy) the training
    loss fell by less than ``max_loss_drop`` over at least ``min_evals`` epochs.

    Why it matters
    The model does not even fit the training data (high bias): regularisation or
    early stopping will not help; capacity, learning rate or training time will.

    Example
    loss 2.30 -> 1.86 and accuracy 0.15 -> 0.35 over 40 epochs, val close to train.

    What to do
    Add capacity, raise the learning rate or train longer; remove regularisation
    that is too strong.

    Known false alarms
    Hard tasks where a low accuracy is the state of the art (a loss that fell by
    ``max_loss_drop_low_accuracy`` or more is taken as learning); a window from the middle of a run (the loss-only
    test is skipped there); a run whose validation (or training) loss still falls
    clearly at the end, by ``still_learning_drop`` of its level (FD103 says so instead).
    """

    code = "FD102"
    name = "underfitting"
    kind = "underfitting"
    min_evals: int = 10
    max_train_accuracy: float = 0.6
    max_loss_drop: float = 0.3
    max_loss_drop_low_accuracy: float = 0.4
    max_gap: float = 0.1
    still_learning_drop: float = 0.03

    def check(self, ctx: Context):
        train = ctx.curve("loss")
        if train is None or len(train) < self.min_evals:
            return
        if still_falling(ctx.curve("val_loss") or train, min_drop=self.still_learning_drop):
            return  # still learning (FD103): too early to call the model too weak
        acc = None if ctx.accuracy_meaningless else ctx.curve("accuracy")
        val_acc = ctx.curve("val_accuracy")
        start, end = float(train.values[0]), train.level_at_end()
        def causes():
            return not_learning(ctx, epoch_value(train.epochs[0]), epoch_value(train.epochs[-1]))

        if acc is not None:
            acc_end = acc.level_at_end()
            gap_ok = val_acc is None or val_acc.level_at_end() >= acc_end - self.max_gap
            barely_fell = end > (1 - self.max_loss_drop_low_accuracy) * start
            if acc_end < self.max_train_accuracy and gap_ok and barely_fell:
                yield self.finding(
                    train.epochs[0], causes=causes(), variant="accuracy",
                    acc_end=acc_end, loss_from=start, loss_to=end, evals=len(train),
                )
            return
        if not ctx.is_window and end > (1 - self.max_loss_drop) * start and start > 0:
            yield self.finding(
                train.epochs[0], causes=causes(), variant="loss", loss_from=start, loss_to=end, evals=len(train),
            )


@dataclass
class StillLearning(Rule):
    """What it detects
    At the end of the record the validation loss (or the training loss when there is
    no validation) is still falling clearly: over the last ``tail_fraction`` of the
    evaluations it fell by more than ``min_drop`` and by more than ``noise_factor``
    times its noise, and the last evaluations are the best so far.

    Why it matters
    Training stopped before the model converged: more epochs would help.

    Example
    val_loss 0.52 -> 0.41 over the last 8 of 30 epochs.

    What to do
    Train for more epochs, with EarlyStopping deciding when to stop.

    Known false alarms
    A long slow tail where the gains are too small to matter; raise ``min_drop``.
    """

    code = "FD103"
    name = "still-learning"
    kind = "still_learning"
    severity = "info"
    tail_fraction: float = 0.25
    min_tail: int = 4
    min_drop: float = 0.02
    noise_factor: float = 2.0

    def check(self, ctx: Context):
        curve = ctx.curve("val_loss") or ctx.curve("loss")
        if curve is None or ctx.run.events_of("early_stopping"):
            return
        tail = still_falling(curve, self.tail_fraction, self.min_tail, self.min_drop, self.noise_factor)
        if tail is not None:
            yield self.finding(
                tail.epochs[0], causes=[("too_few_epochs", 0.8)],
                metric=curve.name, value_from=float(tail.values[0]), value_to=float(tail.values[-1]),
                evals=len(tail), last_epoch=epoch_value(curve.epochs[-1]),
            )


def still_falling(curve, tail_fraction: float = 0.25, min_tail: int = 4, min_drop: float = 0.02, noise_factor: float = 2.0):
    """The tail of ``curve`` when it is still falling clearly at the end (by more than
    ``min_drop`` of its level and ``noise_factor`` times its noise, the last evaluations
    the best so far); else None."""
    if curve is None or len(curve) < min_tail + 1:
        return None
    tail = curve.tail(tail_fraction, min_tail)
    drop = float(tail.smooth[0] - tail.smooth[-1]) if len(tail) >= 3 else 0.0
    fall = -slope(tail.values) * (len(tail) - 1)
    level = abs(float(tail.values[0])) or 1.0
    near_best = int(np.argmin(curve.values)) >= len(curve) - 2 or curve.values[-1] <= np.min(curve.values) + 2 * curve.noise
    return tail if drop > min_drop * level and fall > noise_factor * curve.noise and near_best else None


@dataclass
class Plateau(Rule):
    """What it detects
    The training loss stays flat (within ``flat_tolerance`` of its level) for at least
    ``min_fraction`` of the evaluations and ``min_evals`` evaluations, and either
    learning had not started yet (the flat stretch is at the first loss value), or it
    escapes later (the loss then drops by ``escape_drop``), or it ends the run at a loss
    that is still most of the first one, or the loss is frozen to the printed digits
    (a dead network: no gradient reaches the weights).

    Why it matters
    The optimiser is stuck (too small or too large a learning rate, dead units, a
    saddle): epochs are spent without progress. The classic "bottleneck" reading: train
    and validation loss both flat.

    Example
    loss 0.693 (ln 2) and accuracy 0.47 for epochs 0-59, then it learns.

    What to do
    Change the learning rate (3-10x either way, by the causes ranked for the run),
    check initialisation and activations, add BatchNormalization.

    Known false alarms
    A converged run is flat at the end too; it is not reported because its loss is far
    below where it started, and never frozen to ``frozen_change`` of its value (variant
    ``frozen``: a training or validation loss that holds one value for the last
    ``min_frozen_evals`` evaluations or more, and half the record, at more than
    ``converged_fraction`` of the curve's highest value: a loss that fell by 99 % to a
    value it then holds, such as 0.0001 at the printed digits, has converged). A pause in
    the middle of a converging run (not at its start)
    must cover ``min_midrun_fraction`` of the evaluations. A training loss that ends
    flat while the validation loss still falls clearly (FD103) is not stalled.
    """

    code = "FD104"
    name = "plateau"
    kind = "plateau"
    min_evals: int = 5
    min_fraction: float = 0.15
    flat_tolerance: float = 0.01
    escape_drop: float = 0.2
    stalled_level: float = 0.8
    min_midrun_fraction: float = 0.25
    frozen_change: float = 1e-4
    min_frozen_evals: int = 3
    converged_fraction: float = 0.01

    def check(self, ctx: Context):
        frozen = self._frozen(ctx)
        if frozen is not None:
            yield frozen
            return
        train = ctx.curve("loss")
        if train is None or len(train) < self.min_evals + 1:
            return
        s = train.smooth
        n = len(s)
        level = np.abs(s)
        level[level == 0] = 1.0
        ends = flat_ends(s, np.maximum(self.flat_tolerance * level, 2 * train.noise))
        i = int(np.argmax(ends - np.arange(n)))
        j = int(ends[i])
        length = j - i + 1
        if length < max(self.min_evals, self.min_fraction * n):
            return
        level = median(train.values[i : j + 1])
        first = float(train.values[0])
        after = float(np.min(s[j:])) if j + 1 < n else level
        at_start = i == 0 and not ctx.is_window
        # a pause in the middle of a converging run is its pace slowing, unless it lasts
        long_pause = at_start or length >= self.min_midrun_fraction * n
        escaped = j + 1 < n and after < (1 - self.escape_drop) * level and long_pause
        # a training loss that ends flat while the validation loss still falls is not stuck
        stalled = (j == n - 1 and level > self.stalled_level * first and not ctx.is_window
                   and still_falling(ctx.curve("val_loss")) is None)
        causes = dead_network(ctx, epoch_value(train.epochs[i]), epoch_value(train.epochs[j]))
        if not (escaped or stalled or causes or (at_start and level > self.stalled_level * first)):
            return
        if causes is None:
            causes = not_learning(ctx, epoch_value(train.epochs[i]), epoch_value(train.epochs[j]))
            acc = ctx.curve("accuracy")
            if acc is not None and chance_classes(median(acc.values[i : j + 1]), 0.03):
                causes.append(("loss_activation_mismatch", 0.35))
        yield self.finding(
            train.epochs[i], end_epoch=train.epochs[j], causes=causes,
            variant="escaped" if escaped else "stalled", level=level, evals=length, after=after,
        )


    def _frozen(self, ctx: Context):
        """A loss that holds one value (within ``frozen_change`` of it) from some
        evaluation to the end of the record, over ``min_frozen_evals`` evaluations and
        at least half the record: nothing reaches the weights (or the evaluation)."""
        for name in ("loss", "val_loss"):
            c = ctx.curve(name)
            if c is None or len(c) < self.min_frozen_evals:
                continue
            y = c.values
            last = float(y[-1])
            if abs(last) <= self.converged_fraction * float(np.max(np.abs(y))):
                continue  # fell to about nothing and stays there: converged, not frozen
            moved = np.abs(y - last) > self.frozen_change * max(abs(last), 1e-12)
            start = len(y) - int(np.argmax(moved[::-1])) if moved.any() else 0
            length = len(y) - start
            if length >= max(self.min_frozen_evals, len(y) / 2):
                first, end = epoch_value(c.epochs[start]), epoch_value(c.epochs[-1])
                causes = dead_network(ctx, first, end) if name == "loss" else None
                return self.finding(
                    first, end_epoch=end, variant="frozen", causes=causes or [("data_problem", 0.5), ("lr_too_high", 0.3)],
                    metric=name, level=last, evals=length,
                )
        return None


@dataclass
class ValBetterThanTrain(Rule):
    """What it detects
    The validation loss is below the training loss in at least ``min_share`` of the
    evaluations.

    Why it matters
    Usually benign: dropout and other regularisation act only in training, and the
    training loss is an average over an epoch while the validation loss is measured
    after it. Worth a look only when the validation set is much easier than the
    training set (see FD304 for validation that is too good).

    Example
    val_loss below loss in 28 of 30 epochs, median ratio 0.85.

    What to do
    Nothing, usually; compare the two sets' distributions if the gap is large.

    Known false alarms
    None known: this is information, not a warning.
    """

    code = "FD105"
    name = "val-better-than-train"
    kind = "val_better_than_train"
    severity = "info"
    min_evals: int = 3
    min_share: float = 0.9

    def check(self, ctx: Context):
        pair = ctx.paired("loss", "val_loss")
        if pair is None or len(pair[0]) < self.min_evals:
            return
        epochs, train, val = pair
        if np.any(train < 0) or np.any(val < 0):
            return  # a ratio of negative losses (cosine similarity) says nothing
        below = val < train
        if below.mean() >= self.min_share:
            ratio = median(val / np.where(train == 0, np.nan, train))
            yield self.finding(
                epochs[0],
                below=int(below.sum()), evals=len(epochs), ratio=ratio,
            )
