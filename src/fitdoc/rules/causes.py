"""Cause rankings shared by several rules, chosen from the run's own curves."""

from __future__ import annotations

from ..analysis import Context, median, slope

WIRING = [("loss_activation_mismatch", 0.5), ("data_problem", 0.45), ("lr_too_high", 0.3), ("lr_too_low", 0.25)]
# A training loss frozen to the printed digits means zero gradient: a dead network. At a
# loss far above any chance level the weights blew up first; otherwise the output is
# wired wrong (a softmax over one unit, a loss that does not fit the last activation).
DEAD_HIGH_LOSS = [("lr_too_high", 0.75), ("data_problem", 0.35), ("loss_activation_mismatch", 0.3)]
DEAD_LOW_LOSS = [("loss_activation_mismatch", 0.75), ("data_problem", 0.4), ("lr_too_high", 0.25)]
DEAD_CHANGE = 1e-3
EXPLODED_LOSS = 3.0
# Learning rates outside what any common optimiser trains well with.
HUGE_LR, TINY_LR = 0.5, 1e-5


def loss_change(ctx: Context, first: int, last: int) -> float | None:
    """Range of the training loss over epochs (first, last], relative to its level.

    The first epoch of the window is left out: its loss is an average over an epoch in
    which the weights were still moving."""
    loss = ctx.curve("loss")
    if loss is None:
        return None
    window = loss.values[(loss.epochs > first) & (loss.epochs <= last)]
    if len(window) < 2:
        return None
    return float((window.max() - window.min()) / (abs(median(window)) or 1.0))


def dead_network(ctx: Context, first: int, last: int) -> list[tuple[str, float]] | None:
    """The causes of a dead network if the loss is frozen between the epochs, else None.

    Frozen from the very first epoch: the output never depended on the weights (wiring).
    Frozen after a start at another value, at a loss far above chance: it blew up."""
    change = loss_change(ctx, first, last)
    if change is None or change >= DEAD_CHANGE:
        return None
    loss = ctx.curve("loss")
    level = ctx.value_at("loss", last)
    frozen_from_start = abs(float(loss.values[0]) - level) <= DEAD_CHANGE * abs(level)
    return DEAD_HIGH_LOSS if level > EXPLODED_LOSS and not frozen_from_start else DEAD_LOW_LOSS


def not_learning(ctx: Context, first: int, last: int) -> list[tuple[str, float]]:
    """Causes of a loss that does not go down: a learning rate far outside the usual
    range when the record gives it; else a slow steady fall says the steps are too
    small, a flat, jittery loss that they are too large (or too noisy)."""
    if ctx.lr is not None and ctx.lr >= HUGE_LR:
        return [("lr_too_high", 0.7), ("batch_too_small", 0.3)]
    if ctx.lr is not None and ctx.lr <= TINY_LR:
        return [("lr_too_low", 0.7), ("too_few_epochs", 0.3)]
    loss = ctx.curve("loss")
    window = loss.values[(loss.epochs >= first) & (loss.epochs <= last)]
    fall = -slope(window) * (len(window) - 1)
    if fall > 2 * loss.noise and fall > 0.01 * abs(median(window)):
        return [("lr_too_low", 0.6), ("model_too_small", 0.35), ("too_few_epochs", 0.3)]
    return [("lr_too_high", 0.5), ("batch_too_small", 0.35), ("lr_too_low", 0.3), ("model_too_small", 0.25)]
