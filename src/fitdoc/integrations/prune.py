"""When a hyperparameter search should stop a trial, and the reason it records: the
framework-free core of :mod:`fitdoc.integrations.optuna` and
:mod:`fitdoc.integrations.raytune`.

A trial is stopped when fitdoc finds, in the curves it has reported so far:

- ``FD201`` a NaN or infinite loss;
- ``FD202`` a diverging loss;
- ``FD301`` accuracy stuck at the chance rate up to the last report;
- ``FD101`` overfitting with no recovery: still going on at the last report, whose
  value is worse than the trial's best.

Nothing else stops a trial: a plateau or a slow start is the search's business (a
rank-based pruner is better at those).
"""

from __future__ import annotations

STOP_CODES = ("FD201", "FD202", "FD301", "FD101")


def stop_reason(run, codes=STOP_CODES, lang: str = "en") -> dict | None:
    """``{"code", "kind", "epoch", "evidence", "at_epoch"}`` of the first finding that
    stops the trial whose curves ``run`` holds, or None to let it go on."""
    from ..engine import diagnose
    from ..run import epoch_value

    if len(run) == 0:
        return None
    report = diagnose(run, lang=lang)
    last = epoch_value(run.epochs[-1])
    for finding, advice in report.items():
        if finding.code not in codes or finding.severity == "info":
            continue
        if finding.code == "FD301" and (finding.facts.get("reading") != "chance" or finding.end_epoch != last):
            continue
        if finding.code == "FD101" and (finding.end_epoch is not None or report.best.epoch == last):
            continue
        return {"code": finding.code, "kind": finding.kind, "epoch": finding.epoch, "evidence": advice.evidence,
                "at_epoch": last}
    return None
