"""fitdoc in the Hugging Face ``Trainer``: the :class:`Doctor` TrainerCallback."""

from __future__ import annotations

from transformers import TrainerCallback

from .live import ARGS, LiveDoctor, guarded
from .torch import TorchHandle, describe


class Doctor(LiveDoctor, TrainerCallback):
    """TrainerCallback: diagnoses the run once per epoch, says each problem once, and
    stops through ``control.should_training_stop``.

    An epoch's row gathers what the Trainer logged during it (``loss``,
    ``learning_rate``, ``eval_*``); with ``eval_strategy="epoch"`` the row is complete
    after the evaluation. Use ``logging_strategy="epoch"`` (or a ``logging_steps``
    shorter than an epoch) so every epoch has a training loss. Gradient norms are
    taken just before the optimizer step, since the Trainer clears them after it.

    Args:
        sample: ``(batch, None)``, a dict batch of model inputs for the activation probes.
{args}
    Example:
        >>> from fitdoc.integrations.hf import Doctor
        >>> trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val,
        ...                   callbacks=[Doctor(report_path="fitdoc.json")])  # doctest: +SKIP
        >>> trainer.train()  # doctest: +SKIP
    """

    def __init__(self, sample=None, **kwargs):
        LiveDoctor.__init__(self, **kwargs)
        self.sample = sample
        self._control = None
        self._row: dict[str, float] = {}
        self._grads_epoch = 0

    def _request_stop(self) -> None:
        self._control.should_training_stop = True

    @guarded()
    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        self._control, self._row, self._grads_epoch = control, {}, 0
        self.begin(TorchHandle(model, optimizer, self.sample, stop=self._request_stop), describe(model, optimizer))

    @guarded()
    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        epoch = self._epoch + 1
        if self._grads_epoch != epoch and self.gradients_due(epoch):
            self.handle.capture_gradients()
            self._grads_epoch = epoch

    @guarded()
    def on_log(self, args, state, control, logs=None, **kwargs):
        self._control = control
        loss = (logs or {}).get("loss")
        if loss is not None:
            self.batch_end(0, loss)
        self._row.update(logs or {})

    @guarded()
    def on_epoch_end(self, args, state, control, **kwargs):
        if not _evaluates_each_epoch(args):
            self._finish_epoch(state, control)

    @guarded()
    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self._row.update(metrics or {})
        if _evaluates_each_epoch(args):
            self._finish_epoch(state, control)

    @guarded()
    def on_train_end(self, args, state, control, **kwargs):
        self.end()

    def _finish_epoch(self, state, control) -> None:
        self._control = control
        self.epoch_end(int(round(state.epoch or 0)), self._row)
        self._row = {}


def _evaluates_each_epoch(args) -> bool:
    return str(getattr(args, "eval_strategy", "no")).split(".")[-1].lower() == "epoch"


Doctor.__doc__ = Doctor.__doc__.replace("{args}", ARGS)
