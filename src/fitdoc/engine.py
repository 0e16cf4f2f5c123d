"""Diagnosis: run the rules on a run, rank causes, choose the best epoch, attach
advice. The result is a :class:`Report`, rendered by the modules in ``fitdoc.output``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path


from . import advice
from .advising import Advice, advise
from .analysis import Context
from .best import BestEpoch, choose_best
from .config import Config
from .readers import read
from .rules import Finding
from .run import Run, epoch_value

SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}


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
    def verdict(self) -> str:
        worst = max((SEVERITY_ORDER[f.severity] for f in self.findings), default=0)
        return {0: "healthy", 1: "warning", 2: "error"}[worst]

    @property
    def best_epoch(self) -> int | None:
        return self.best.epoch

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
    findings = [f for rule in config.instantiate() for f in rule.check(ctx)]
    findings = _drop_superseded(findings)
    findings.sort(key=lambda f: (-SEVERITY_ORDER[f.severity], f.epoch if f.epoch is not None else -1, f.code))
    best = choose_best(ctx, monitor)
    advised, likely = advise(ctx, findings, best, lang)
    return Report(run, findings, advised, best, likely, lang, _trend(ctx))


def _drop_superseded(findings: list[Finding]) -> list[Finding]:
    dropped = {code for f in findings for code in f.supersedes}
    return [f for f in findings if f.code not in dropped]


def _trend(ctx: Context) -> dict:
    """The five classic readings of train vs validation loss over the last half."""
    out = {}
    for name in ("loss", "val_loss"):
        c = ctx.curve(name)
        if c is None or len(c) < 4:
            continue
        half = c.tail(0.5, 3)
        change = (half.smooth[-1] - half.smooth[0]) / (abs(half.smooth[0]) or 1.0)
        out[name] = "falling" if change < -0.02 else "rising" if change > 0.02 else "flat"
    readings = {
        ("falling", "falling"): "still_learning",
        ("falling", "flat"): "overfitting",
        ("falling", "rising"): "overfitting",
        ("flat", "falling"): "data_problem",
        ("flat", "flat"): "bottleneck",
        ("rising", "rising"): "bad_setup",
    }
    if "loss" in out and "val_loss" in out:
        out["reading"] = readings.get((out["loss"], out["val_loss"]), "mixed")
    return out
