"""Pre-flight rules (FD4xx): mistakes visible before the first epoch.

They look at a :class:`Setup`, a framework-free description of the model, its
compile settings and a sample batch, which the integrations build when training
starts (``fitdoc.keras.Doctor``, ``fitdoc.integrations.torch.Doctor``...) and put
in ``run.info["setup"]``. Their findings carry ``epoch=None`` (before training) and
travel in the same report as the curve rules' findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .base import Finding, Rule

_LOSS_FAMILIES = {
    "binary": ("binarycrossentropy", "bce", "binaryfocalcrossentropy", "bceloss", "bcewithlogitsloss"),
    "categorical": (
        "categoricalcrossentropy", "cce", "sparsecategoricalcrossentropy", "categoricalfocalcrossentropy",
        "crossentropyloss", "nllloss",
    ),
    "regression": (
        "mse", "meansquarederror", "mae", "meanabsoluteerror", "huber", "huberloss", "logcosh", "msle",
        "meansquaredlogarithmicerror", "mape", "meanabsolutepercentageerror", "mseloss", "l1loss", "smoothl1loss",
    ),
}


def loss_family(loss: str | None) -> str | None:
    """``"binary"``, ``"categorical"``, ``"regression"`` or None for a loss name in any spelling."""
    key = re.sub(r"[^a-z0-9]", "", (loss or "").lower())
    return next((fam for fam, names in _LOSS_FAMILIES.items() if key in names), None)


@dataclass
class Setup:
    """What the pre-flight rules look at, in plain Python and numpy.

    ``loss`` is a loss name in any spelling (``binary_crossentropy``, ``BCELoss``...);
    ``output_activation`` the activation of the last layer (``"linear"`` when none);
    ``dropout`` maps layer names to rates; ``monitors`` lists ``(callback, metric)``
    pairs such as ``("EarlyStopping", "loss")``; ``x``/``y`` is a sample of the
    training data in its original order (the head and the tail of the arrays passed
    to ``fit`` when ``validation_split`` is set).
    """

    loss: str | None = None
    from_logits: bool = False
    output_activation: str | None = None
    output_units: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    metrics: list[str] = field(default_factory=list)
    dropout: dict[str, float] = field(default_factory=dict)
    monitors: list[tuple[str, str]] = field(default_factory=list)
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    validation_split: float = 0.0


def _labels(y: np.ndarray) -> np.ndarray:
    """Class index per sample from integer labels or one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(len(y), -1)[:, 0]


def _is_integer_valued(y: np.ndarray) -> bool:
    y = np.asarray(y, dtype=float)
    return bool(np.all(np.isfinite(y)) and np.all(y == np.round(y)))


class PreflightRule:
    """Mixin of the pre-flight rules: they check the :class:`Setup` that the training
    integrations put in ``run.info["setup"]``; a record read from a file has none."""

    def check(self, ctx) -> Iterable[Finding]:
        setup = ctx.run.info.get("setup")
        return self.inspect(setup) if setup is not None else ()

    def inspect(self, setup: Setup) -> Iterable[Finding]:
        raise NotImplementedError


