"""Advice for a whole report, reconciled across its findings.

Each finding's causes are ranked and normalised here (the one place: confidences of a
finding never sum past 1), and the run gets one learning-rate direction, decided from
the summed confidence of ``lr_too_high`` against ``lr_too_low``; the losing cause leaves
every finding and no fix moves the rate the other way. Fixes come from the finding's
rule, then from its top causes, spoken in the run's framework, with the numbers in force
when the problem started (the learning rate at the finding's onset, never one set
later) and the settings the record shows; a fix said once is not said again.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from . import advice
from .analysis import Context
from .best import BestEpoch
from .rules import Finding
from .rules.base import Cause
from .run import epoch_value

LR_STEP = 3  # the learning rate moves by this factor
BATCH_STEP = 4
DEFAULT_PATIENCE = 5
LR_CAUSES = {"lr_too_high": "lower", "lr_too_low": "raise"}
CAUSE_FIXES = (2, 1)  # fixes taken from the top cause, then from the second
SPLIT_CODES = ("FD302", "FD402")
SPLIT_GAP = 0.5  # validation accuracy below this share of training accuracy: a split problem
EARLY_EVALS = 3  # a problem seen within the first evaluations: the inputs, not the training
VALIDATION_KINDS = ("overfitting", "val_acc_zero", "val_better_than_train", "suspicious_validation")
INFO_WEIGHT = 0.5


@dataclass
class Advice:
    evidence: str
    fixes: list[str]
    causes: list[dict]  # cause_words() entries with their confidence, most likely first
    fix_actions: list[dict] = field(default_factory=list)  # {"text", "action"} per fix
    snippets: dict[str, str] = field(default_factory=dict)  # framework -> code of the fixes


def advise(ctx: Context, findings: list[Finding], best: BestEpoch, lang: str) -> tuple[list[Advice], list[str]]:
    """Advice per finding (in the findings' order) and the run-level likely causes.
    Ranks and normalises each finding's causes in place."""
    for f in findings:
        f.causes = _normalised(f.causes)
    direction = _lr_direction(findings)
    for f in findings:
        f.causes = [c for c in f.causes if LR_CAUSES.get(c.cause, direction) == direction]
    advisor = _Advisor(ctx, best, lang, direction)
    return [advisor.advise(f) for f in findings], likely_causes(findings)


def _normalised(causes: list[Cause]) -> list[Cause]:
    total = sum(c.confidence for c in causes)
    scale = 1.0 / total if total > 1.0 else 1.0
    return sorted((Cause(c.cause, c.confidence * scale) for c in causes), key=lambda c: -c.confidence)


def _scores(findings: list[Finding]) -> dict[str, float]:
    """Confidence per cause summed over the findings (info findings count at half)."""
    score: dict[str, float] = {}
    for f in findings:
        weight = INFO_WEIGHT if f.severity == "info" else 1.0
        for c in f.causes:
            score[c.cause] = score.get(c.cause, 0.0) + weight * c.confidence
    return score


def _lr_direction(findings: list[Finding]) -> str | None:
    score = _scores(findings)
    high, low = score.get("lr_too_high", 0.0), score.get("lr_too_low", 0.0)
    if not high and not low:
        return None
    return "lower" if high >= low else "raise"


def likely_causes(findings: list[Finding], min_score: float = 0.3, near_top: float = 0.7, top: int = 2) -> list[str]:
    """Run-level causes: the summed confidences close to the strongest (within ``near_top``
    of its score), best first, among the causes that lead at least one finding."""
    leading = {f.causes[0].cause for f in findings if f.causes}
    ranked = sorted(((c, s) for c, s in _scores(findings).items() if c in leading), key=lambda kv: -kv[1])
    if not ranked:
        return []
    cut = max(min_score, near_top * ranked[0][1])
    return [c for c, s in ranked if s >= cut][:top]


class _Advisor:
    """Writes the advice of one report, remembering what it has already said."""

    def __init__(self, ctx: Context, best: BestEpoch, lang: str, direction: str | None):
        self.ctx, self.lang, self.direction = ctx, lang, direction
        self.framework = advice.framework_of(ctx.run)
        self.said: set[str] = set()
        self.run_facts = _run_facts(ctx, best, self.framework)

    def advise(self, finding: Finding) -> Advice:
        facts = {**finding.facts, **self.run_facts, **_lr_facts(self.ctx, finding)}
        causes = [{**advice.cause_words(c.cause, self.lang, facts), "confidence": c.confidence} for c in finding.causes]
        rendered = (advice.render_fix(i, self.lang, facts, self.framework) for i in self._fix_ids(finding, causes))
        fixes = [fix for fix in rendered if fix and self._new(fix)]
        frameworks = dict.fromkeys(fw for fix in fixes for fw in fix.code)
        snippets = {fw: "\n".join(fix.code[fw] for fix in fixes if fw in fix.code) for fw in frameworks}
        return Advice(advice.evidence(finding, self.lang, advice.unit_of(self.ctx.run)), [x.text for x in fixes], causes,
                      [{"text": x.text, "action": x.action} for x in fixes], snippets)

    def _fix_ids(self, finding: Finding, causes: list[dict]) -> list[str]:
        ids = [i for i in advice.rule_fix_ids(finding.code) if self._applies(i, finding)]
        for cause, take in zip(causes, CAUSE_FIXES):
            ids += [i for i in cause["fixes"] if self._applies(i, finding)][:take]
        return list(dict.fromkeys(ids))

    def _applies(self, fix_id: str, finding: Finding) -> bool:
        when = advice.fix_entry(fix_id).get("when")
        return when is None or CONDITIONS[when](self.ctx, finding)

    def _new(self, fix: advice.Fix) -> bool:
        """True the first time a fix (or its group) is said, if it moves the learning rate
        the report's way (the first such fix sets the way when no cause did)."""
        if fix.group in self.said or (fix.direction and self.direction not in (None, fix.direction)):
            return False
        self.direction = self.direction or fix.direction
        self.said.add(fix.group)
        return True


def _split_suspect(ctx: Context, finding: Finding) -> bool:
    """The finding's numbers point to a bad train/validation split: an unseen-class
    finding, or a validation accuracy far below the training accuracy."""
    if finding.code in SPLIT_CODES:
        return finding.variant != "regression"
    val, train = ctx.curve("val_accuracy"), ctx.curve("accuracy")
    return val is not None and train is not None and val.level_at_end() < SPLIT_GAP * train.level_at_end()


def _early(ctx: Context, finding: Finding) -> bool:
    """Training goes wrong within the first evaluations (or before training): the inputs
    may be at fault. A finding about the validation side is not."""
    if finding.kind in VALIDATION_KINDS:
        return False
    epochs = ctx.run.epochs
    return finding.epoch is None or not len(epochs) or finding.epoch <= epochs[min(EARLY_EVALS, len(epochs)) - 1]


def _broken_loss(ctx: Context, finding: Finding) -> bool:
    """Not a loss negative by design (cosine similarity): nothing to repair there."""
    return finding.variant != "by_design"


def _validated(ctx: Context, finding: Finding) -> bool:
    """The record has a validation metric to monitor (a scheduler, early stopping or a
    best checkpoint on it means nothing without one)."""
    return ctx.monitor() is not None


CONDITIONS = {"split": _split_suspect, "early": _early, "broken_loss": _broken_loss, "validated": _validated}


def _run_facts(ctx: Context, best: BestEpoch, framework: str | None) -> dict:
    """Numbers every fix of the run may quote: best epoch, epochs trained (in the record's
    numbering: epochs 0-29 are 30 epochs), and the settings the record shows."""
    run = ctx.run
    settings = run.info.get("settings") or {}
    optimizer = settings.get("optimizer") or getattr(run.info.get("setup"), "optimizer", None)
    batch = _number(settings.get("batch_size"))
    trained = None
    if len(run) and advice.unit_of(run) != "step":
        base = 0 if run.epochs[0] == 0 else ctx.epoch_base  # a record that shows epoch 0 counts from 0
        # a Trainer's 10.88 epochs: 11; its end-of-training row may lie past the last logged epoch
        last = max(float(run.epochs[-1]), run.info.get("trained_to_epoch", -math.inf))
        trained = math.ceil(last - base + 1)
    # "Epoch 10/200" as the last header: the run stopped (or the record was cut) before its end
    unfinished = run.planned_epochs if trained and run.planned_epochs and run.planned_epochs > trained else None
    at_end = best.epoch is not None and len(run) and best.epoch == epoch_value(run.epochs[-1])
    return {
        "best_epoch": best.epoch,
        "best_epoch_before_end": None if at_end else best.epoch,
        "best_at_end": "" if at_end else None,  # selects the wording for a best epoch that is the last
        "patience": best.patience or DEFAULT_PATIENCE,
        "epochs_trained": trained,
        "planned_epochs": unfinished,
        "epochs_more": unfinished or (None if trained is None else 2 * trained),
        "batch_size": batch,
        "batch_to": None if batch is None else BATCH_STEP * batch,
        "batch_step": BATCH_STEP,
        # a name that can go into code (not "Adam with betas=(0.9,0.999)")
        "optimizer": optimizer if isinstance(optimizer, str) and re.fullmatch(r"[A-Za-z]\w*", optimizer) else None,
        "lr_down_by": LR_STEP,
        "lr_up_by": LR_STEP,
        "lr_scale_down": round(1 / LR_STEP, 4),
        "monitor": advice.catalog()["frameworks"]["monitor"][framework or "keras"],
    }


def _lr_facts(ctx: Context, finding: Finding) -> dict:
    """The rate at the finding's onset and the rates to move to: ``LR_STEP`` times lower
    or higher, and at least back inside the usual range a finding names (``limit``)."""
    lr, lr_epoch = lr_at(ctx, finding.epoch)
    if lr is None or not 0 < lr / LR_STEP < lr * LR_STEP < math.inf:  # 0, 5e-324, inf: no rate to move to
        return {"lr": None, "lr_epoch": None, "lr_step": None, "lr_lower": None, "lr_higher": None}
    lower, higher = _sig(lr / LR_STEP), _sig(lr * LR_STEP)
    limit = finding.facts.get("limit")
    if limit:
        lower, higher = min(lower, _sig(limit)), max(higher, _sig(limit))
    by_step = advice.unit_of(ctx.run) == "step"  # the record's points are logged steps
    return {"lr": _sig(lr), "lr_epoch": None if by_step else lr_epoch, "lr_step": lr_epoch if by_step else None,
            "lr_lower": lower, "lr_higher": higher,
            "lr_down_by": _sig(lr / lower, 2), "lr_up_by": _sig(higher / lr, 2)}


def lr_at(ctx: Context, epoch: int | None) -> tuple[float | None, int | None]:
    """The learning rate in force at ``epoch`` (record numbering) and the epoch it is
    quoted for (None when it comes from the settings): the ``lr`` series there, else the
    last LR change before it (a change printed at epoch E takes effect after E), else
    the record's settings, else the live set-up."""
    run = ctx.run
    if epoch is not None:
        if "lr" in run.series:
            epochs, values = run.evaluated("lr")
            keep = (epochs <= epoch) & np.isfinite(values)
            if keep.any():
                return float(values[keep][-1]), epoch
        changes = [e for e in run.events_of("lr_change") if e.epoch is not None and e.epoch < epoch and e.value]
        if changes:
            return float(changes[-1].value), epoch
    configured = _number((run.info.get("settings") or {}).get("learning_rate"))
    if configured is None:
        configured = _number(getattr(run.info.get("setup"), "lr", None))
    return configured, None


def _number(value) -> float | int | None:
    """A setting as a number (model cards write "16" or "2e-05"); None if it is not one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and abs(number) >= 1 else number


def _sig(x: float, digits: int = 3) -> float:
    """``x`` to the digits the sentences print, so text, code and action agree."""
    return float(f"{x:.{digits}g}") if math.isfinite(x) else x
