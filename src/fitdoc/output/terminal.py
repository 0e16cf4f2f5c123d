"""The terminal report (rich): verdict, sparklines, findings with evidence, causes,
fixes, and the best epoch. Colour follows NO_COLOR and whether stdout is a terminal."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .. import advice
from .text import best_epoch_lines, metrics_at_best, span, sparkline, trend_line, when

STYLE = {"healthy": "green", "info": "cyan", "warning": "yellow", "error": "bold red"}


def render(report, console: Console, verbose: bool = False) -> None:
    lang = report.lang
    run = report.run
    title = f"{run.source}  [{run.format}, {span(run)}]"
    verdict = advice.say("ui", f"verdict_{report.verdict}", lang)
    console.print(Text(title, style="bold"), Text(f"  {verdict}", style=STYLE[report.verdict]))

    curves = Table.grid(padding=(0, 2))
    for name, s in run.series.items():
        v = s.values[s.present]
        finite = v[v == v]
        if len(finite):
            curves.add_row(Text(name), sparkline(v), f"{finite[0]:.4g} -> {finite[-1]:.4g}")
    console.print(curves)
    reading = trend_line(report)
    if reading:
        console.print(Text(f"{advice.say('ui', 'trend', lang)}: {reading}", style="dim"))

    if not report.findings:
        console.print(advice.say("ui", "no_findings", lang), style="green")
    for finding, adv in report.items():
        body = [Text(adv.evidence)]
        if adv.causes:
            names = ", ".join(f"{c['title']} ({fc.confidence:.0%})" for c, fc in zip(adv.causes, sorted(finding.causes, key=lambda c: -c.confidence)))
            body.append(Text(f"{advice.say('ui', 'causes', lang)}: {names}", style="dim"))
        for fix in adv.fixes:
            body.append(Text(f"→ {fix}"))
        if adv.causes and adv.causes[0].get("experiment"):
            body.append(Text(f"{advice.say('ui', 'experiment', lang)}: {adv.causes[0]['experiment']}", style="italic"))
        if verbose and adv.causes and adv.causes[0].get("keras"):
            body.append(Text(adv.causes[0]["keras"], style="dim"))
        heading = f"{finding.code} {advice.kind_title(finding.kind, lang)} · {advice.say('ui', 'severity_' + finding.severity, lang)} · {when(finding, lang)}"
        console.print(Panel(Group(*body), title=heading, title_align="left", border_style=STYLE[finding.severity]))

    console.print(Text(advice.say("ui", "best_epoch", lang) + ": ", style="bold"), Text("\n".join(best_epoch_lines(report))))
    at_best = metrics_at_best(report)
    if at_best:
        console.print(Text(f"{advice.say('ui', 'metrics_at_best', lang)}: {at_best}", style="dim"))
    if report.run.notes:
        console.print(Text(advice.say("ui", "notes", lang) + ": " + "; ".join(advice.note(n, lang) for n in report.run.notes), style="dim"))
