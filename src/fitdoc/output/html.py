"""Self-contained HTML report: interactive curves, findings, best epoch, zh/en.

The page embeds its data as JSON and its script and style inline (``assets/``), so it
opens offline and can be mailed or attached as one file. In a notebook,
:class:`HtmlReport` displays itself inside an ``iframe srcdoc`` so its style and
script stay isolated from the notebook's.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Iterable, Sequence

from .. import advice, atomic
from .text import epoch_gaps, span_of, title as rule_title

ASSETS = Path(__file__).with_name("assets")


@lru_cache(maxsize=None)
def texts(lang: str = "en") -> dict[str, str]:
    """The report's UI strings in ``lang`` (English for any key it lacks)."""
    catalogue = json.loads((ASSETS / "texts.json").read_text(encoding="utf-8"))
    return {**catalogue["en"], **catalogue.get(lang, {})}


def metric_groups(names: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Metrics grouped by base name (``loss``: loss, val_loss), loss first and lr last."""
    groups: dict[str, list[str]] = {}
    for name in names:
        base = name[4:] if name.startswith("val_") else name
        groups.setdefault(base, []).append(name)
    order = sorted(groups, key=lambda b: (b != "loss", b != "accuracy", b == "lr"))
    return [(b, sorted(groups[b], key=lambda n: n.startswith("val_"))) for b in order]


def report_dict(report) -> dict:
    """The contract-shaped dict of a report object (or the dict itself)."""
    return report if isinstance(report, dict) else report.to_dict()


def run_labels(reports: Sequence[dict]) -> list[str]:
    """Short distinct labels from the reports' sources (file stems)."""
    stems = [Path(r.get("source") or f"run{i + 1}").stem or f"run{i + 1}" for i, r in enumerate(reports)]
    return [f"{s} ({i + 1})" if stems.count(s) > 1 else s for i, s in enumerate(stems)]


class HtmlReport:
    """One HTML page; ``save`` writes it, notebooks display it in an isolated iframe."""

    def __init__(self, html: str):
        self.html = html

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        atomic.write_text(path, self.html)
        return path

    def __str__(self) -> str:
        return self.html

    def _repr_html_(self) -> str:
        return iframe(self.html)


def iframe(page: str, height: int = 760) -> str:
    """``page`` inside an ``iframe srcdoc`` (scripts allowed, nothing else shared)."""
    return (
        f'<iframe srcdoc="{escape(page, quote=True)}" sandbox="allow-scripts" '
        f'style="width:100%;height:{height}px;border:1px solid #ddd"></iframe>'
    )


def render(reports: Sequence, *, labels: Sequence[str] | None = None, lang: str = "en",
           title: str | None = None, tables: Sequence = (), groups: Sequence[str] | None = None) -> HtmlReport:
    """The HTML page for one or more diagnosed runs.

    ``reports`` are report objects or their contract dicts (findings already written in
    ``lang``); ``tables`` are objects with ``to_html(lang)`` shown above the runs (a
    comparison, a sweep's results); ``groups`` names each run's group (a sweep variant):
    the overlay gives a group one colour and one legend entry.
    """
    from .. import __version__

    t = texts(lang)
    datas = [report_dict(r) for r in reports]
    labels = list(labels) if labels else run_labels(datas)
    groups = list(groups) if groups else labels
    runs = [_chart_data(d, label, group, lang) for d, label, group in zip(datas, labels, groups)]
    payload = {"t": t, "runs": runs, "overlay": metric_groups(_union(d["series"] for d in datas))}
    body = [
        f"<h1>{escape(title or t['report_title'])}</h1>",
        f'<p class="meta">{escape(t["generated"].format(version=__version__))}</p>',
        *(table.to_html(lang) for table in tables),
    ]
    if len(runs) > 1:
        body += [f"<h2>{escape(t['overlay'])}</h2>", f'<p class="hint">{escape(t["zoom_hint"])}</p>',
                 '<div data-charts="overlay"></div>']
    body += [_run_section(i, d, label, t, lang) for i, (d, label) in enumerate(zip(datas, labels))]
    data_json = json.dumps(_json_safe(payload), ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")
    page = (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title or t['report_title'])}</title>"
        f"<style>{_asset('report.css')}</style></head><body>\n" + "\n".join(body)
        + f'\n<script type="application/json" id="fitdoc-data">{data_json}</script>'
        f"\n<script>{_asset('report.js')}</script>\n</body></html>\n"
    )
    return HtmlReport(page)


@lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8").replace("</script", "<\\/script")


