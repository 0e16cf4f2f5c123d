"""Mechanical labelling rules: symptoms from the curves, effect of a fault from seeds.

Nothing here uses fitdoc. Epochs are numbered as Keras prints them (``Epoch 1/N``).
The rules are described in bench/README.md; thresholds live in the constants below.
"""

from __future__ import annotations

import math

import numpy as np

BENIGN = {"val_better_than_train"}
UNDERFIT_ACC_GAP = 0.10  # train accuracy this far below the controls' median
UNDERFIT_LOSS_RATIO = 1.5  # regression: train loss this many times the controls' median
OVERFIT_RISE = 0.10
DIVERGE_RATIO = 3.0
Z = 3.0
SEEDS_NEEDED = 2


def arr(history: dict, key: str) -> np.ndarray | None:
    values = history.get(key)
    if values is None:
        return None
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def best_epoch(history: dict) -> int | None:
    """Epoch (1-based) of the lowest finite val_loss; None while still improving at the end.

    Still improving: the minimum lies in the last 10% of epochs (at least the last one)
    and no later value is more than 1% above it.
    """
    v = arr(history, "val_loss")
    if v is None or not np.isfinite(v).any():
        return None
    n = len(v)
    m = int(np.nanargmin(np.where(np.isfinite(v), v, np.nan)))
    tail = max(1, math.ceil(0.1 * n))
    after = v[m + 1:]
    if m >= n - tail and (after.size == 0 or np.all(np.isfinite(after) & (after <= v[m] + 0.01 * abs(v[m])))):
        return None
    return m + 1


def _finite_prefix(x: np.ndarray) -> np.ndarray:
    bad = np.flatnonzero(~np.isfinite(x))
    return x[: bad[0]] if bad.size else x


def _frozen_from(x: np.ndarray, tol: float) -> int:
    """First index from which ``x`` stays within a band of width ``tol`` to the end."""
    start = len(x) - 1
    while start > 0 and np.ptp(x[start - 1:]) <= tol:
        start -= 1
    return start


def _reversals(x: np.ndarray) -> list[int]:
    """Indexes of the turning points of large up-down (or down-up) swings."""
    if len(x) < 4:
        return []
    d = np.diff(x)
    scale = 0.05 * np.median(np.abs(x))
    return [i + 1 for i in range(len(d) - 1)
            if d[i] * d[i + 1] < 0 and min(abs(d[i]), abs(d[i + 1])) >= scale]


def _spikes(x: np.ndarray) -> list[int]:
    """Indexes of isolated jumps (x1.5 and a quarter of the curve's own fall) that recover."""
    out = []
    if len(x) < 3:
        return out
    drop = x[0] - x.min()
    for t in range(1, len(x) - 1):
        prev = x[t - 1]
        if prev > 0 and x[t] >= 1.5 * prev and x[t] - prev >= 0.25 * drop > 0:
            if np.any(x[t + 1: t + 4] <= 1.1 * prev):
                out.append(t)
    return out


