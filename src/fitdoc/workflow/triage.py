"""Triage a sweep: diagnose every run of a source, rank the runs by their best-epoch
value, count the findings, and name the hyperparameters that go with each finding.

:func:`triage_unit` is the pure per-run function: a :class:`~fitdoc.sources.Unit`
in, flat rows out (one per run of the unit), the same in this process, a worker
process or a Ray task. :class:`Triage` aggregates the rows. Row columns are fixed
(``COLUMNS``) followed by one ``hp.NAME`` column per hyperparameter, so the JSON
Lines load into pandas or Arrow as one table.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

from ..errors import FitdocError, InternalError
from .crosstab import ALPHA, Split, cross_tab, fmt_value
from .table import Bullets, Table, fmt

COLUMNS = ["rank", "run_id", "source", "name", "state", "format", "epochs", "verdict", "codes", "kinds",
           "lead", "lead_epoch", "evidence", "best_epoch", "metric", "best_value", "last_value", "error", "notes"]
UNREADABLE = "unreadable"
TOO_SHORT = "too_short"  # no finding, and too few evaluations to call the run healthy
TOP_SHARE = 0.1  # "the best runs" = this share of the ranked runs (at least MIN_TOP)
MIN_TOP = 3


@dataclass(frozen=True)
class Options:
    """What changes a row besides the run itself."""

    monitor: str | None = None
    lang: str = "en"

    @property
    def fingerprint(self) -> str:
        from .. import __version__

        return f"{__version__}|{self.monitor}|{self.lang}"


@dataclass
class Outcome:
    """The rows of one unit and the seconds (wall clock, and CPU of the worker) spent
    fetching and diagnosing it."""

    key: str
    stamp: str | None
    rows: list[dict]
    fetch_s: float = 0.0
    diagnose_s: float = 0.0
    fetch_cpu_s: float = 0.0
    diagnose_cpu_s: float = 0.0


def _last_finite(run, metric: str | None):
    if not metric or metric not in run.series:
        return None
    s = run.series[metric]
    values = s.values[s.finite]
    return float(values[-1]) if len(values) else None


def run_row(unit, run, report, run_id: str) -> dict:
    """The flat row of one diagnosed run."""
    lead, advice = next(((f, a) for f, a in report.items() if f.severity != "info"), (None, None))
    best = report.best
    return {
        "run_id": run_id, "source": run.source, "name": unit.name, "state": unit.state, "format": run.format,
        "epochs": len(run), "verdict": TOO_SHORT if report.trend.get("reading") == "too_short" else report.verdict,
        "codes": [f.code for f in report.findings], "kinds": [f.kind for f in report.findings],
        "lead": lead.code if lead else None, "lead_epoch": lead.epoch if lead else None,
        "evidence": advice.evidence if lead else None,
        "best_epoch": best.epoch, "metric": best.metric,
        "best_value": float(best.value) if best.value is not None else None,
        "last_value": _last_finite(run, best.metric), "error": None, "notes": "; ".join(run.notes) or None,
        **{f"hp.{k}": v for k, v in run.info.get("hparams", {}).items()},
    }


def error_row(unit, reason: str) -> dict:
    return {"run_id": unit.run_id, "source": unit.locator, "name": unit.name, "state": unit.state,
            "verdict": UNREADABLE, "codes": [], "kinds": [], "error": reason,
            **{f"hp.{k}": v for k, v in unit.hparams.items()}}


def fetch_runs(unit) -> list:
    """The runs of ``unit`` that hold at least one epoch."""
    from .. import sources

    return [r for r in sources.fetch(unit) if len(r)]


def run_ids(unit, count: int) -> list[str]:
    """The row ids of a unit's ``count`` runs: its own id, or ``ID#1``, ``ID#2``..."""
    return [unit.run_id] if count == 1 else [f"{unit.run_id}#{i}" for i in range(1, count + 1)]


