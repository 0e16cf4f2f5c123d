"""Canonical metric names: ``acc``/``accuracy``, ``val_acc``/``eval_accuracy``,
``lr``/``learning_rate``... all map to one spelling so rules see one vocabulary.

Canonical names: ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``, ``lr``; any
other metric keeps its own name with the validation prefix normalised to ``val_``.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Base names (without a train/validation prefix) and what they mean.
_BASE_ALIASES = {
    "loss": "loss",
    "acc": "accuracy",
    "accuracy": "accuracy",
    "categorical_accuracy": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
    "binary_accuracy": "accuracy",
    "lr": "lr",
    "learning_rate": "lr",
    "learning rate": "lr",
}
_VAL_PREFIXES = tuple(f"{w}{sep}" for w in ("val", "eval", "validation", "valid") for sep in "_/. -")
_TRAIN_PREFIXES = tuple(f"{w}{sep}" for w in ("train", "training") for sep in "_/. -")


# a prefix run into a capitalised name: "ValLoss", "trainAcc", "TestMAE"
_CAMEL_PREFIX = re.compile(r"^((?i:validation|valid|val|eval|training|train|test))(?=[A-Z])")


def split_prefix(name: str) -> tuple[bool, str]:
    """(is_validation, base name) of a metric name."""
    low = _CAMEL_PREFIX.sub(r"\1_", name.strip(), count=1).lower()
    for p in _VAL_PREFIXES:
        if low.startswith(p) and len(low) > len(p):
            return True, low[len(p):]
    for p in _TRAIN_PREFIXES:
        if low.startswith(p) and len(low) > len(p):
            return False, low[len(p):]
    return False, low


@lru_cache(maxsize=4096)
def canonical(name: str) -> str:
    """The canonical spelling of a metric name (cached: readers ask it for every value)."""
    is_val, base = split_prefix(name)
    base = re.sub(r"[\s/.-]+", "_", base)
    base = _BASE_ALIASES.get(base, base)
    if base == "lr":
        return "lr"
    return f"val_{base}" if is_val else base


def canonicalize_keys(row: dict[str, float]) -> dict[str, float]:
    """Rename the keys of one epoch row; an exact canonical key wins over an alias."""
    out: dict[str, float] = {}
    exact: set[str] = set()
    for key, value in row.items():
        c = canonical(key)
        is_exact = key.lower() == c
        if c in out and (c in exact or not is_exact):
            continue
        out[c] = value
        if is_exact:
            exact.add(c)
    return out


def is_validation(name: str) -> bool:
    return canonical(name).startswith("val_")


def train_counterpart(name: str) -> str:
    """``val_accuracy`` -> ``accuracy``."""
    return name[4:] if name.startswith("val_") else name


# Metrics where larger is better; everything else (losses, errors) is minimised.
_MAXIMISED = re.compile(r"(acc|accuracy|auc|precision|recall|f1|map|iou|dice|r2|bleu|rouge|top\d|score)", re.I)
_MINIMISED = re.compile(r"(loss|error|err|mse|mae|rmse|perplexity|ppl|cer|wer)", re.I)


def higher_is_better(name: str) -> bool:
    base = train_counterpart(canonical(name))
    if _MINIMISED.search(base):
        return False
    return bool(_MAXIMISED.search(base))


def is_metric_name(name: str) -> bool:
    """A loss- or accuracy-like name (``Validation Loss``, ``val_acc``, ``mAP``, ``Wer``)."""
    base = train_counterpart(canonical(name))
    return bool(_MINIMISED.search(base) or _MAXIMISED.search(base))


# Columns and pairs that logs print beside the metrics: clocks, counters, memory.
_BOOKKEEPING = re.compile(
    r"^(lr|lr_.*|x_lr\d*|time|.*_time|time_.*|data|eta|mem|memory|.*_mem|epoch|step|iter|batch|it|samples|"
    r"grad_norm|v_num|.*per_second|fps|fps_.*|.*_fps|.*runtime|loss_scale|speed|.*_speed|n_parameters|n_params|num_params|num_parameters|"
    # fairseq's timers (train_wall too, canonically wall), throughput, counters and best-so-far value
    r"wall|gb_free|wps|ups|wpb|bsz|num_updates|oom|clip|best|words_s|words_batch|s_checkpoint)$"
)


def is_bookkeeping(name: str) -> bool:
    """A value logs print that is not a training metric (``lr``, ``time_avg``, ``mem``)."""
    return bool(_BOOKKEEPING.match(canonical(name)))


def test_as_validation(rows: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
    """``test_*`` metrics renamed ``val_*`` when the record has no other held-out metric
    (the same ``rows`` object when nothing changes)."""
    names = _names(rows)
    tests = {n for n in names if canonical(n).startswith("test_")}
    if any(is_validation(n) for n in names) or not tests:
        return rows
    return _renamed(rows, {n: canonical("val_" + canonical(n)[len("test_"):]) for n in tests})


TEST_AS_VALIDATION_NOTE = "test metrics read as validation metrics (the log has no other validation metric)"

_EVAL_SET = re.compile(r"^val_(\d+)_.")  # "val_1_auc": XGBoost's validation_1-auc, LightGBM's valid_1's auc


def first_eval_set_as_validation(rows: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
    """The metrics of the first numbered eval set (``val_0_auc`` of ``validation_0-auc``,
    ``val_1_auc`` of a LightGBM log whose ``valid_0`` is ``training``) renamed ``val_*``;
    later sets keep their names (the same ``rows`` object when nothing changes)."""
    names = _names(rows)
    sets = {int(m.group(1)) for m in map(_EVAL_SET.match, names) if m}
    if not sets:
        return rows
    first = f"val_{min(sets)}_"
    rename = {n: "val_" + n[len(first):] for n in names if n.startswith(first)}
    return rows if names & set(rename.values()) else _renamed(rows, rename)


# what serves as the loss when a record has none, in this order: a detector's sum of its
# losses (Detectron2, MMDetection), then log losses (XGBoost's, LightGBM's, TF retrain's)
_STAND_IN_LOSSES = ("total_loss", "logloss", "binary_logloss", "multi_logloss", "mlogloss", "cross_entropy")


def stand_in_loss(rows: dict[int, dict[str, float]]) -> tuple[dict[int, dict[str, float]], str | None]:
    """``(rows, name)``: a stand-in series (``total_loss``, ``logloss``...) renamed ``loss``
    and its validation counterpart ``val_loss`` when the record has neither, with the name
    it had; ``(rows, None)``, the same object, when nothing changes."""
    names = _names(rows)
    if names & {"loss", "val_loss"}:
        return rows, None
    base = next((b for b in _STAND_IN_LOSSES if {b, f"val_{b}"} & names), None)
    return (rows, None) if base is None else (_renamed(rows, {base: "loss", f"val_{base}": "val_loss"}), base)


def stand_in_loss_note(name: str) -> str:
    return f"{name} is read as the loss (the log has no loss series)"


def _names(rows: dict[int, dict[str, float]]) -> set[str]:
    return {k for row in rows.values() for k in row}


def _renamed(rows: dict[int, dict[str, float]], rename: dict[str, str]) -> dict[int, dict[str, float]]:
    return {epoch: {rename.get(k, k): v for k, v in row.items()} for epoch, row in rows.items()}