def symptoms(history: dict, ref: dict) -> dict[str, int | None]:
    """Symptom kinds the curves show, each with its onset epoch (1-based) or None.

    ``ref`` holds the controls' medians for the family: ``train_accuracy`` or
    ``train_loss`` (regression).
    """
    loss, val = arr(history, "loss"), arr(history, "val_loss")
    acc, val_acc = arr(history, "accuracy"), arr(history, "val_accuracy")
    n = len(loss)
    kinds: dict[str, int | None] = {}

    for series in (loss, val):
        if series is not None and not np.isfinite(series).all():
            first = int(np.flatnonzero(~np.isfinite(series))[0]) + 1
            kinds["nan_loss"] = min(first, kinds.get("nan_loss", first))
    lf = _finite_prefix(loss)
    vf = _finite_prefix(val) if val is not None else None
    negative = [np.flatnonzero(np.isfinite(s) & (s < 0)) for s in (loss, val) if s is not None]
    if any(i.size for i in negative):
        kinds["negative_loss"] = min(int(i[0]) + 1 for i in negative if i.size)

    if len(lf) >= 3:
        m = int(np.argmin(lf))
        if m < len(lf) - 1 and lf[m:].max() >= DIVERGE_RATIO * lf[m] and lf[-1] >= 2 * lf[m] and lf[m] > 0:
            kinds["divergence"] = m + 1
        elif (lf[m] <= 0.9 * lf[0] and len(lf) - 1 - m >= 3 and lf[-1] >= 1.25 * lf[m]
              and "nan_loss" not in kinds):
            kinds["loss_rises_after_fall"] = m + 1

    if vf is not None and len(vf) >= 4:
        m = int(np.argmin(vf))
        last = min(len(lf), len(vf)) - 1
        if (len(vf) - 1 - m >= 3 and vf[-3:].mean() >= (1 + OVERFIT_RISE) * vf[m]
                and m < last and lf[last] < lf[m] and "divergence" not in kinds):
            kinds["overfitting"] = m + 1

    curve = vf if vf is not None and len(vf) >= 4 else lf
    for x in (lf, curve):
        rev = _reversals(x)
        if len(rev) >= max(3, 0.3 * (len(x) - 2)):
            kinds["oscillation"] = min(rev[0] + 1, kinds.get("oscillation", n))
    if "oscillation" not in kinds and "nan_loss" not in kinds:
        spikes = sorted(set(_spikes(lf)) | set(_spikes(curve)))
        if 0 < len(spikes) <= 2:
            kinds["loss_spike"] = spikes[0] + 1

    poor = None  # mask of epochs whose training quality is far below the controls'
    if acc is not None and "train_accuracy" in ref:
        poor = np.nan_to_num(acc, nan=0.0) <= ref["train_accuracy"] - UNDERFIT_ACC_GAP
    elif "train_loss" in ref:
        poor = ~(np.nan_to_num(loss, nan=np.inf) < UNDERFIT_LOSS_RATIO * ref["train_loss"])
    if poor is not None and "nan_loss" not in kinds:
        if poor[-1]:
            kinds["underfitting"] = None
        w = max(5, math.ceil(n / 4))
        for t in range(0, len(lf) - w + 1):
            window = lf[t: t + w]
            if np.ptp(window) <= 0.01 * abs(window.mean()) and poor[t: t + w].all():
                kinds["plateau"] = t + 1
                break

    for a in (acc, val_acc):
        if a is None or n < 5:
            continue
        a0 = np.nan_to_num(a, nan=0.0)
        start = _frozen_from(a0, 0.005)
        low = "train_accuracy" not in ref or a0[-1] <= ref["train_accuracy"] - UNDERFIT_ACC_GAP
        if n - start >= max(5, math.ceil(n / 3)) and low:
            kinds["stuck_accuracy"] = min(start + 1, kinds.get("stuck_accuracy", n))
    if val_acc is not None and np.median(np.nan_to_num(val_acc, nan=0.0)) <= 0.05:
        kinds["val_acc_zero"] = None

    if vf is not None and len(vf) == n >= 3 and np.isfinite(loss).all() and np.all(val < loss):
        kinds["val_better_than_train"] = None
    if acc is not None and val_acc is not None and val_acc[-1] >= 0.99 and acc[-1] <= 0.9:
        kinds["suspicious_validation"] = None

    if "nan_loss" not in kinds and "divergence" not in kinds and best_epoch(history) is None:
        s = val if val is not None else loss
        k = max(2, math.ceil(0.2 * n))
        if n > k:
            recent, total = s[-k - 1] - s[-1], s[0] - s[-1]
            if (total > 0 and recent >= 0.1 * total and recent >= 0.02 * abs(s[-1])
                    and loss[-k - 1] > loss[-1]):
                kinds["still_learning"] = None
    return kinds


def effect_stats(history: dict, meta: dict, loss_comparable: bool) -> dict[str, float]:
    """Per-run statistics where larger is worse; non-finite values become +inf."""
    out = {}
    probe = meta["probe"]
    if "val_accuracy" in probe:
        acc = probe["val_accuracy"]
        out["probe_error"] = math.inf if acc is None else 1.0 - acc
    else:
        mse = probe["val_mse"]
        out["probe_error"] = math.inf if mse is None else mse
    if loss_comparable:
        v = arr(history, "val_loss")
        finite = v[np.isfinite(v)]
        out["final_val_loss"] = float(v[-1]) if np.isfinite(v[-1]) else math.inf
        out["min_val_loss"] = float(finite.min()) if finite.size else math.inf
        if finite.size == len(v):
            out["val_rise"] = float((v[-3:].mean() - finite.min()) / max(abs(finite.min()), 1e-8))
            d2 = np.abs(np.diff(v, 2))
            out["roughness"] = float(d2.mean() / max(np.median(np.abs(v)), 1e-8)) if d2.size else 0.0
        else:
            out["val_rise"] = out["roughness"] = math.inf
    return out


FLOORS = {"probe_error": 0.02, "final_val_loss": 0.02, "min_val_loss": 0.02, "val_rise": 0.05, "roughness": 0.02}


def effect_shows(control: list[dict[str, float]], faulty: list[dict[str, float]]) -> tuple[bool, dict]:
    """z-score rule: some statistic of at least two faulty seeds exceeds the controls'
    mean + max(3 sd, 10% of |mean|, floor)."""
    detail = {}
    shown = False
    for stat in faulty[0]:
        base = np.array([c[stat] for c in control if stat in c and math.isfinite(c[stat])])
        if base.size < 2:
            continue
        mean, sd = float(base.mean()), float(base.std(ddof=1))
        threshold = mean + max(Z * sd, 0.1 * abs(mean), FLOORS[stat])
        hits = sum(1 for f in faulty if f[stat] > threshold)
        z = [round((f[stat] - mean) / sd, 1) if sd > 0 and math.isfinite(f[stat]) else None for f in faulty]
        detail[stat] = {"threshold": round(threshold, 4), "hits": hits, "z": z}
        shown |= hits >= SEEDS_NEEDED
    return shown, detail


def metric_effect_shows(histories: list[dict]) -> bool:
    """A metric-only fault shows when the accuracy it adds is meaningless: its best
    value over the run stays at or below 0.05 in at least two seeds."""
    hits = sum(1 for h in histories if "accuracy" in h and np.nanmax(arr(h, "val_accuracy")) <= 0.05)
    return hits >= SEEDS_NEEDED
