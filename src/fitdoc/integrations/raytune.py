"""Ray Tune: a stopper that stops a trial for a stated reason (``fitdoc[ray]``).

::

    from ray import tune
    from fitdoc.integrations.raytune import Stopper

    stopper = Stopper()
    tune.Tuner(train_fn, run_config=tune.RunConfig(stop=stopper)).fit()
    stopper.reasons        # {trial_id: {"code": "FD202", "evidence": ..., "epoch": ...}}

Each result dict a trial reports is one epoch (``training_iteration``); the metrics in
it (``loss``, ``val_loss``, ``val_accuracy``...) are read as fitdoc reads a Ray Tune
``result.json``. The trial is stopped when
:func:`fitdoc.integrations.prune.stop_reason` finds a reason, which is kept in
:attr:`Stopper.reasons` and put in that result dict under ``fitdoc`` (Ray Tune logs it
to the trial's ``result.json``).
"""

from __future__ import annotations

from ray import tune

from ..sources.raytune import run_from_results
from .prune import STOP_CODES, stop_reason


class Stopper(tune.Stopper):
    """Stop a trial when fitdoc sees NaN, divergence, accuracy stuck at chance or
    overfitting with no recovery in its results."""

    def __init__(self, codes=STOP_CODES):
        self.codes = tuple(codes)
        self.results: dict[str, list[dict]] = {}
        self.reasons: dict[str, dict] = {}

    def __call__(self, trial_id: str, result: dict) -> bool:
        seen = self.results.setdefault(trial_id, [])
        seen.append(dict(result))
        reason = stop_reason(run_from_results(seen, trial_id), self.codes)
        if reason is None:
            return False
        self.reasons[trial_id] = reason
        result["fitdoc"] = reason
        return True

    def stop_all(self) -> bool:
        return False
