"""fitdoc inside ``model.fit``: the :class:`Doctor` callback for Keras 3 (any backend).

Gradient probes need the torch backend (``KERAS_BACKEND=torch``): the gradients of
the compiled loss on the sample batch are taken with ``torch.autograd.grad`` on the
model's torch variables, outside the training step, so training is untouched. Under
other backends the doctor runs every other check.
"""

from __future__ import annotations

import keras
import numpy as np

from ..rules.preflight import Setup
from ..rules.probes import ProbeSample
from .live import ARGS, Handle, LiveDoctor, guarded

SAMPLE_ROWS = 256  # rows of the sample batch used by the probes
SPLIT_ROWS = 4096  # labels kept (in order) for the validation-split check


def _activation(layer) -> str | None:
    if isinstance(layer, keras.layers.ReLU):
        return "relu"
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    fn = getattr(layer, "activation", None)
    return getattr(fn, "__name__", None)


def describe(model, x=None, y=None, validation_split: float = 0.0, callbacks=()) -> Setup:
    """The :class:`Setup` of a compiled Keras model (and optionally its data)."""
    loss = model.loss
    from_logits = bool(getattr(loss, "get_config", dict)().get("from_logits", False))
    loss_name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", None)
    dense = [layer for layer in model.layers if getattr(layer, "units", None)]
    output_act = None
    if dense:
        after = model.layers[model.layers.index(dense[-1]):]
        output_act = next((a for a in map(_activation, reversed(after)) if a and a != "linear"), "linear")
    compiled = model.get_compile_config() or {}
    metrics = [m if isinstance(m, str) else m.get("config", {}).get("name", "") for m in compiled.get("metrics") or []]
    optimizer = getattr(model, "optimizer", None)
    rows = None if y is None else np.linspace(0, len(y) - 1, min(len(y), SPLIT_ROWS)).astype(int)
    return Setup(
        loss=loss_name,
        from_logits=from_logits,
        output_activation=output_act,
        output_units=dense[-1].units if dense else None,
        optimizer=type(optimizer).__name__ if optimizer is not None else None,
        lr=float(optimizer.learning_rate) if optimizer is not None else None,
        metrics=metrics,
        dropout={layer.name: float(layer.rate) for layer in model.layers if isinstance(layer, keras.layers.Dropout)},
        monitors=[(type(cb).__name__, cb.monitor) for cb in callbacks if isinstance(getattr(cb, "monitor", None), str)
                  and not isinstance(cb, Doctor)],
        x=None if x is None else np.asarray(x[:SAMPLE_ROWS]),
        y=None if y is None else np.asarray(y)[rows],
        validation_split=validation_split,
    )


class KerasHandle(Handle):
    """The doctor's access to a Keras model: weights, learning rate, stop, probes."""

    def __init__(self, model, sample=None):
        self.model = model
        self.x, self.y = (None, None) if sample is None else (sample[0][:SAMPLE_ROWS], sample[1][:SAMPLE_ROWS])
        self._hidden = None  # (sub-model, [(layer name, activation)]) built on first use

    def get_weights(self):
        return self.model.get_weights()

    def set_weights(self, weights) -> None:
        self.model.set_weights(weights)

    def scale_lr(self, factor, min_lr):
        optimizer = self.model.optimizer
        if not isinstance(optimizer.learning_rate, keras.Variable):  # a schedule owns the rate
            return None
        lr = max(float(optimizer.learning_rate) * factor, min_lr)
        optimizer.learning_rate.assign(lr)
        return lr

    def stop(self) -> None:
        self.model.stop_training = True

    def probe(self, epoch, gradients):
        ops = keras.ops
        sample = ProbeSample(epoch)
        sample.nonfinite = [("weights", v.path) for v in self.model.weights
                            if v.dtype.startswith("float") and not bool(ops.all(ops.isfinite(v)))]
        if self.x is not None:
            sample.activations = self._activations()
            if gradients and keras.backend.backend() == "torch":
                sample.grad_norms, bad = self._grad_norms()
                sample.nonfinite += [("gradients", name) for name in bad]
        return sample

    def _activations(self):
        if self._hidden is None:
            layers = [(layer, act) for layer in self.model.layers[:-1] if (act := _activation(layer)) in ("relu", "sigmoid", "tanh")]
            try:
                inputs = self.model.inputs
                inputs = inputs[0] if len(inputs) == 1 else inputs
                sub = keras.Model(inputs, [layer.output for layer, _ in layers]) if layers else None
            except (AttributeError, ValueError):  # a subclassed model has no graph to tap
                sub = None
            self._hidden = (sub, [(layer.name, act) for layer, act in layers])
        sub, names = self._hidden
        if sub is None:
            return []
        outputs = sub(self.x, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return [(name, act, keras.ops.convert_to_numpy(out)) for (name, act), out in zip(names, outputs)]

    def _grad_norms(self):
        import torch

        layers = [layer for layer in self.model.layers if layer.trainable_weights]
        params = [v.value for layer in layers for v in layer.trainable_weights]
        x, y = keras.ops.convert_to_tensor(self.x), keras.ops.convert_to_tensor(self.y)
        with torch.enable_grad():
            y_pred = self.model(x, training=False)
            loss = self.model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
            grads = iter(torch.autograd.grad(loss, params, allow_unused=True))
        norms, bad = [], []
        for layer in layers:
            own = [g for g in (next(grads) for _ in layer.trainable_weights) if g is not None]
            norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in own))) if own else 0.0
            norms.append((layer.name, norm))
            if not np.isfinite(norm):
                bad.append(layer.name)
        return norms, bad