@dataclass
class UnnormalisedInputs(PreflightRule, Rule):
    """What it detects
    A sample batch of the inputs whose mean, standard deviation or
    largest absolute value is far from the unit scale networks are initialised for.

    Why it matters
    Large inputs give large pre-activations: saturated sigmoid/tanh
    units, dead ReLUs, exploding first-layer gradients. Accuracy freezes near chance
    (digits x1000 with Adam: 0.13 for every epoch), or the loss jumps about or turns
    NaN, and no learning rate works well.

    Example
    Pixel values 0-255 (or readings in the thousands) fed to a Dense layer:
    mean 120, std 80, max 255.

    What to do
    Scale the inputs (``x / 255``, ``StandardScaler``, a
    ``keras.layers.Normalization`` layer adapted on the training data).

    Known false alarms
    Integer token ids fed to an ``Embedding`` layer; models that
    normalise inside their first layer.
    """

    code = "FD401"
    name = "unnormalised-inputs"
    kind = "stuck_accuracy"
    max_abs_mean: float = 10.0
    max_std: float = 50.0
    max_abs_value: float = 1e3

    def inspect(self, setup):
        if setup.x is None:
            return
        x = np.asarray(setup.x, dtype=float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            return
        mean, std, peak = float(x.mean()), float(x.std()), float(np.abs(x).max())
        if abs(mean) > self.max_abs_mean or std > self.max_std or peak > self.max_abs_value:
            yield self.finding(
                None, mean=mean, std=std, max=peak,
                causes=[("data_problem", 0.8), ("lr_too_high", 0.2)],
            )


@dataclass
class UnshuffledValidationSplit(PreflightRule, Rule):
    """What it detects
    Keras ``validation_split`` holds out the *last* fraction of the
    arrays, before any shuffling. When the class mix of that tail differs from the
    head (a class missing from the head, or a class share differing by more than
    ``max_share_gap``), validation measures a different problem.

    Why it matters
    Data sorted by label leaves whole classes out of training; val
    accuracy sits at or near 0 (or looks perfect) whatever the model does.

    Example
    Labels ``[0, 0, ..., 1, 1]`` with ``validation_split=0.2``: the model
    never sees class 1 in training and val_accuracy is 0.

    What to do
    Shuffle the arrays once before ``fit`` (``sklearn.utils.shuffle``),
    or split with ``train_test_split(..., stratify=y)`` and pass ``validation_data``.

    Known false alarms
    Time series, where a tail split is intended.
    """

    code = "FD402"
    name = "unshuffled-validation-split"
    kind = "val_acc_zero"
    severity = "error"
    max_share_gap: float = 0.3
    max_classes: int = 1000

    def inspect(self, setup):
        if setup.y is None or not 0 < setup.validation_split < 1 or not _is_integer_valued(_labels(setup.y)):
            return
        labels = _labels(setup.y)
        split = int(len(labels) * (1 - setup.validation_split))
        head, tail = labels[:split], labels[split:]
        classes = np.unique(labels)
        if len(head) == 0 or len(tail) == 0 or len(classes) > self.max_classes:
            return
        share_head = np.array([(head == c).mean() for c in classes])
        share_tail = np.array([(tail == c).mean() for c in classes])
        missing = [c.item() for c, h, t in zip(classes, share_head, share_tail) if h == 0 and t > 0]
        gap = float(np.abs(share_head - share_tail).max())
        if missing or gap > self.max_share_gap:
            yield self.finding(
                None, split=setup.validation_split, missing=missing, gap=gap,
                variant="missing" if missing else "gap",
                causes=[("data_problem", 0.9)],
            )


@dataclass
class LossActivationMismatch(PreflightRule, Rule):
    """What it detects
    ``softmax`` with ``binary_crossentropy``; ``softmax`` on a single
    unit; ``sigmoid`` with ``categorical_crossentropy``; a linear or ``relu`` output
    with a cross-entropy that expects probabilities (``from_logits=False``);
    probabilities fed to a loss that expects logits (``from_logits=True``,
    ``nn.CrossEntropyLoss`` after ``nn.Softmax``).

    Why it matters
    The loss then measures something else than the error: accuracy
    freezes (a 1-unit softmax always outputs 1), reads too good (binary accuracy over
    one-hot vectors), or the loss goes negative or NaN.

    Example
    ``Dense(10, activation="softmax")`` compiled with
    ``loss="binary_crossentropy"`` reports ~0.9 "accuracy" from the first epoch.

    What to do
    Softmax + (sparse_)categorical_crossentropy for one label among
    several; sigmoid + binary_crossentropy for yes/no or multi-label; a linear output
    with ``from_logits=True``.

    Known false alarms
    Multi-label problems that normalise the targets on purpose;
    custom losses with a standard name.
    """

    code = "FD403"
    name = "loss-activation-mismatch"
    kind = "stuck_accuracy"
    severity = "error"
    # what each shape of the mismatch shows in the curves
    variant_kinds = {
        "softmax_binary": "underfitting",
        "softmax_one_unit": "stuck_accuracy",
        "sigmoid_categorical": "underfitting",
        "linear_probabilities": "stuck_accuracy",
        "relu_probabilities": "underfitting",
        "probabilities_as_logits": "plateau",
    }

    def inspect(self, setup):
        family = loss_family(setup.loss)
        act = (setup.output_activation or "linear").lower()
        if family not in ("binary", "categorical"):
            return
        variant = self._variant(family, act, setup.output_units, setup.from_logits)
        if variant:
            yield self.finding(
                None, variant=variant, kind=self.variant_kinds[variant], loss=setup.loss, activation=act,
                units=setup.output_units, causes=[("loss_activation_mismatch", 0.9)],
            )

    @staticmethod
    def _variant(family: str, act: str, units: int | None, from_logits: bool) -> str:
        if act == "softmax" and units == 1:
            return "softmax_one_unit"
        if from_logits:
            return "probabilities_as_logits" if act in ("softmax", "sigmoid") else ""
        if act == "softmax" and family == "binary":
            return "softmax_binary"
        if act == "sigmoid" and family == "categorical":
            return "sigmoid_categorical"
        if act == "linear":
            return "linear_probabilities"
        if act == "relu":
            return "relu_probabilities"
        return ""


@dataclass
class AccuracyOnRegression(PreflightRule, Rule):
    """What it detects
    An accuracy metric compiled with a regression loss (mse, mae,
    huber...) while the targets are not integers.

    Why it matters
    Accuracy counts exact matches; on real-valued targets it stays at
    or near 0 whatever the model learns, and it hides real progress.

    Example
    House prices with ``loss="mse", metrics=["accuracy"]``: accuracy 0.0
    every epoch while the loss falls.

    What to do
    Use ``metrics=["mae"]`` or ``keras.metrics.RootMeanSquaredError()``.

    Known false alarms
    Regression on integer targets (counts) where exact hits mean
    something.
    """

    code = "FD404"
    name = "accuracy-on-regression"
    kind = "stuck_accuracy"

    def inspect(self, setup):
        has_accuracy = any(m.lower() in ("accuracy", "acc") for m in setup.metrics)
        if not has_accuracy or loss_family(setup.loss) != "regression":
            return
        if setup.y is not None and _is_integer_valued(setup.y):
            return
        yield self.finding(None, loss=setup.loss, causes=[("metric_mismatch", 0.9)])


@dataclass
class MonitorsTrainingMetric(PreflightRule, Rule):
    """What it detects
    ``EarlyStopping``/``ReduceLROnPlateau``/``ModelCheckpoint``
    monitoring a training metric (no ``val_`` prefix) while validation is available;
    a checkpoint on ``val_accuracy`` (info: val_loss is the finer signal).

    Why it matters
    A training metric keeps improving while the model overfits, so
    the callback never reacts; accuracy changes in steps and ties, so the "best"
    checkpoint is picked among many equal epochs.

    Example
    ``EarlyStopping(monitor="accuracy", patience=5)`` never stops an
    overfitting run.

    What to do
    ``monitor="val_loss"``, with ``restore_best_weights=True``.

    Known false alarms
    Runs without validation data, where only training metrics
    exist.
    """

    code = "FD405"
    name = "monitors-training-metric"
    kind = "overfitting"

    def inspect(self, setup):
        for callback, metric in setup.monitors:
            if not metric.startswith("val_"):
                yield self.finding(
                    None, variant="train_metric", callback=callback, monitor=metric,
                    causes=[("metric_mismatch", 0.6), ("needs_regularization", 0.3)],
                )
            elif callback == "ModelCheckpoint" and metric in ("val_accuracy", "val_acc"):
                yield self.finding(
                    None, variant="val_accuracy", callback=callback, monitor=metric, severity="info",
                    causes=[("metric_mismatch", 0.4)],
                )


@dataclass
class HeavyDropout(PreflightRule, Rule):
    """What it detects
    A dropout rate of ``max_rate`` or more.

    Why it matters
    At rate 0.8 each step trains a fifth of the layer; training loss
    stays high and falls slowly (underfitting) while validation, run without
    dropout, looks better than training.

    Example
    ``Dropout(0.8)`` after every Dense layer.

    What to do
    Rates of 0.1-0.5; for more regularisation use weight decay, data
    augmentation or a smaller model.

    Known false alarms
    Very wide layers or input dropout in a deliberately
    regularised setup.
    """

    code = "FD406"
    name = "heavy-dropout"
    kind = "underfitting"
    max_rate: float = 0.7

    def inspect(self, setup):
        heavy = {layer: rate for layer, rate in setup.dropout.items() if rate >= self.max_rate}
        if heavy:
            layer, rate = max(heavy.items(), key=lambda kv: kv[1])
            yield self.finding(None, layer=layer, rate=rate, layers=sorted(heavy), causes=[("model_too_small", 0.6)])


_ADAPTIVE = ("adam", "adamw", "adamax", "nadam", "rmsprop", "adagrad", "adadelta", "lion", "lamb", "adafactor")


@dataclass
class LearningRateOutOfRange(PreflightRule, Rule):
    """What it detects
    Adam-family optimizers (Adam, AdamW, RMSprop, Nadam...) with a
    rate above ``adaptive_max`` or below ``adaptive_min``; SGD above ``sgd_max`` or
    below ``sgd_min``.

    Why it matters
    Too high, the loss diverges or turns NaN within a few epochs;
    too low, it barely moves and the run looks like a plateau.

    Example
    ``Adam(learning_rate=10)``: loss NaN in the first epoch.

    What to do
    Start from the optimizer's default (Adam 1e-3, SGD 1e-2 with
    momentum 0.9) and change it by factors of 3-10.

    Known false alarms
    Schedules whose first value is a warm-up, fine-tuning with a
    deliberately tiny rate.
    """

    code = "FD407"
    name = "learning-rate-out-of-range"
    kind = "divergence"
    adaptive_max: float = 1e-2
    adaptive_min: float = 1e-6
    sgd_max: float = 1.0
    sgd_min: float = 1e-5

    def inspect(self, setup):
        if setup.lr is None or not setup.optimizer:
            return
        opt = setup.optimizer.lower()
        if opt in _ADAPTIVE:
            low, high = self.adaptive_min, self.adaptive_max
        elif opt == "sgd":
            low, high = self.sgd_min, self.sgd_max
        else:
            return
        if setup.lr > high:
            yield self.finding(None, variant="high", optimizer=setup.optimizer, lr=setup.lr, limit=high,
                               causes=[("lr_too_high", 0.9)])
        elif setup.lr < low:
            yield self.finding(None, variant="low", kind="plateau", optimizer=setup.optimizer, lr=setup.lr, limit=low,
                               causes=[("lr_too_low", 0.9)])


PREFLIGHT_RULES = (
    UnnormalisedInputs, UnshuffledValidationSplit, LossActivationMismatch, AccuracyOnRegression,
    MonitorsTrainingMetric, HeavyDropout, LearningRateOutOfRange,
)
