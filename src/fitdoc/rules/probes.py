"""Runtime probes (FD5xx): what the model's insides show during training.

The training integrations measure a :class:`ProbeSample` now and then (once per
epoch, on a small sample batch: see ``probes=`` of ``fitdoc.keras.Doctor``) and keep
them in ``run.info["probes"]``; each rule reports the first sample that shows its
problem. A record read from a file has no probe samples and gives no finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .base import Finding, Rule


@dataclass
class ProbeSample:
    """Measurements taken at one point of training, in plain Python and numpy.

    ``nonfinite`` lists ``(what, where)`` pairs such as ``("weights", "dense_1")`` or
    ``("loss", "batch 37")``; ``grad_norms`` the gradient norm of each layer with
    weights, from input to output; ``activations`` the outputs of the hidden
    ReLU/sigmoid/tanh layers on a sample batch as ``(layer, activation, array)``.
    """

    epoch: int
    nonfinite: list[tuple[str, str]] = field(default_factory=list)
    grad_norms: list[tuple[str, float]] = field(default_factory=list)
    activations: list[tuple[str, str, np.ndarray]] = field(default_factory=list)


class ProbeRule:
    """Mixin of the probe rules: they scan the :class:`ProbeSample` list that the
    training integrations put in ``run.info["probes"]`` and report the first sample
    that shows the problem; a record read from a file has none."""

    def check(self, ctx) -> Iterable[Finding]:
        for probe in ctx.run.info.get("probes", ()):
            found = list(self.inspect(probe))
            if found:
                return found
        return ()

    def inspect(self, probe: ProbeSample) -> Iterable[Finding]:
        raise NotImplementedError


@dataclass
class NonFiniteValues(ProbeRule, Rule):
    """What it detects
    NaN or Inf in a batch loss, in the weights or in the gradients, checked every few
    batches and at each epoch end.

    Why it matters
    One NaN gradient step turns every weight NaN; from then on the run only burns
    time. Caught at the batch, it is named before the epoch's averaged loss shows it.

    Example
    Adam(learning_rate=10): the batch loss is NaN after a few dozen steps of epoch 1.

    What to do
    Lower the learning rate, clip gradients (``clipnorm=1.0``), normalise the
    inputs, and check custom losses for log(0) or division by zero.

    Known false alarms
    Mixed-precision training, where a skipped step with Inf gradients is part of
    loss scaling.
    """

    code = "FD501"
    name = "non-finite-values"
    kind = "nan_loss"
    severity = "error"

    def inspect(self, probe):
        if probe.nonfinite:
            what, where = probe.nonfinite[0]
            yield self.finding(
                probe.epoch, what=what, where=where, count=len(probe.nonfinite),
                causes=[("lr_too_high", 0.6), ("data_problem", 0.3), ("loss_activation_mismatch", 0.2)],
            )


def _norm_ratio(probe: ProbeSample) -> tuple[float, float, float] | None:
    """(first-layer norm, last-layer norm, first / last), if both are finite and the last > 0."""
    if len(probe.grad_norms) < 2:
        return None
    first, last = probe.grad_norms[0][1], probe.grad_norms[-1][1]
    if not (np.isfinite(first) and np.isfinite(last)) or last <= 0:
        return None
    return first, last, first / last


@dataclass
class VanishingGradients(ProbeRule, Rule):
    """What it detects
    The gradient reaching the first layer is less than ``min_ratio`` times the one at
    the last layer (measured on a sample batch).

    Why it matters
    The early layers barely learn: deep stacks of sigmoid/tanh layers multiply the
    gradient by at most 0.25 per layer. The loss plateaus near its starting value
    and accuracy sits at chance.

    Example
    A 50-layer sigmoid MLP: first/last gradient-norm ratio 1e-20; accuracy 0.1 on
    10 classes for every epoch.

    What to do
    Use ReLU-family activations with He initialisation, add BatchNormalization or
    residual connections, or make the network shallower.

    Known false alarms
    Frozen or pre-trained first layers that are meant to move little.
    """

    code = "FD502"
    name = "vanishing-gradients"
    kind = "plateau"
    min_ratio: float = 1e-3

    def inspect(self, probe):
        norms = _norm_ratio(probe)
        if norms and norms[2] < self.min_ratio:
            yield self.finding(
                probe.epoch, first=norms[0], last=norms[1], ratio=norms[2],
                first_layer=probe.grad_norms[0][0], last_layer=probe.grad_norms[-1][0],
                layers=len(probe.grad_norms), causes=[("model_too_small", 0.2), ("lr_too_low", 0.2)],
            )


@dataclass
class ExplodingGradients(ProbeRule, Rule):
    """What it detects
    The gradient at the first layer is more than ``max_ratio`` times the one at the
    last layer (measured on a sample batch).

    Why it matters
    The first layers take huge steps: the loss jumps, spikes and often ends NaN.
    Unnormalised inputs and a learning rate too high are the usual causes.

    Example
    Inputs in the thousands: first-layer gradient 5e3 times the last layer's.

    What to do
    Normalise the inputs, clip gradients (``clipnorm=1.0``), lower the learning
    rate, use a careful initialisation.

    Known false alarms
    Very wide first layers (embeddings of a large vocabulary) whose total norm is
    large though each weight moves little.
    """

    code = "FD503"
    name = "exploding-gradients"
    kind = "divergence"
    max_ratio: float = 1e3

    def inspect(self, probe):
        norms = _norm_ratio(probe)
        if norms and norms[2] > self.max_ratio:
            yield self.finding(
                probe.epoch, first=norms[0], last=norms[1], ratio=norms[2],
                first_layer=probe.grad_norms[0][0], last_layer=probe.grad_norms[-1][0],
                layers=len(probe.grad_norms), causes=[("data_problem", 0.5), ("lr_too_high", 0.5)],
            )


def _worst_layer(probe: ProbeSample, acts: tuple[str, ...], share) -> tuple[str, float, int] | None:
    """(layer, share, units) of the layer with the highest ``share(outputs)`` among ``acts``."""
    scored = [
        (layer, float(share(np.asarray(out).reshape(len(out), -1))), int(np.prod(np.shape(out)[1:])))
        for layer, act, out in probe.activations
        if act in acts and len(out)
    ]
    return max(scored, key=lambda s: s[1]) if scored else None


@dataclass
class DeadRelus(ProbeRule, Rule):
    """What it detects
    A ReLU layer where at least ``max_dead`` of the units output 0 for every sample
    of a sample batch.

    Why it matters
    A dead unit gets no gradient and never recovers; a layer of dead units is a
    narrower network, and a fully dead one blocks learning (the loss freezes).

    Example
    After a few large steps (learning rate too high) 80% of a Dense(64, 'relu')
    layer is 0 on every input.

    What to do
    Lower the learning rate, use LeakyReLU/ELU/GELU, He initialisation, normalise
    the inputs.

    Known false alarms
    Sparse inputs (one-hot, bag of words) where a small sample batch does not reach
    every unit; layers with fewer than ``min_units`` units are skipped.
    """

    code = "FD504"
    name = "dead-relus"
    kind = "underfitting"
    max_dead: float = 0.5
    min_units: int = 4

    def inspect(self, probe):
        worst = _worst_layer(probe, ("relu",), lambda out: np.mean(np.all(out <= 0, axis=0)))
        if worst and worst[2] >= self.min_units and worst[1] >= self.max_dead:
            yield self.finding(
                probe.epoch, layer=worst[0], share=worst[1], units=worst[2],
                causes=[("lr_too_high", 0.5), ("data_problem", 0.3)],
            )


@dataclass
class SaturatedActivations(ProbeRule, Rule):
    """What it detects
    A hidden sigmoid or tanh layer where at least ``max_saturated`` of the outputs on
    a sample batch lie within ``margin`` of the function's bounds (0/1 for sigmoid,
    -1/1 for tanh).

    Why it matters
    A saturated unit has a near-zero derivative: gradients through it vanish and the
    layers below stop learning; the loss plateaus.

    Example
    Inputs in the thousands into Dense(32, 'tanh'): 95% of outputs are ±1.

    What to do
    Normalise the inputs, use ReLU-family activations, Glorot initialisation, add
    BatchNormalization before the activation.

    Known false alarms
    Gating units (LSTM gates, attention masks) that are meant to be near 0 or 1; the
    output layer is never checked.
    """

    code = "FD505"
    name = "saturated-activations"
    kind = "plateau"
    max_saturated: float = 0.5
    margin: float = 0.01

    def inspect(self, probe):
        bounds = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
        worst = None
        for act, (low, high) in bounds.items():
            found = _worst_layer(
                probe, (act,), lambda out: np.mean((out <= low + self.margin) | (out >= high - self.margin))
            )
            if found and (worst is None or found[1] > worst[1]):
                worst = found
        if worst and worst[1] >= self.max_saturated:
            yield self.finding(
                probe.epoch, layer=worst[0], share=worst[1], units=worst[2],
                causes=[("data_problem", 0.5), ("lr_too_high", 0.3)],
            )


PROBE_RULES = (NonFiniteValues, VanishingGradients, ExplodingGradients, DeadRelus, SaturatedActivations)