def triage_unit(unit, options: Options = Options()) -> Outcome:
    """Fetch and diagnose one unit: its rows, and where the time went."""
    from ..engine import diagnose

    started, cpu = time.perf_counter(), time.process_time()
    try:
        runs = fetch_runs(unit)
        if not runs:
            raise FitdocError(unit.locator, "no epochs in this run")
    except FitdocError as exc:
        return Outcome(unit.key, unit.stamp, [error_row(unit, exc.reason)], time.perf_counter() - started,
                       fetch_cpu_s=time.process_time() - cpu)
    except Exception as exc:  # a fitdoc bug: one line naming the run, exit 3
        raise InternalError(unit.locator, exc) from exc
    fetched, fetched_cpu = time.perf_counter(), time.process_time()
    rows = []
    for run, run_id in zip(runs, run_ids(unit, len(runs))):
        try:
            rows.append(run_row(unit, run, diagnose(run, lang=options.lang, monitor=options.monitor), run_id))
        except FitdocError as exc:  # --monitor names a metric this run lacks
            rows.append({**error_row(unit, exc.reason), "run_id": run_id})
        except Exception as exc:
            raise InternalError(run.source, exc) from exc
    return Outcome(unit.key, unit.stamp, rows, fetched - started, time.perf_counter() - fetched,
                   fetched_cpu - cpu, time.process_time() - fetched_cpu)


def example_reports(triage: Triage, units: Sequence, options: Options = Options()) -> tuple[list, list[str]]:
    """The reports and labels of the runs :meth:`Triage.examples` picks, fetched again
    (rows keep no curves); a run that no longer reads is left out."""
    from ..engine import diagnose

    by_id = {u.run_id: u for u in units}
    reports, labels = [], []
    for row, why in triage.examples():
        run_id = str(row["run_id"])
        unit = by_id.get(run_id) or by_id.get(run_id.rpartition("#")[0])  # "ID#i": a unit's i-th run
        try:
            runs = fetch_runs(unit) if unit else []
            ids = run_ids(unit, len(runs)) if unit else []
            if run_id in ids:
                reports.append(diagnose(runs[ids.index(run_id)], lang=options.lang, monitor=options.monitor))
                labels.append(f"#{row['rank']} {row['name'] or run_id} ({why})")
        except FitdocError:
            continue
    return reports, labels


def triage_batch(units: Sequence, options: Options = Options()) -> list[Outcome]:
    """:func:`triage_unit` over a batch (one task of a process pool or of Ray)."""
    return [triage_unit(u, options) for u in units]


def full_row(row: dict, params: Sequence[str]) -> dict:
    """``row`` with every column of the schema, in order (missing ones as None)."""
    return {**{c: row.get(c) for c in COLUMNS}, **{p: row.get(p) for p in params}}


@dataclass
class Stats:
    units: int = 0
    cached: int = 0
    fetch_s: float = 0.0
    diagnose_s: float = 0.0
    fetch_cpu_s: float = 0.0
    diagnose_cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def diagnosed(self) -> int:
        return self.units - self.cached


