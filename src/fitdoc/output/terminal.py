"""The terminal report (rich): verdict, sparklines, findings with evidence, causes,
fixes, and the best epoch. Colour follows NO_COLOR and whether stdout is a terminal.
Text is wrapped here (Chinese between characters, never inside ``第 10 轮``) so that rich
only draws it; code snippets are printed unwrapped, outside the boxes, to copy and paste."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .. import advice
from .text import (ASCII_SPARK, SPARK, best_epoch_lines, cell_len, metrics_at_best, span, sparkline, title,
                   trend_line, when, wrap)

STYLE = {"healthy": "green", "info": "cyan", "warning": "yellow", "error": "bold red"}


def _label(key: str, text: str, lang: str) -> str:
    """``Likely causes: ...`` / ``可能原因：...``."""
    return advice.say("ui", key, lang) + advice.say("ui", "colon", lang) + text


def _paren(text: str, detail: str, lang: str) -> str:
    return advice.say("ui", "paren", lang, text=text, detail=detail)


def encodable(console: Console, text: str) -> bool:
    try:
        text.encode(console.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _lines(text: str, width: int, first: str = "", rest: str = "", style: str = "") -> list[Text]:
    """``text`` wrapped to ``width`` behind the prefix ``first`` (then ``rest``) as rich lines."""
    lines = wrap(text, width - max(cell_len(first), cell_len(rest)))
    return [Text((first if k == 0 else rest) + line, style=style, no_wrap=True, overflow="ignore")
            for k, line in enumerate(lines)]


def _left_cut(text: str, width: int) -> str:
    """``text`` shortened from the left to ``width`` columns (a path keeps its file name)."""
    if cell_len(text) <= width:
        return text
    while text and cell_len(text) > width - 1:
        text = text[1:]
    return "…" + text


def header(report, width: int) -> Text:
    """``path  [format, 30 epochs 0-29]  verdict`` on one line, the path cut from the left if need be."""
    lang, run = report.lang, report.run
    info = f"[{run.format}, {span(run, lang)}]"
    verdict = advice.say("ui", f"verdict_{report.verdict}", lang)
    source = _left_cut(str(run.source), max(width - cell_len(info) - cell_len(verdict) - 4, 12))
    return Text.assemble((f"{source}  {info}", "bold"), (f"  {verdict}", STYLE[report.verdict]))


def render(report, console: Console, verbose: bool = False) -> None:
    lang, run, width = report.lang, report.run, console.width
    ramp = SPARK if encodable(console, SPARK) else ASCII_SPARK
    arrow = "→" if encodable(console, "→") else "->"
    dot = " · " if encodable(console, "·") else " - "
    console.print(header(report, width), no_wrap=True, crop=False)
    console.print(Group(*_lines(report.summary, width, style=STYLE[report.verdict])))

    curves = Table.grid(padding=(0, 2))
    for name, s in run.series.items():
        v = s.values[s.present]
        finite = v[v == v]
        if len(finite):
            ends = f"{finite[0]:.4g} -> {finite[-1]:.4g}" + (f" -> {v[-1]}" if v[-1] != v[-1] else "")
            curves.add_row(Text(name), sparkline(v, ramp=ramp), ends)
    console.print(curves)
    reading = trend_line(report)
    if reading:
        console.print(Group(*_lines(_label("trend", reading, lang), width, style="dim")))

    inner = width - 4  # a panel's borders and padding
    for finding, adv in report.items():
        body = _lines(adv.evidence, inner)
        if adv.causes:
            names = advice.say("ui", "comma", lang).join(
                _paren(c["title"], f"{fc.confidence:.0%}", lang)
                for c, fc in zip(adv.causes, sorted(finding.causes, key=lambda c: -c.confidence)))
            body += _lines(_label("causes", names, lang), inner, style="dim")
        for fix in adv.fixes:
            body += _lines(fix, inner, f"{arrow} ", " " * (cell_len(arrow) + 1))
        if adv.causes and adv.causes[0].get("experiment"):
            body += _lines(_label("experiment", adv.causes[0]["experiment"], lang), inner, style="italic")
        heading = dot.join([f"{finding.code} {title(finding.code, finding.kind, lang)}",
                              advice.say("ui", "severity_" + finding.severity, lang), when(finding, lang, advice.unit_of(report.run))])
        console.print(Panel(Group(*body), title=heading, title_align="left", border_style=STYLE[finding.severity]))
        if verbose and adv.snippets:
            _snippets(console, adv.snippets, lang)

    best = best_epoch_lines(report)
    console.print(Group(*_lines(_label("best_epoch", best[0], lang), width, rest="  "),
                        *(line for extra in best[1:] for line in _lines(extra, width, "  ", "  "))))
    at_best = metrics_at_best(report)
    if at_best:
        console.print(Group(*_lines(_label("metrics_at_best", at_best, lang), width, style="dim")))
    if report.run.notes:
        notes = advice.say("ui", "list_sep", lang).join(advice.note(n, lang) for n in report.run.notes)
        console.print(Group(*_lines(_label("notes", notes, lang), width, style="dim")))


def _snippets(console: Console, snippets: dict, lang: str) -> None:
    """The fixes' code, one labelled block per framework, each line whole, to copy and paste."""
    labels = advice.catalog().get("frameworks", {}).get("labels", {})
    for framework, code in snippets.items():
        console.print(Text("  " + labels.get(framework, framework) + advice.say("ui", "colon", lang).rstrip(),
                           style="bold dim"))
        for line in code.splitlines():
            console.print(Text(f"    {line}"), no_wrap=True, crop=False, soft_wrap=True)
