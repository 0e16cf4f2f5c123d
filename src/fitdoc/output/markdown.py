"""``--format markdown``: fits a CI job summary (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from .. import advice
from .text import best_epoch_lines, md_cell, metrics_at_best, span, sparkline, title, trend_line, when


def render_one(report) -> str:
    lang, run = report.lang, report.run
    out = [f"### {advice.say('ui', 'title', lang)}: `{run.source}` — **{advice.say('ui', 'verdict_' + report.verdict, lang)}**", ""]
    out.append(f"{run.format}, {span(run, lang)}")
    out.append("")
    out.append("| metric | curve | first | last |")
    out.append("|---|---|---|---|")
    for name, s in run.series.items():
        v = s.values[s.present]
        finite = v[v == v]
        if len(finite):
            out.append(f"| {md_cell(name)} | {sparkline(v, 30)} | {finite[0]:.4g} | {finite[-1]:.4g} |")
    out.append("")
    reading = trend_line(report)
    if reading:
        out.extend([f"*{advice.say('ui', 'trend', lang)}*: {reading}", ""])
    out.extend([f"**{report.summary}**", ""])
    for finding, adv in report.items():
        out.append(f"- **{finding.code} {title(finding.code, finding.kind, lang)}** ({advice.say('ui', 'severity_' + finding.severity, lang)}, {when(finding, lang, advice.unit_of(report.run))}): {adv.evidence}")
        if adv.causes:
            out.append(f"  - {advice.say('ui', 'causes', lang)}: " + ", ".join(c["title"] for c in adv.causes))
        out.extend(f"  - {fix}" for fix in adv.fixes)
    out.append("")
    out.append(f"**{advice.say('ui', 'best_epoch', lang)}**: " + " ".join(best_epoch_lines(report)))
    at_best = metrics_at_best(report)
    if at_best:
        out.extend(["", f"{advice.say('ui', 'metrics_at_best', lang)}: {at_best}"])
    if run.notes:
        out.extend(["", f"*{advice.say('ui', 'notes', lang)}*: " + "; ".join(advice.note(n, lang) for n in run.notes)])
    return "\n".join(out) + "\n"


def join(pieces: list[str]) -> str:
    """The output of the reports rendered by :func:`render_one`."""
    return "\n".join(pieces)


def render(reports) -> str:
    return join([render_one(r) for r in reports])
