"""fitdoc in a plain PyTorch loop: call :class:`Doctor` once per epoch.

:class:`TorchHandle` is also what the Lightning and Hugging Face callbacks use. Its
probes read the gradients the training step left in ``p.grad`` (no extra backward
pass), and the activations of ``nn.ReLU``/``nn.Sigmoid``/``nn.Tanh`` modules on the
sample batch through forward hooks (functional calls such as ``F.relu`` are not
seen).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..rules.preflight import Setup
from ..rules.probes import ProbeSample
from .live import ARGS, EpochResult, Handle, LiveDoctor, guarded

SAMPLE_ROWS = 256
_ACTIVATIONS = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
_OUTPUTS = {nn.Softmax: "softmax", nn.LogSoftmax: "log_softmax", nn.Sigmoid: "sigmoid", nn.ReLU: "relu", nn.Linear: "linear"}


def describe(model: nn.Module, optimizer=None, loss_fn=None, x=None) -> Setup:
    """The :class:`Setup` of a torch model, its optimizer, loss module and a sample batch."""
    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    last = next((m for m in reversed(leaves) if type(m) in _OUTPUTS), None)
    linears = [m for m in leaves if isinstance(m, nn.Linear)]
    loss = type(loss_fn).__name__ if loss_fn is not None else None
    return Setup(
        loss=loss,
        from_logits=loss in ("CrossEntropyLoss", "BCEWithLogitsLoss"),
        output_activation=_OUTPUTS[type(last)] if last is not None else None,
        output_units=linears[-1].out_features if linears else None,
        optimizer=type(optimizer).__name__ if optimizer is not None else None,
        lr=optimizer.param_groups[0]["lr"] if optimizer is not None else None,
        dropout={name: float(m.p) for name, m in model.named_modules() if isinstance(m, nn.Dropout)},
        x=None if x is None or isinstance(x, dict) else x[:SAMPLE_ROWS].detach().cpu().numpy(),
    )


def _layers(model: nn.Module) -> list[tuple[str, list[nn.Parameter]]]:
    """Modules that own parameters, in registration order (input to output)."""
    return [(name or type(m).__name__, params) for name, m in model.named_modules()
            if (params := [p for p in m.parameters(recurse=False) if p.requires_grad])]


class TorchHandle(Handle):
    """The doctor's access to a torch model and optimizer."""

    def __init__(self, model: nn.Module, optimizer=None, sample=None, stop=None):
        self.model, self.optimizer, self.sample = model, optimizer, sample
        self._stop = stop
        self._captured = None
        self.stopped = False

    def get_weights(self):
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def set_weights(self, weights) -> None:
        self.model.load_state_dict(weights)

    def scale_lr(self, factor, min_lr):
        if self.optimizer is None:
            return None
        for group in self.optimizer.param_groups:
            group["lr"] = max(group["lr"] * factor, min_lr)
        return self.optimizer.param_groups[0]["lr"]

    def stop(self) -> None:
        self.stopped = True
        if self._stop is not None:
            self._stop()

    def grad_norms(self) -> list[tuple[str, float]]:
        """Gradient norm of each module with parameters, from the grads left in ``p.grad``."""
        with torch.no_grad():
            return [(name, math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in params if p.grad is not None)))
                    for name, params in _layers(self.model) if any(p.grad is not None for p in params)]

    def capture_gradients(self) -> None:
        """Keep the current gradient norms for the next probe (for loops that clear
        ``p.grad`` right after the optimizer step)."""
        self._captured = self.grad_norms()

    def probe(self, epoch, gradients):
        sample = ProbeSample(epoch)
        with torch.no_grad():
            sample.nonfinite = [("weights", name) for name, p in self.model.named_parameters() if not torch.isfinite(p).all()]
        if gradients:
            sample.grad_norms = self._captured if self._captured is not None else self.grad_norms()
            self._captured = None
            sample.nonfinite += [("gradients", name) for name, norm in sample.grad_norms if not math.isfinite(norm)]
        if self.sample is not None:
            sample.activations = self._activations()
        return sample

    def _activations(self):
        modules = [(name, m) for name, m in self.model.named_modules() if type(m) in _ACTIVATIONS]
        modules = modules[:-1] if modules and modules[-1][1] is list(self.model.modules())[-1] else modules
        seen = []
        hooks = [m.register_forward_hook(lambda mod, args, out, name=name, act=_ACTIVATIONS[type(m)]:
                                         seen.append((name, act, out.detach().cpu().numpy())))
                 for name, m in modules]
        training = self.model.training
        try:
            self.model.eval()
            with torch.no_grad():
                x = self.sample[0]
                self.model(**x) if isinstance(x, dict) else self.model(x[:SAMPLE_ROWS])
        finally:
            self.model.train(training)
            for h in hooks:
                h.remove()
        return seen


class Doctor(LiveDoctor):
    """fitdoc for a hand-written PyTorch loop: call :meth:`epoch_end` after each epoch.

    Gradient probes read ``p.grad`` as the last training step left it, so call
    ``epoch_end`` before the next ``optimizer.zero_grad()``.

    Args:
        model: the ``nn.Module`` being trained (or pass it to ``epoch_end``).
        optimizer: its optimizer, for the learning-rate checks and ``reduce_lr_on``.
        loss_fn: the loss module, for the loss/activation check.
        sample: ``(x, y)``, a batch of training data for the input and activation probes.
{args}
    Example:
        >>> import torch
        >>> from torch import nn
        >>> from fitdoc.integrations.torch import Doctor
        >>> x = torch.rand(256, 8); y = (x.sum(1) > 4).long()
        >>> model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
        >>> opt = torch.optim.Adam(model.parameters(), lr=1e-3); loss_fn = nn.CrossEntropyLoss()
        >>> doctor = Doctor(model, opt, loss_fn, sample=(x, y), verbose=0)
        >>> for epoch in range(1, 4):
        ...     opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()
        ...     if doctor.epoch_end(epoch, {"loss": loss.item()}).should_stop:
        ...         break
        >>> report = doctor.end()
    """

    def __init__(self, model: nn.Module | None = None, optimizer=None, loss_fn=None, sample=None, **kwargs):
        super().__init__(**kwargs)
        self.optimizer, self.loss_fn, self.sample = optimizer, loss_fn, sample
        self._model = None
        if model is not None:
            self._bind(model)

    @guarded()
    def _bind(self, model: nn.Module) -> None:
        self._model = model
        x = None if self.sample is None else self.sample[0]
        self.begin(TorchHandle(model, self.optimizer, self.sample), describe(model, self.optimizer, self.loss_fn, x))

    @guarded(lambda: EpochResult([], False, None))
    def epoch_end(self, epoch: int, metrics: dict[str, float], model: nn.Module | None = None) -> EpochResult:
        """Record one epoch (``{"loss": .., "val_loss": ..}``, your numbering), diagnose, act."""
        if model is not None and model is not self._model:
            self._bind(model)
        return super().epoch_end(epoch, metrics)


Doctor.__doc__ = Doctor.__doc__.replace("{args}", ARGS)
