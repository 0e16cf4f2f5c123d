"""JSON-lines training logs: OpenMMLab's MMCV 1.x ``*.log.json`` (``{"mode": "train", "epoch": 3,
"iter": 50, "lr": 0.02, "loss": 0.41, ...}`` and ``{"mode": "val", "epoch": 3,
"bbox_mAP": 0.36}``) and MMEngine's ``vis_data/scalars.json`` (training lines with
``epoch``, ``iter`` and ``step``; validation lines with ``step`` only, which is the
epoch in an epoch-based loop), as MMDetection, MMSegmentation and MMPretrain write them,
and detectron2's ``metrics.json`` (``{"iteration": 19, "loss": 1.92, "lr": 0.007}``).
A line without a loss or learning rate holds validation metrics.

Training lines are logged every N iterations: an epoch holds their mean. Validation
metrics are named ``val_<name>`` (``coco/bbox_mAP`` -> ``val_coco_bbox_map``). A run
trained by iterations (no ``epoch`` on its lines) is read point by point, numbered by
step. The environment and config lines, and lines cut or not JSON, are passed over.
"""

from __future__ import annotations

import json
import math
import re

from ..names import canonical, is_bookkeeping
from ..run import Run, build_run
from .numbers import is_number
from .steps import CompleteLines
from .stitch import EpochRows

FORMAT = "mmengine-json"

_LINE = re.compile(r'^\s*\{\s*"(?:mode|lr|base_lr|loss|data_time|epoch|iter|iteration|step)"')
_KEYS = re.compile(r'"(?:iter|iteration|step)"\s*:\s*\d')
_MARKERS = re.compile(r'"(?:iter|iteration|mode|data_time)"\s*:')  # OpenMMLab's and detectron2's own keys
_COUNTERS = {"mode", "epoch", "iter", "iteration", "step", "memory"}
_TRAINING = re.compile(r"^(lr|base_lr|loss.*|.*\.loss.*)$")  # keys only a training line has


def sniff(source) -> float:
    lines = [line for line in source.head.splitlines()[:50] if _LINE.match(line)]
    if len(lines) < 2 or not all(_KEYS.search(line) for line in lines[:2]):
        return 0.0
    return 0.9 if any(_MARKERS.search(line) for line in lines) else 0.0


def read(source) -> Run:
    lines: list[tuple[bool, dict, dict]] = []  # (is validation, the line, its metrics)
    skipped = 0
    with source.open_text() as fh:
        for line in CompleteLines(fh):
            if not line.lstrip().startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                skipped += 1
                continue
            if not isinstance(entry, dict):
                continue
            metrics = {
                k: float(v) for k, v in entry.items()
                if is_number(v) and k not in _COUNTERS and (k == "lr" or not is_bookkeeping(k))
            }
            if metrics:
                is_val = entry.get("mode") == "val" or ("mode" not in entry and not any(_TRAINING.match(k) for k in entry))
                lines.append((is_val, entry, metrics))
    notes = [f"{skipped} line(s) that are not JSON were skipped"] if skipped else []
    train_epochs = {entry.get("epoch") for is_val, entry, _ in lines if not is_val}
    if None not in train_epochs and len(train_epochs) >= 2:
        rows, info = _by_epoch(lines), {}
    else:
        rows, info = _by_step(lines), {"x_axis": "step"}
        if len(train_epochs) == 1 and None not in train_epochs:
            notes.append(f"a window inside epoch {train_epochs.pop()}: each logged iteration is one point")
    return build_run(rows.rows, source=source.name, format=FORMAT, events=rows.events, notes=notes, info=info)


def _by_epoch(lines) -> EpochRows:
    """Per epoch: the mean of its training lines (the last learning rate) and its
    validation metrics (MMCV names the epoch; MMEngine's ``step`` is the epoch)."""
    rows = EpochRows()
    train: dict[int, dict[str, list[float]]] = {}
    for is_val, entry, metrics in lines:
        if is_val:
            at = entry.get("epoch", entry.get("step"))
            if isinstance(at, (int, float)):
                rows.add(int(at), _validation(metrics), merge=True)
        else:
            for k, v in metrics.items():
                train.setdefault(int(entry["epoch"]), {}).setdefault(k, []).append(v)
    for epoch, values in train.items():
        rows.rows.setdefault(epoch, {}).update({k: v[-1] if k == "lr" else math.fsum(v) / len(v) for k, v in values.items()})
    return rows


def _by_step(lines) -> EpochRows:
    """One point per logged iteration (a run trained by iterations, or a window)."""
    rows = EpochRows()
    for is_val, entry, metrics in lines:
        at = next((entry[k] for k in ("step", "iteration", "iter") if k in entry), None)
        if isinstance(at, (int, float)) and not (is_val and "epoch" in entry):
            rows.add(int(at), _validation(metrics) if is_val else metrics, merge=True)
    return rows


def _validation(metrics: dict[str, float]) -> dict[str, float]:
    return {canonical("val_" + k): v for k, v in metrics.items() if k != "lr"}
