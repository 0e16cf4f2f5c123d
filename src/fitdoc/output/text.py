"""Plain facts shared by the terminal and Markdown renderers."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from .. import advice

SPARK = "▁▂▃▄▅▆▇█"
ASCII_SPARK = "_.-=+*#@"

_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
# A line may break before any token: a CJK character, a run of other non-space characters,
# or "第 10 轮" / "第 11-64 轮" / "20 轮" kept whole.
_TOKEN = re.compile(rf"(?:第 ?)?[\d.,\-–~]+ ?[轮步次]|[{_CJK}]|[^\s{_CJK}]+|\s+")
_CLOSING = set("，。、：；！？）」』】》…%,.;:!?)")
_OPENING = set("（「『【《(")


def md_cell(text: str) -> str:
    """``text`` as one Markdown table cell: ``|`` escaped, line breaks as spaces."""
    return " ".join(str(text).replace("|", "\\|").splitlines())


def cell_len(text: str) -> int:
    """Columns ``text`` takes on a terminal (CJK characters take two)."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns: English breaks at spaces, Chinese
    between characters, never inside ``第 10 轮``, never before closing or after opening
    punctuation; a word longer than a line is folded."""
    lines: list[str] = []
    for para in text.split("\n"):
        lines += _wrap_paragraph(para, max(width, 2)) or [""]
    return lines


def _segments(para: str) -> list[tuple[str, bool]]:
    """Unbreakable pieces of ``para``, each with whether a space came before it."""
    segments: list[tuple[str, bool]] = []
    space = glue = False
    for token in _TOKEN.findall(para):
        if token.isspace():
            space = True
            continue
        if segments and not space and (glue or token[0] in _CLOSING):
            segments[-1] = (segments[-1][0] + token, segments[-1][1])
        else:
            segments.append((token, space))
        glue, space = token[-1] in _OPENING, False
    return segments


def _wrap_paragraph(para: str, width: int) -> list[str]:
    lines, line = [], ""
    for segment, space in _segments(para):
        joined = f"{line} {segment}" if space and line else line + segment
        if cell_len(joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        line = segment
        while cell_len(line) > width:
            cut = _fit(line, width)
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines


def _fit(text: str, width: int) -> int:
    """How many leading characters of ``text`` fit in ``width`` columns (at least one)."""
    used = 0
    for i, ch in enumerate(text):
        used += cell_len(ch)
        if used > width:
            return max(i, 1)
    return len(text)


def sparkline(values: np.ndarray, width: int = 40, ramp: str = SPARK) -> str:
    """A sparkline of the values (resampled to ``width`` by bucket means), ``!`` where one is
    NaN or infinite; pass ``ramp=ASCII_SPARK`` for a stream that cannot encode block characters."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return ""
    if len(values) > width:  # a bucket holding a NaN or Inf shows as one
        values = np.array([chunk.mean() for chunk in np.array_split(values, width)])
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo or 1.0
    return "".join(ramp[int(np.clip((x - lo) / span, 0, 1) * (len(ramp) - 1))] if np.isfinite(x) else "!"
                   for x in values)


def title(code: str, kind: str, lang: str) -> str:
    """A rule's (or its finding's) own title: the catalogue's ``rule_CODE``, else its kind's."""
    key = f"rule_{code}"
    said = advice.say("ui", key, lang)
    return advice.kind_title(kind, lang) if said == key else said


def epoch_gaps(epochs) -> list[int]:
    """Indexes i where the record skips epochs between epochs[i] and epochs[i + 1]
    (a jump of more than twice its usual step), where no curve should be drawn."""
    epochs = np.asarray(epochs)
    if len(epochs) < 3:
        return []
    step = max(float(np.median(np.diff(epochs))), 1.0)
    return [int(i) for i in np.flatnonzero(np.diff(epochs) > 2 * step)]


def span(run, lang: str = "en") -> str:
    """``30 epochs 0-29`` (or steps, for a record whose x-axis is the logged step)."""
    return span_of(run.epochs, advice.unit_of(run), lang)


def span_of(epochs, unit: str, lang: str) -> str:
    """``30 epochs 0-29``; ``20 epochs recorded (1-74)`` when the record skips some; singular
    for one; ``26 evaluations over epochs 0.04-1`` for fractional epochs (a Trainer's)."""
    n = len(epochs)
    if unit == "epoch" and n > 1 and any(float(e) != int(e) for e in epochs):
        return advice.say("ui", "span_fraction", lang, n=n, first=float(epochs[0]), last=float(epochs[-1]))
    first, last = int(epochs[0]), int(epochs[-1])
    shape = "one" if n == 1 else "gaps" if last - first + 1 > n else "all"
    return advice.say("ui", f"span_{unit}_{shape}", lang, n=n, first=first, last=last)


def when(finding, lang: str, unit: str = "epoch") -> str:
    if finding.epoch is None:
        return ""
    if finding.end_epoch is not None and finding.end_epoch != finding.epoch:
        return advice.say_at("ui", "epochs_range", lang, unit, first=finding.epoch, last=finding.end_epoch)
    return advice.say_at("ui", "since_epoch", lang, unit, epoch=finding.epoch)


def best_epoch_lines(report) -> list[str]:
    """The best-epoch sentence, what it means, and the EarlyStopping setting that keeps it."""
    b, lang = report.best, report.lang
    if b.epoch is None:
        metrics = [m for m in report.run.series if m.startswith("val_")]
        if metrics:
            return [advice.say("ui", "best_epoch_none_nonfinite", lang, metric=metrics[0])]
        return [advice.say("ui", "best_epoch_none_noval", lang)]
    unit = advice.unit_of(report.run)
    key = "best_epoch_line_one" if b.recommended_epochs == 1 else "best_epoch_line"
    lines = [advice.say_at("ui", key, lang, unit, epoch=b.epoch, metric=b.metric, value=b.value, recommended=b.recommended_epochs)]
    if b.reason in ("still_improving", "flat", "restored"):
        lines.append(advice.say("ui", f"best_reason_{b.reason}", lang, metric=b.metric, evals=b.evals))
    if b.patience:
        key = "early_stopping" if b.stop_epoch is not None else "early_stopping_nostop"
        lines.append(advice.say_at("ui", key, lang, unit, metric=b.metric, patience=b.patience, stop_epoch=b.stop_epoch, epoch=b.epoch))
    return lines


def trend_line(report) -> str | None:
    """Where the losses went and what that means, from the same analysis as the findings."""
    trend, lang = report.trend, report.lang
    if "reading" not in trend:
        return None
    word = {k: advice.say("directions", trend[k], lang) for k in ("loss", "val_loss") if k in trend}
    reading = advice.say("story", trend["reading"], lang, evals=trend.get("evals"))
    colon = "：" if lang == "zh" else ": "
    if len(word) == 2:
        return advice.say("story", "directions", lang, **word) + colon + reading
    if "loss" in word:
        return advice.say("story", "direction_train", lang, **word) + colon + reading
    return reading


def metrics_at_best(report) -> str | None:
    values = report.best.metrics_at_best
    if not values:
        return None
    return advice.say("ui", "comma", report.lang).join(f"{name} {value:.4g}" for name, value in values.items())
