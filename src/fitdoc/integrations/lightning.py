"""fitdoc in PyTorch Lightning: the :class:`Doctor` callback."""

from __future__ import annotations

try:
    from lightning.pytorch.callbacks import Callback
except ModuleNotFoundError:  # the standalone pytorch_lightning package
    from pytorch_lightning.callbacks import Callback

from .live import ARGS, LiveDoctor, guarded
from .torch import TorchHandle, describe


class Doctor(LiveDoctor, Callback):
    """Lightning callback: diagnoses the run after each training epoch (validation
    included), says each problem once, and acts through ``trainer.should_stop``.

    Metrics are read from ``trainer.callback_metrics``: log them per epoch
    (``self.log("val_loss", loss, on_epoch=True)``); ``train_loss``/``val_acc``
    spellings are understood.

    Args:
        sample: ``(x, y)``, a batch of training data for the input and activation probes.
{args}
    Example:
        >>> from fitdoc.integrations.lightning import Doctor
        >>> trainer = lightning.Trainer(max_epochs=20, callbacks=[Doctor(restore_best_weights=True)])  # doctest: +SKIP
        >>> trainer.fit(model, train_loader, val_loader)  # doctest: +SKIP
    """

    def __init__(self, sample=None, **kwargs):
        LiveDoctor.__init__(self, **kwargs)
        self.sample = sample

    @guarded()
    def on_train_start(self, trainer, pl_module):
        optimizer = trainer.optimizers[0] if trainer.optimizers else None
        x = None if self.sample is None else self.sample[0]
        handle = TorchHandle(pl_module, optimizer, self.sample, stop=lambda: setattr(trainer, "should_stop", True))
        self.begin(handle, describe(pl_module, optimizer, None, x))

    @guarded()
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.batch_end(batch_idx, outputs.get("loss") if isinstance(outputs, dict) else outputs)

    @guarded()
    def on_train_epoch_end(self, trainer, pl_module):
        self.epoch_end(trainer.current_epoch + 1, dict(trainer.callback_metrics))

    @guarded()
    def on_train_end(self, trainer, pl_module):
        self.end()


Doctor.__doc__ = Doctor.__doc__.replace("{args}", ARGS)
