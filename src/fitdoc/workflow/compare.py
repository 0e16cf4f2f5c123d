"""Compare runs: diagnose each, rank them by their best validation value, overlay
their curves.

Any records fitdoc reads can be compared (a Keras stdout log beside a CSVLogger file
beside a History JSON); a file holding several runs contributes each of them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence


from ..names import higher_is_better
from ..output import html
from .table import Table, findings_cell, fmt


def value_at(data: dict, metric: str, epoch: int | None) -> float | None:
    """``metric`` at ``epoch`` (record numbering) in a report dict, None if not written."""
    if epoch is None or metric not in data["series"] or epoch not in data["epochs"]:
        return None
    return data["series"][metric][data["epochs"].index(epoch)]


def best_value(data: dict, metric: str) -> float | None:
    """``metric`` at the run's best epoch; its best evaluation when the run has no best epoch yet."""
    if data.get("best_epoch") is not None:
        return value_at(data, metric, data["best_epoch"])
    values = [v for v in data["series"].get(metric, []) if v is not None]
    if not values:
        return None
    return max(values) if higher_is_better(metric) else min(values)


def final_gap(data: dict) -> float | None:
    """val_loss − loss at the last epoch where both are finite."""
    series = data["series"]
    if "loss" not in series or "val_loss" not in series:
        return None
    pairs = [(t, v) for t, v in zip(series["loss"], series["val_loss"]) if t is not None and v is not None]
    return pairs[-1][1] - pairs[-1][0] if pairs else None


def ranking_metric(datas: Sequence[dict]) -> str:
    """The best-epoch metric most of the runs were judged by."""
    counts = Counter(d.get("best_epoch_metric") for d in datas if d.get("best_epoch_metric"))
    if counts:
        return counts.most_common(1)[0][0]
    return "val_loss" if all("val_loss" in d["series"] for d in datas) else "loss"


class Comparison:
    """Diagnosed runs ranked by the ranking metric at each run's best epoch."""

    def __init__(self, reports: Sequence, labels: Sequence[str] | None = None, lang: str | None = None):
        datas = [html.report_dict(r) for r in reports]
        labels = list(labels) if labels else html.run_labels(datas)
        self.lang = lang or next((d["lang"] for d in datas if d.get("lang")), "en")
        self.metric = ranking_metric(datas)
        self.second = "val_accuracy" if self.metric != "val_accuracy" and any(
            "val_accuracy" in d["series"] for d in datas) else None
        sign = -1.0 if higher_is_better(self.metric) else 1.0

        def key(i: int):
            v = best_value(datas[i], self.metric)
            return (v is None, sign * v if v is not None else 0.0)

        order = sorted(range(len(datas)), key=key)
        self.reports = [reports[i] for i in order]
        self.datas = [datas[i] for i in order]
        self.labels = [labels[i] for i in order]

    def rows(self) -> list[dict]:
        """One dict per run, best first."""
        out = []
        for rank, (label, d) in enumerate(zip(self.labels, self.datas), 1):
            best = d.get("best_epoch")
            row = {
                "rank": rank, "label": label, "source": d.get("source"), "format": d.get("format"),
                "epochs": len(d["epochs"]), "best_epoch": best, "best_epoch_metric": d.get("best_epoch_metric"),
                "recommended_epochs": d.get("recommended_epochs"),
                "metric": self.metric, "value": best_value(d, self.metric),
                "final_gap": final_gap(d), "verdict": d.get("verdict"),
                "findings": [{"code": f["code"], "kind": f["kind"]} for f in d.get("findings", [])],
            }
            if self.second:
                row[f"best_{self.second}"] = best_value(d, self.second)
            out.append(row)
        return out

    def table(self) -> Table:
        t = html.texts(self.lang)
        columns = [t["rank"], t["run"], t["format"], t["epochs"], t["best_epoch"], t["best_value"].format(metric=self.metric)]
        if self.second:
            columns.append(t["best_value"].format(metric=self.second))
        columns += [t["final_gap"], t["verdict"], t["findings"]]
        rows = []
        for r in self.rows():
            cells = [str(r["rank"]), r["label"], r["format"] or "", str(r["epochs"]), fmt(r["best_epoch"]), fmt(r["value"])]
            if self.second:
                cells.append(fmt(r[f"best_{self.second}"]))
            cells += [fmt(r["final_gap"]), t.get(f"verdict_{r['verdict']}", r["verdict"] or ""),
                      findings_cell(r["findings"], self.lang)]
            rows.append(cells)
        numeric = {0, 3, 4, 5, 6} | ({7} if self.second else set())
        return Table(t["compare_title"], columns, rows, [t["final_gap_note"].format(metric=self.metric)], numeric,
                     optional=[2, 3], detail=len(columns) - 1)  # format and epochs go first, then findings move under the row

    def to_dict(self) -> dict:
        return {"metric": self.metric, "runs": [{**row, "report": d} for row, d in zip(self.rows(), self.datas)]}

    def to_markdown(self) -> str:
        return self.table().to_markdown()

    def to_html(self, title: str | None = None, tables: Sequence = ()) -> html.HtmlReport:
        return html.render(self.reports, labels=self.labels, lang=self.lang, title=title,
                           tables=[*tables, self.table()] if len(self.datas) > 1 else tables)

    def _repr_html_(self) -> str:
        return self.to_html()._repr_html_()

    def plot(self, path: str | Path) -> str:
        """Save the curves of all runs overlaid, one panel per metric, as an image; returns the language used."""
        from ..output.plot import overlay

        return overlay(self.datas, self.labels, path, self.lang)


def compare(sources: Sequence, *, lang: str | None = None, config=None, **options) -> Comparison:
    """Read, diagnose and rank ``sources`` (paths or :class:`~fitdoc.Run` objects);
    ``options`` go to :func:`fitdoc.diagnose` (``monitor=``...)."""
    import fitdoc

    reports = []
    for source in sources:
        runs = [source] if isinstance(source, fitdoc.Run) else fitdoc.read_runs(source)
        reports += [fitdoc.diagnose(run, config, lang, **options) for run in runs]
    return Comparison(reports, lang=lang)
