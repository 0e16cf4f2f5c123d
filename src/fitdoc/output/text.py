"""Plain facts shared by the terminal and Markdown renderers."""

from __future__ import annotations

import numpy as np

from .. import advice

SPARK = "▁▂▃▄▅▆▇█"


def md_cell(text: str) -> str:
    """``text`` as one Markdown table cell: ``|`` escaped, line breaks as spaces."""
    return " ".join(str(text).replace("|", "\\|").splitlines())


def sparkline(values: np.ndarray, width: int = 40) -> str:
    """A unicode sparkline of the finite values (resampled to ``width`` by bucket means)."""
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return ""
    if len(v) > width:
        v = np.array([chunk.mean() for chunk in np.array_split(v, width)])
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo or 1.0
    return "".join(SPARK[int((x - lo) / span * (len(SPARK) - 1))] for x in v)


def epoch_gaps(epochs) -> list[int]:
    """Indexes i where the record skips epochs between epochs[i] and epochs[i + 1]
    (a jump of more than twice its usual step), where no curve should be drawn."""
    epochs = np.asarray(epochs)
    if len(epochs) < 3:
        return []
    step = max(float(np.median(np.diff(epochs))), 1.0)
    return [int(i) for i in np.flatnonzero(np.diff(epochs) > 2 * step)]


def span(run) -> str:
    """``30 epochs 0-29`` (or steps, for a record whose x-axis is the logged step)."""
    unit = "steps" if run.info.get("x_axis") == "step" else "epochs"
    return f"{len(run)} {unit} {int(run.epochs[0])}-{int(run.epochs[-1])}"


def when(finding, lang: str) -> str:
    if finding.epoch is None:
        return ""
    if finding.end_epoch is not None and finding.end_epoch != finding.epoch:
        return advice.say("ui", "epochs_range", lang, first=finding.epoch, last=finding.end_epoch)
    return advice.say("ui", "since_epoch", lang, epoch=finding.epoch)


def best_epoch_lines(report) -> list[str]:
    """The best-epoch sentence and the EarlyStopping setting that keeps it."""
    b, lang = report.best, report.lang
    if b.epoch is None:
        key = {"no_validation": "best_epoch_none_noval", "flat": "best_epoch_none_flat"}.get(b.reason, "best_epoch_none_still")
        return [advice.say("ui", key, lang, metric=b.metric or "val_loss")]
    lines = [advice.say("ui", "best_epoch_line", lang, epoch=b.epoch, metric=b.metric, value=b.value, recommended=b.recommended_epochs)]
    if b.patience:
        key = "early_stopping" if b.stop_epoch is not None else "early_stopping_nostop"
        lines.append(advice.say("ui", key, lang, metric=b.metric, patience=b.patience, stop_epoch=b.stop_epoch, epoch=b.epoch))
    return lines


def trend_line(report) -> str | None:
    """The classic train-vs-validation reading of the run's second half."""
    trend = report.trend
    if "reading" not in trend:
        return None
    return advice.say("readings_trend", trend["reading"], report.lang, loss=trend["loss"], val_loss=trend["val_loss"])


def metrics_at_best(report) -> str | None:
    values = report.best.metrics_at_best
    if not values:
        return None
    return ", ".join(f"{name} {value:.4g}" for name, value in values.items())
