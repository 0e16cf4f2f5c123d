"""Which hyperparameter goes with a finding: a cross-tab found by a test, not by eye.

For each finding code and each hyperparameter, every run that has the hyperparameter
is put on one side of a split and the runs are counted in a 2x2 table (finding
present or not x inside the split or not):

- a numeric hyperparameter is split at observed values, ``hp >= t`` and ``hp < t``
  (every distinct value; when there are more than 40, 40 at evenly spaced ranks, then
  every value between the neighbours of the best of those);
- any other hyperparameter is split level by level, ``hp = level`` against the rest.

Each split gets the one-sided p-value of Fisher's exact test that the finding is more
frequent inside it than outside: the upper tail of the hypergeometric distribution,
``P(X >= a)`` for ``a`` runs with the finding inside the split, multiplied by the
number of splits tried for that hyperparameter (Bonferroni: trying 80 thresholds must
not find one by chance). The split with the smallest p-value is reported when it is
below ``ALPHA`` (0.01).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from ..readers.numbers import is_number

ALPHA = 0.01
MAX_THRESHOLDS = 40


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def log_upper_tail(a: int, inside: int, present: int, total: int) -> float:
    """``log P(X >= a)`` where X counts the runs with a finding among ``inside`` runs
    drawn without replacement from ``total`` runs of which ``present`` have it. In logs:
    with thousands of runs a real effect is far below the smallest float."""
    top = min(inside, present)
    if a <= max(0, inside + present - total):
        return 0.0
    if a > top:
        return -math.inf
    norm = _log_choose(total, inside)
    tail = -math.inf
    for x in range(a, top + 1):  # terms fall fast past the mode: stop once they no longer count
        term = _log_choose(present, x) + _log_choose(total - present, inside - x) - norm
        high, low = max(tail, term), min(tail, term)
        tail = high + math.log1p(math.exp(low - high)) if low > -math.inf else high
        if term < tail - 40:
            break
    return min(0.0, tail)


def hypergeom_upper_tail(a: int, inside: int, present: int, total: int) -> float:
    """``P(X >= a)`` (see :func:`log_upper_tail`)."""
    return math.exp(log_upper_tail(a, inside, present, total))


def fmt_p(log_p: float) -> str:
    """A p-value from its log, also below the smallest float (``3e-412``)."""
    if log_p > -690:
        return f"{math.exp(log_p):.1g}"
    exponent = math.floor(log_p / math.log(10))
    return f"{10 ** (log_p / math.log(10) - exponent):.0f}e{exponent}"


@dataclass(frozen=True)
class Split:
    """One side of a hyperparameter split and the 2x2 counts behind its p-value."""

    code: str
    param: str
    op: str  # ">=", "<" or "="
    value: object
    with_inside: int  # runs with the finding inside the split
    with_total: int  # runs with the finding (and the parameter)
    without_inside: int  # runs without the finding inside the split
    without_total: int
    log_p: float  # natural log of the p-value

    @property
    def p(self) -> float:
        return math.exp(self.log_p)

    def condition(self) -> str:
        return f"{self.param} {'≥' if self.op == '>=' else self.op} {fmt_value(self.value)}"

    def complement(self) -> str:
        if self.op == "=":
            return "the other runs"
        return f"{self.param} {'<' if self.op == '>=' else '≥'} {fmt_value(self.value)}"

    def same_runs(self, other: Split) -> bool:
        """Whether ``other`` splits the same way with the same counts (two findings of the same runs)."""
        return (self.param, self.op, self.value, self.with_inside, self.with_total, self.without_inside) == (
            other.param, other.op, other.value, other.with_inside, other.with_total, other.without_inside)

    def sentence(self, what: str) -> str:
        """``41 of 44 runs with divergence have lr ≥ 0.003; 3 of 120 runs with lr < 0.003 have it (p = 2e-30)``."""
        outside_with = self.with_total - self.with_inside
        outside = outside_with + self.without_total - self.without_inside
        return (f"{self.with_inside} of {self.with_total} runs with {what} have {self.condition()}; "
                f"{outside_with} of {outside} runs with {self.complement()} have it (p = {fmt_p(self.log_p)})")

    def to_dict(self) -> dict:
        return {"code": self.code, "param": self.param, "op": self.op, "value": self.value,
                "with_inside": self.with_inside, "with_total": self.with_total,
                "without_inside": self.without_inside, "without_total": self.without_total, "p": self.p, "log_p": self.log_p}


def fmt_value(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def is_finite_number(value) -> bool:
    return is_number(value) and math.isfinite(value)


def _coarse(distinct: Sequence[float]) -> list[float]:
    """At most ``MAX_THRESHOLDS`` of the sorted ``distinct`` values, at evenly spaced ranks."""
    if len(distinct) <= MAX_THRESHOLDS:
        return list(distinct)
    step = (len(distinct) - 1) / (MAX_THRESHOLDS - 1)
    return sorted({distinct[round(i * step)] for i in range(MAX_THRESHOLDS)})


def _levels(values: list) -> Iterable[tuple[str, object, list[bool]]]:
    levels = sorted({str(v) for v in values})
    if len(levels) > 1:
        for level in levels:
            yield "=", level, [str(v) == level for v in values]


def _cuts(values: list, thresholds: Iterable[float]) -> Iterable[tuple[str, object, list[bool]]]:
    for t in thresholds:
        above = [v >= t for v in values]
        yield ">=", t, above
        yield "<", t, [not x for x in above]


def _best_of(code, param, sides, present, n_with, total) -> tuple[Split | None, int]:
    """The most significant of ``sides`` and how many were tried."""
    best, tried = None, 0
    for op, value, inside in sides:
        tried += 1
        n_inside = sum(inside)
        a = sum(1 for i, p in zip(inside, present) if i and p)
        if a * total <= n_inside * n_with:  # not more frequent inside than overall
            continue
        log_p = log_upper_tail(a, n_inside, n_with, total)
        if best is None or log_p < best.log_p:
            best = Split(code, param, op, value, a, n_with, n_inside - a, total - n_with, log_p)
    return best, tried


def best_split(code: str, param: str, values: list, present: list[bool], alpha: float = ALPHA) -> Split | None:
    """The split of ``param`` (one value per run) that best separates the runs where
    ``present`` is true, its p-value multiplied by the splits tried; None when that
    does not reach ``alpha``."""
    total, n_with = len(values), sum(present)
    if n_with == 0 or n_with == total:
        return None
    if not all(is_finite_number(v) for v in values):
        best, tried = _best_of(code, param, _levels(values), present, n_with, total)
    else:
        distinct = sorted(set(values))[1:]  # ">= the smallest" is every run
        coarse = _coarse(distinct)
        best, tried = _best_of(code, param, _cuts(values, coarse), present, n_with, total)
        if best is not None and len(coarse) < len(distinct):
            k = coarse.index(best.value)
            low, high = coarse[k - 1] if k else -math.inf, coarse[k + 1] if k + 1 < len(coarse) else math.inf
            between = [t for t in distinct if low < t < high and t != best.value]
            finer, more = _best_of(code, param, _cuts(values, between), present, n_with, total)
            tried += more
            if finer is not None and finer.log_p < best.log_p:
                best = finer
    if best is None or best.log_p + math.log(tried) >= math.log(alpha):
        return None
    return replace(best, log_p=best.log_p + math.log(tried))


def cross_tab(rows: Sequence[dict], labels: dict[str, Sequence[bool]], alpha: float = ALPHA) -> list[Split]:
    """For each label (``FD202`` → one flag per row), the best split of each ``hp.*``
    column of ``rows`` that reaches ``alpha``, strongest first; runs lacking a
    hyperparameter are left out of its test."""
    params = sorted({k for r in rows for k in r if k.startswith("hp.")})
    found = []
    for code, flags in labels.items():
        for key in params:
            pairs = [(r[key], f) for r, f in zip(rows, flags) if r.get(key) is not None
                     and (is_finite_number(r[key]) or isinstance(r[key], (str, bool)))]
            if len(pairs) < 4:
                continue
            split = best_split(code, key[3:], [v for v, _ in pairs], [f for _, f in pairs], alpha)
            if split:
                found.append(split)
    return sorted(found, key=lambda s: (s.log_p, s.code, s.param))