def _json_safe(obj):
    """``obj`` with NaN and Inf replaced by None, as the report contract writes them."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _union(names_lists: Iterable[Iterable[str]]) -> list[str]:
    out: list[str] = []
    for names in names_lists:
        out.extend(n for n in names if n not in out)
    return out


def _chart_data(d: dict, label: str, group: str, lang: str) -> dict:
    epochs, series = _break_gaps(d["epochs"], d["series"])
    return {
        "label": label,
        "group": group,
        "epochs": epochs,
        "series": series,
        "groups": metric_groups(d["series"]),
        "best_epoch": d.get("best_epoch"),
        "best_epoch_metric": d.get("best_epoch_metric"),
        "findings": [{**{k: f.get(k) for k in ("code", "kind", "severity", "epoch", "end_epoch", "evidence")},
                      "title": rule_title(f["code"], f["kind"], lang)} for f in d.get("findings", [])],
        "events": d.get("events", []),
    }


def _break_gaps(epochs: list, series: dict) -> tuple[list, dict]:
    """A null point after each epoch where the record skips epochs: no line across it."""
    gaps = set(epoch_gaps(epochs))
    if not gaps:
        return epochs, series
    out_epochs, out_series = [], {name: [] for name in series}
    for i, epoch in enumerate(epochs):
        out_epochs.append(epoch)
        for name, values in series.items():
            out_series[name].append(values[i])
        if i in gaps:
            out_epochs.append(epoch + 0.5)
            for name in series:
                out_series[name].append(None)
    return out_epochs, out_series


def _run_section(index: int, d: dict, label: str, t: dict, lang: str) -> str:
    verdict = d.get("verdict", "healthy")
    colon = escape(advice.say("ui", "colon", lang))
    parts = [
        f'<section class="run"><h2>{escape(label)} <span class="badge {escape(verdict)}">'
        f"{escape(t.get('verdict_' + verdict, verdict))}</span></h2>",
        f'<p class="meta">{escape(t["source"])}{colon}{escape(str(d.get("source", "")))} · {escape(t["format"])}{colon}'
        f'{escape(str(d.get("format", "")))} · {escape(_span(d, lang))}</p>',
    ]
    best = d.get("best_epoch")
    if best is not None:
        line = f"{escape(t['best_epoch'])}{colon}<b>{best}</b> ({escape(str(d.get('best_epoch_metric')))})"
        if d.get("recommended_epochs"):
            line += " · " + escape(t["recommended"].format(n=d["recommended_epochs"]))
        parts.append(f"<p>{line}</p>")
    if d.get("likely_causes"):
        causes = escape(advice.say("ui", "comma", lang).join(_cause(c, lang) for c in d["likely_causes"]))
        parts.append(f"<p>{escape(t['likely_causes'])}{colon}{causes}</p>")
    parts.append(f'<p class="hint">{escape(t["zoom_hint"])}</p><div data-charts="{index}"></div>')
    parts.append(f"<h3>{escape(t['findings'])}</h3>")
    findings = d.get("findings", [])
    parts.extend(_finding(f, t, lang) for f in findings)
    if not findings:
        parts.append(f'<p class="no-findings">{escape(d.get("summary", t["no_findings"]))}</p>')
    return "\n".join(parts) + "</section>"


def _cause(name: str, lang: str) -> str:
    """A cause's title as the terminal writes it."""
    entry = advice.catalog()["causes"].get(name)
    return advice.fill(entry["title"], lang, {}) if entry else name


def _span(d: dict, lang: str) -> str:
    """``30 epochs 0-29`` or ``20 epochs recorded (1-74)``, as in the terminal."""
    return span_of(d["epochs"], "epoch", lang) if d["epochs"] else ""


def _finding(f: dict, t: dict, lang: str) -> str:
    sev = f.get("severity", "info")
    if f.get("epoch") is None:
        where = ""
    elif f.get("end_epoch") is not None:
        where = t["epoch_range"].format(epoch=f["epoch"], end=f["end_epoch"])
    else:
        where = t["from_epoch"].format(epoch=f["epoch"])
    head = (f'<span class="badge {escape(sev)}">{escape(t.get("severity_" + sev, sev))}</span> '
            f'<span class="code">{escape(f["code"])}</span> {escape(rule_title(f["code"], f.get("kind", ""), lang))}'
            + (f" · {escape(where)}" if where else ""))
    rows = [f'<div class="finding" data-code="{escape(f["code"])}"><div>{head}</div>']
    colon = escape(advice.say("ui", "colon", lang))
    if f.get("evidence"):
        rows.append(f"<div>{escape(t['evidence'])}{colon}{escape(f['evidence'])}</div>")
    if f.get("causes"):
        ranked = sorted(f["causes"], key=lambda c: -c["confidence"])
        causes = escape(advice.say("ui", "comma", lang).join(
            advice.say("ui", "paren", lang, text=_cause(c["cause"], lang), detail=f"{c['confidence']:.0%}") for c in ranked))
        rows.append(f"<div>{escape(t['causes'])}{colon}{causes}</div>")
    if f.get("fixes"):
        fixes = "".join(f"<li>{escape(x)}</li>" for x in f["fixes"])
        rows.append(f"<div>{escape(t['fixes'])}{colon.rstrip()}<ul>{fixes}</ul></div>")
    return "".join(rows) + "</div>"