class Doctor(LiveDoctor, keras.callbacks.Callback):
    """Keras callback: diagnoses the run while it trains, says each problem once when
    it first appears (same codes as ``fitdoc diagnose``), and acts on it.

    Callbacks never see the training data: pass ``sample=(x, y)`` for the input and
    activation/gradient probes, or call :meth:`check` (or :func:`preflight`) before
    ``fit`` to also check the ``validation_split`` and the other callbacks.

    Args:
        sample: ``(x, y)``, a few hundred training rows for the probes.
{args}
    Example:
        >>> import os; os.environ.setdefault("KERAS_BACKEND", "torch")  # doctest: +SKIP
        >>> import keras, numpy as np
        >>> from fitdoc.keras import Doctor
        >>> x = np.random.rand(512, 8).astype("float32"); y = (x.sum(1) > 4).astype("float32")
        >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
        ...                           keras.layers.Dense(1, activation="sigmoid")])
        >>> model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        >>> doctor = Doctor(sample=(x, y), restore_best_weights=True, verbose=0)
        >>> _ = model.fit(x, y, epochs=3, validation_split=0.2, callbacks=[doctor], verbose=0)
        >>> doctor.report.verdict in ("healthy", "warning", "error")
        True
    """

    def __init__(self, sample=None, **kwargs):
        LiveDoctor.__init__(self, **kwargs)
        keras.callbacks.Callback.__init__(self)
        self._data = {} if sample is None else {"x": sample[0], "y": sample[1]}

    @guarded()
    def check(self, model, x, y, validation_split: float = 0.0, callbacks=()):
        """Pre-flight checks of ``model`` with the data and callbacks ``fit`` will get;
        the findings, said now and not again when training starts."""
        self._data = {"x": x, "y": y, "validation_split": validation_split, "callbacks": list(callbacks)}
        return self.begin(KerasHandle(model, (x, y)), describe(model, **self._data))

    @guarded()
    def on_train_begin(self, logs=None):
        sample = (self._data["x"], self._data["y"]) if self._data else None
        self.begin(KerasHandle(self.model, sample), describe(self.model, **self._data))

    @guarded()
    def on_train_batch_end(self, batch, logs=None):
        self.batch_end(batch, (logs or {}).get("loss"))

    @guarded()
    def on_epoch_end(self, epoch, logs=None):
        self.epoch_end(epoch + 1, logs or {})

    @guarded()
    def on_train_end(self, logs=None):
        self.end()


Doctor.__doc__ = Doctor.__doc__.replace("{args}", ARGS)


def preflight(model, x, y, validation_split: float = 0.0, callbacks=(), lang: str | None = None, verbose: int = 1):
    """Check a compiled model, its data and its callbacks before ``fit``; the Report.

    Example:
        >>> report = preflight(model, x, y, validation_split=0.2, callbacks=[early_stopping])  # doctest: +SKIP
        >>> [f.code for f in report.findings]  # doctest: +SKIP
        ['FD402']
    """
    doctor = Doctor(lang=lang, verbose=verbose)
    doctor.check(model, x, y, validation_split=validation_split, callbacks=callbacks)
    return doctor.report