class Triage:
    """The rows of a sweep ranked by best-epoch value, with counts and cross-tabs."""

    def __init__(self, rows: Sequence[dict], label: str = "", stats: Stats | None = None, alpha: float = ALPHA):
        from ..names import higher_is_better

        self.label, self.stats, self.alpha = label, stats or Stats(), alpha
        good = [r for r in rows if r["verdict"] != UNREADABLE]
        counts = Counter(r.get("metric") for r in good if r.get("metric"))
        self.metric = counts.most_common(1)[0][0] if counts else None
        sign = -1.0 if self.metric and higher_is_better(self.metric) else 1.0

        def key(r):
            value = r.get("best_value") if r.get("metric") == self.metric else None
            return (r["verdict"] == UNREADABLE, value is None, sign * value if value is not None else 0.0, str(r["run_id"]))

        ranked = sorted(rows, key=key)
        self.params = sorted({k for r in rows for k in r if k.startswith("hp.")})
        self.rows = [full_row({**r, "rank": i}, self.params) for i, r in enumerate(ranked, 1)]
        self.readable = [r for r in self.rows if r["verdict"] != UNREADABLE]

    # --- aggregates -------------------------------------------------------------

    @cached_property
    def counts(self) -> list[tuple[str, str, int]]:
        """(code, kind, runs) of each finding, most frequent first."""
        seen: Counter = Counter()
        kinds = {}
        for r in self.readable:
            for code, kind in dict(zip(r["codes"], r["kinds"])).items():
                seen[code] += 1
                kinds[code] = kind
        return [(code, kinds[code], n) for code, n in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))]

    def verdicts(self) -> Counter:
        return Counter(r["verdict"] for r in self.rows)

    @cached_property
    def splits(self) -> list[Split]:
        """The hyperparameter split that goes with each finding, where one reaches ``alpha``."""
        labels = {code: [code in r["codes"] for r in self.readable] for code, _, _ in self.counts}
        return cross_tab(self.readable, labels, self.alpha)

    @cached_property
    def top(self) -> list[dict]:
        ranked = [r for r in self.readable if r["best_value"] is not None and r["metric"] == self.metric]
        return ranked[:max(MIN_TOP, round(TOP_SHARE * len(ranked)))] if len(ranked) > MIN_TOP else []

    @cached_property
    def separating(self) -> list[Split]:
        """The splits that set the best runs (``TOP_SHARE`` of them) apart from the others."""
        top = {id(r) for r in self.top}
        if not top:
            return []
        return cross_tab(self.readable, {"top": [id(r) in top for r in self.readable]}, self.alpha)

    # --- output -----------------------------------------------------------------

    def kind_title(self, code: str) -> str:
        from ..advice import kind_title

        kind = next((k for c, k, _ in self.counts if c == code), code)
        return kind_title(kind, "en")

    def headline(self) -> str:
        v = self.verdicts()
        parts = [f"{v[k]} {k.replace('_', ' ')}" for k in ("healthy", TOO_SHORT, "warning", "error", UNREADABLE) if v[k]]
        return f"{len(self.rows)} runs from {self.label}: " + ", ".join(parts)

    def table(self, limit: int | None = 20) -> Table:
        shown_params = list(dict.fromkeys(f"hp.{s.param}" for s in self.splits + self.separating))[:3]
        metric = self.metric or "value"
        columns = ["#", "run", "verdict", "best ep", f"best {metric}", "last", *[p[3:] for p in shown_params], "findings"]
        rows = []
        for r in self.rows[:limit]:
            findings = ", ".join(f"{c} {self.kind_title(c)}" for c in dict.fromkeys(r["codes"])) or r["error"] or r["notes"] or "—"
            rows.append([str(r["rank"]), str(r["name"] or r["run_id"]), r["verdict"], fmt(r.get("best_epoch")),
                         fmt(r["best_value"] if r.get("metric") == self.metric else None), fmt(r.get("last_value")),
                         *[fmt_value(r[p]) if r[p] is not None else "—" for p in shown_params], findings])
        notes = [] if limit is None or len(self.rows) <= limit else [f"{limit} of {len(self.rows)} runs shown; --top N or --format jsonl for more"]
        numeric = {0, 3, 4, 5} | set(range(6, 6 + len(shown_params)))
        return Table(f"Runs ranked by best {metric} (at each run's best epoch)", columns, rows, notes, numeric,
                     optional=[5, 3], detail=len(columns) - 1)

    def split_groups(self) -> list[list[Split]]:
        """The strongest split of each finding, findings of the very same runs together."""
        groups: list[list[Split]] = []
        for s in self.splits:
            if any(g[0].code == s.code for g in groups):
                continue
            home = next((g for g in groups if g[0].same_runs(s)), None)
            if home is None:
                groups.append([s])
            else:
                home.append(s)
        return groups

    def split_line(self, group: list[Split]) -> str:
        names = [f"{s.code} {self.kind_title(s.code)}" for s in group]
        what = " / ".join(self.kind_title(s.code) for s in group)
        return f"{', '.join(names)}: {group[0].sentence(what)}"

    def sections(self) -> list[tuple[str, list[str]]]:
        """(title, lines) of the text after the table: counts, cross-tabs, the best run."""
        n = len(self.readable) or 1
        counts = [f"{code} {self.kind_title(code)}: {k} runs ({100 * k / n:.0f}%)" for code, _, k in self.counts]
        splits = [self.split_line(group) for group in self.split_groups()]
        out = [("Findings", counts or ["none"]),
               (f"Hyperparameters behind the findings (Fisher's exact test, p < {self.alpha:g})",
                splits or ["no hyperparameter split reaches the bar" if self.params else "the runs state no hyperparameters"])]
        best = self.top[:1] or self.readable[:1]
        if best and best[0]["best_value"] is not None:
            b = best[0]
            params = ", ".join(f"{p[3:]} = {fmt_value(b[p])}" for p in self.params if b[p] is not None)
            lines = [f"{b['name'] or b['run_id']}: {self.metric} {fmt(b['best_value'])} at epoch {fmt(b['best_epoch'])} "
                     f"({b['verdict']}){'; ' + params if params else ''}"]
            top = len(self.top)
            lines += [s.sentence(f"a {self.metric} among the best {top}") for s in self.separating]
            out.append(("Best run and what separates the best runs", lines))
        return out

    def timing(self) -> str:
        s = self.stats
        return (f"{s.units} units: {s.cached} from the cache, {s.diagnosed} fetched and diagnosed in {s.wall_s:.1f} s "
                f"(summed over workers: fetch {s.fetch_s:.1f} s, diagnose {s.diagnose_s:.1f} s; "
                f"CPU {s.fetch_cpu_s:.1f} s and {s.diagnose_cpu_s:.1f} s)")

    def print(self, console, limit: int | None = 20) -> None:
        from rich.text import Text

        from ..output.text import wrap

        console.print(Text(self.headline(), style="bold"))
        self.table(limit).print(console)
        for title, lines in self.sections():
            console.print()
            console.print(Text(title, style="bold"))
            for line in lines:
                first, *rest = wrap(line, console.width - 2)
                console.print("- " + first, no_wrap=True, crop=False, markup=False, highlight=False)
                for part in wrap(" ".join(rest), console.width - 2) if rest else []:
                    console.print("  " + part, no_wrap=True, crop=False, markup=False, highlight=False)

    def to_markdown(self, limit: int | None = 20) -> str:
        parts = [f"## Triage: {self.headline()}", "", self.table(limit).to_markdown()]
        for title, lines in self.sections():
            parts += [f"### {title}", "", *[f"- {line}" for line in lines], ""]
        return "\n".join(parts)

    def examples(self, limit: int = 6) -> list[tuple[dict, str]]:
        """(row, why) of the runs whose curves the HTML report shows: the best run, then
        the best-ranked run with each finding, most frequent finding first."""
        picked: list[tuple[dict, str]] = []
        best = self.top[:1] or [r for r in self.readable if r["best_value"] is not None][:1]
        if best:
            picked.append((best[0], "best run"))
        for code, _, _ in self.counts:
            if len(picked) >= limit:
                break
            row = next((r for r in self.readable if code in r["codes"]), None)
            if row is not None and all(row is not p for p, _ in picked):
                picked.append((row, f"{code} {self.kind_title(code)}"))
        return picked

    def to_html(self, reports: Sequence = (), labels: Sequence[str] = (), limit: int | None = 20):
        """The self-contained HTML page: the ranked table and the sections above the
        curves of ``reports`` (diagnosed example runs, see :meth:`examples`)."""
        from ..output import html

        parts = [self.table(limit), *(Bullets(title, lines) for title, lines in self.sections())]
        return html.render(reports, labels=list(labels) or None, title=f"fitdoc triage: {self.headline()}", tables=parts)

    def jsonl(self) -> str:
        import json

        return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in self.rows)
