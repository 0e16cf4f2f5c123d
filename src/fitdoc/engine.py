"""Diagnosis: run the rules on a run, rank causes, choose the best epoch, attach
advice. The result is a :class:`Report`, rendered by the modules in ``fitdoc.output``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import advice
from .advising import Advice, advise
from .analysis import Context
from .best import BestEpoch, choose_best
from .config import Config
from .readers import read
from .rules import Finding
from .run import Run, epoch_value

SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}
# How much a kind explains a run, among findings of one severity: a breakdown first,
# then what went wrong on the way, then readings of the run's shape.
KIND_WEIGHT = {
    "nan_loss": 10, "divergence": 9, "val_acc_zero": 8, "loss_rises_after_fall": 8, "suspicious_validation": 7,
    "overfitting": 7, "stuck_accuracy": 6, "negative_loss": 5, "oscillation": 5, "loss_spike": 4, "plateau": 4,
    "underfitting": 3, "still_learning": 2, "val_better_than_train": 1,
}
# The train-vs-validation reading the finding that leads a report stands for.
READING_OF_KIND = {
    "nan_loss": "broke_down", "divergence": "bad_setup", "overfitting": "overfitting",
    "loss_rises_after_fall": "climbed_back", "plateau": "bottleneck", "underfitting": "bottleneck",
    "stuck_accuracy": "bottleneck", "still_learning": "still_learning",
}
# Fewer evaluations than this of the main loss are too few to call a run healthy.
MIN_EVALS_TO_JUDGE = 5
# How the one-line story opens on a run without a warning, by its reading (else "healthy").
QUIET_HEAD = {"too_short": "short", "val_stalled": "watch", "val_rising": "watch", "train_rising": "watch"}


@dataclass
class Report:
    run: Run
    findings: list[Finding]
    advice: list[Advice]
    best: BestEpoch
    likely_causes: list[str]
    lang: str = "en"
    trend: dict = field(default_factory=dict)

    @property
    def worst(self) -> int:
        """The ``SEVERITY_ORDER`` of the worst finding, 0 for none."""
        return max((SEVERITY_ORDER[f.severity] for f in self.findings), default=0)

    @property
    def verdict(self) -> str:
        return {0: "healthy", 1: "warning", 2: "error"}[self.worst]

    @property
    def best_epoch(self) -> int | None:
        return self.best.epoch

    @property
    def summary(self) -> str:
        """The run in one sentence: the finding that explains it (or what the curves
        say when nothing is wrong) and the checkpoint to keep."""
        lang, unit = self.lang, advice.unit_of(self.run)
        lead = leading(self.findings)
        if lead is not None:
            title = advice.kind_title(lead.kind, lang)
            head = advice.say_at("story", "lead", lang, unit, title=title, epoch=lead.epoch) if lead.epoch is not None else title
        else:
            reading = self.trend.get("reading", "converged")
            text = advice.say("story", reading, lang, evals=self.trend.get("evals"))
            head = advice.say("story", QUIET_HEAD.get(reading, "healthy"), lang, reading=text)
        if self.best.epoch is None:
            return head
        learning = self.trend.get("reading") in ("still_learning", "train_still_learning")
        key = "keep_so_far" if self.best.reason == "still_improving" and lead is None and learning else "keep"
        sep = "；" if lang == "zh" else "; "
        return head + sep + advice.say_at("story", key, lang, unit, epoch=self.best.epoch)

    def items(self):
        """(finding, advice) pairs, most severe first."""
        return list(zip(self.findings, self.advice))

    def _repr_html_(self) -> str:
        """A notebook shows the report as the HTML page (isolated in an iframe)."""
        from .output.html import render

        return render([self])._repr_html_()

    def to_dict(self) -> dict:
        """The report in the shape of the report contract."""
        return {
            "source": self.run.source,
            "format": self.run.format,
            "epochs": [epoch_value(e) for e in self.run.epochs],
            "series": {name: [_json_number(v, p) for v, p in zip(s.values, s.present)] for name, s in self.run.series.items()},
            "events": [e.to_dict() for e in self.run.events],
            "verdict": self.verdict,
            "summary": self.summary,
            "findings": [
                {
                    "code": f.code,
                    "name": f.name,
                    "kind": f.kind,
                    "epoch": f.epoch,
                    "end_epoch": f.end_epoch,
                    "severity": f.severity,
                    "evidence": a.evidence,
                    "causes": [c.to_dict() for c in f.causes],
                    "fixes": a.fixes,
                    "fix_actions": a.fix_actions,
                    "experiment": a.causes[0]["experiment"] if a.causes else None,
                    "snippets": a.snippets or None,
                }
                for f, a in self.items()
            ],
            "likely_causes": self.likely_causes,
            "best_epoch": self.best.epoch,
            "best_epoch_metric": self.best.metric,
            "recommended_epochs": self.best.recommended_epochs,
            "best_epoch_reason": self.best.reason,
            "metrics_at_best": self.best.metrics_at_best,
            "early_stopping": (
                {"monitor": self.best.metric, "patience": self.best.patience, "stop_epoch": self.best.stop_epoch}
                if self.best.patience else None
            ),
            "trend": self.trend,
            "notes": self.run.notes,
            "lang": self.lang,
        }


def _json_number(value: float, present: bool):
    return float(value) if present and math.isfinite(value) else None


def diagnose(
    target: Run | str | Path, config: Config | None = None, lang: str | None = None, monitor: str | None = None
) -> Report:
    """Diagnose a run (or the record at a path); ``monitor`` picks the best epoch."""
    run = target if isinstance(target, Run) else read(target)
    config = config or Config()
    lang = lang or config.lang or advice.default_lang()
    ctx = Context(run)
    # curves near the float limits overflow, NaN curves are compared: the rules expect inf
    # and NaN there, and numpy's warnings would only print noise on the user's terminal
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        findings = [f for rule in config.instantiate() for f in rule.check(ctx)]
        findings = rank(_drop_superseded(findings))
        best = choose_best(ctx, monitor)
        advised, likely = advise(ctx, findings, best, lang)
        return Report(run, findings, advised, best, likely, lang, trend(ctx, findings))


def _drop_superseded(findings: list[Finding]) -> list[Finding]:
    dropped = {code for f in findings for code in f.supersedes}
    return [f for f in findings if f.code not in dropped]


def rank(findings: list[Finding]) -> list[Finding]:
    """Most severe first; among equals, the finding that explains the run best
    (a collapse before the start-of-run readings), then the earliest."""
    return sorted(findings, key=lambda f: (
        -SEVERITY_ORDER[f.severity], -KIND_WEIGHT.get(f.kind, 0), f.epoch if f.epoch is not None else -1, f.code))


def leading(findings: list[Finding]) -> Finding | None:
    """The finding that explains a ranked report: its first warning or error."""
    return next((f for f in findings if f.severity != "info"), None)


def trend(ctx: Context, findings: list[Finding], tail: float = 0.5, flat: float = 0.02, noise_factor: float = 3.0) -> dict:
    """The seeds' train-vs-validation reading, taken from the finding that leads the
    report so that it can never contradict it; ``loss``/``val_loss`` say where each curve
    went over the last ``tail`` of the record: a move of its trend beyond ``flat`` of its
    level and ``noise_factor`` times its noise (the margin the best epoch's reason uses).
    Without a warning or error, the reading comes from those directions: an info
    finding is a note, not the story."""
    out: dict = {}
    for name in ("loss", "val_loss"):
        c = ctx.curve(name)
        if c is None or len(c) < 4:
            continue
        half = c.tail(tail, 3)
        change = float(half.smooth[-1] - half.smooth[0])
        margin = max(flat * (abs(float(half.smooth[0])) or 1.0), noise_factor * c.noise)
        out[name] = "falling" if change < -margin else "rising" if change > margin else "flat"
    for finding in findings:  # where a finding measured a curve's way, the words say that way
        for name, way in _measured_directions(finding):
            if name in out:
                out[name] = way
    lead = leading(findings)
    if lead is not None:
        out["reading"] = "data_problem" if lead.code == "FD305" else READING_OF_KIND.get(lead.kind, "see_findings")
        return out
    main = ctx.curve("val_loss") or ctx.curve("loss") or ctx.monitor() or ctx.curve("accuracy")  # a loss, else a metric
    evals = 0 if main is None else len(main)
    out["evals"] = evals
    if evals < MIN_EVALS_TO_JUDGE:
        out["reading"] = "too_short"
    else:
        out["reading"] = _quiet_reading(out, {f.kind for f in findings})
    return out


def _measured_directions(finding: Finding) -> list[tuple[str, str]]:
    """``(curve, direction)`` that ``finding`` establishes: a rule that reports a curve
    still falling, rising after its minimum or climbing back has measured where it went."""
    metric = finding.facts.get("metric")
    if finding.kind == "still_learning":
        return [(metric, "falling")]
    if finding.kind == "overfitting":
        val = [(metric, "rising")] if finding.variant in ("rising", "rising_window", "consecutive") else []
        return [*val, ("loss", "falling")]
    if finding.kind in ("loss_rises_after_fall", "divergence"):
        return [("loss", "rising")]
    return []


def _quiet_reading(directions: dict, noted: set[str]) -> str:
    """The reading of a run without a warning: what its info findings note, else what
    its loss curves did at the end."""
    if "still_learning" in noted:
        return "still_learning" if "val_loss" in directions else "train_still_learning"
    if "overfitting" in noted:
        return "val_stalled"
    if directions.get("val_loss") == "rising":
        return "val_rising"
    if directions.get("loss") == "rising":
        return "train_rising"
    if "val_loss" in directions:
        both = directions["val_loss"] == "falling" and directions.get("loss", "falling") == "falling"
        return "still_learning" if both else "converged"
    return "train_still_learning" if directions.get("loss") == "falling" else "converged"
