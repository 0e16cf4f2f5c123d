"""Optuna: a pruner that stops a trial for a stated reason (``fitdoc[optuna]``).

::

    import optuna
    from fitdoc.integrations.optuna import Pruner, report

    def objective(trial):
        for epoch in range(epochs):
            ...
            report(trial, epoch, val_loss, loss=train_loss)   # or trial.report(val_loss, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return best_val_loss

    study = optuna.create_study(pruner=Pruner(optuna.pruners.MedianPruner()))

:class:`Pruner` prunes when :func:`fitdoc.integrations.prune.stop_reason` finds NaN,
divergence, accuracy stuck at chance or overfitting with no recovery in the trial's
curves, and records why in the trial's user attribute ``fitdoc_pruned`` (code, kind,
epoch of onset, evidence, step of the decision); otherwise it defers to the pruner it
wraps (none: never prune). The intermediate values are the objective's curve, named
``metric`` (default ``val_loss`` when the study minimises, ``val_accuracy`` when it
maximises); :func:`report` also keeps other metrics (the training loss, which
divergence and overfitting are read from) in the ``fitdoc_history`` user attribute.

Optuna hands a pruner a frozen copy of the trial; the attribute is written through the
study's storage, as Optuna's own successive-halving pruner writes its rungs.
"""

from __future__ import annotations

import optuna

from ..sources.optuna_rdb import HISTORY_ATTR, METRIC_ATTR, objective_metric, trial_run
from .prune import STOP_CODES, stop_reason

REASON_ATTR = "fitdoc_pruned"


def report(trial, step: int, value: float, **metrics: float) -> None:
    """``trial.report(value, step)``, and keep ``metrics`` of this step for the pruner."""
    history = dict(trial.user_attrs.get(HISTORY_ATTR) or {"steps": []})
    history["steps"] = [*history["steps"], int(step)]
    for name in set(history) - {"steps"} | set(metrics):
        history[name] = [*history.get(name, [None] * (len(history["steps"]) - 1)), _plain(metrics.get(name))]
    trial.set_user_attr(HISTORY_ATTR, history)
    trial.report(value, step)


def _plain(value):
    return None if value is None else float(value)


class Pruner(optuna.pruners.BasePruner):
    """Prune for a reason fitdoc can state; else ask ``wrapped``."""

    def __init__(self, wrapped: optuna.pruners.BasePruner | None = None, *, metric: str | None = None,
                 codes=STOP_CODES):
        self.wrapped = wrapped
        self.metric = metric
        self.codes = tuple(codes)

    def prune(self, study: optuna.study.Study, trial: optuna.trial.FrozenTrial) -> bool:
        metric = self.metric or objective_metric(study)
        if study.user_attrs.get(METRIC_ATTR) != metric:
            study.set_user_attr(METRIC_ATTR, metric)  # so that `fitdoc triage` reads the curve under this name
        run = trial_run(trial.intermediate_values, trial.user_attrs.get(HISTORY_ATTR), metric,
                        f"{study.study_name}#{trial.number}")
        reason = stop_reason(run, self.codes)
        if reason is not None:
            study._storage.set_trial_user_attr(trial._trial_id, REASON_ATTR, reason)
            return True
        return self.wrapped.prune(study, trial) if self.wrapped is not None else False


FitdocPruner = Pruner
