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
from .steps import CompleteLines
from .stitch import EpochRows

FORMAT = "mmengine-json"

_LINE = re.compile(r'^\s*\{\s*"(?:mode|lr|base_lr|loss|data_time|epoch|iter|iteration|step)"')
_KEYS = re.compile(r'"(?:iter|iteration|step)"\s*:\s*\d')
_COUNTERS = {"mode", "epoch", "iter", "iteration", "step", "memory"}
_TRAINING = re.compile(r"^(lr|base_lr|loss.*|.*\.loss.*)$")  # keys only a training line has


def sniff(source) -> float:
    lines = [line for line in source.head.splitlines()[:50] if _LINE.match(line)]
    return 0.9 if len(lines) >= 2 and all(_KEYS.search(line) for line in lines[:2]) else 0.0


def read(source) -> Run:
    train: dict[int, dict[str, list[float]]] = {}
    rows = EpochRows()
    by_epoch = None  # whether training lines carry an epoch
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
            values = {k: float(v) for k, v in entry.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            metrics = {k: v for k, v in values.items() if k not in _COUNTERS and (k == "lr" or not is_bookkeeping(k))}
            is_val = entry.get("mode") == "val" or ("mode" not in entry and not any(_TRAINING.match(k) for k in entry))
            if by_epoch is None and not is_val:
                by_epoch = "epoch" in entry
            if is_val:  # MMCV names the epoch; MMEngine's step is the epoch (or the iteration)
                at = next((entry[k] for k in ("epoch", "step", "iteration") if k in entry), None)
            else:
                at = entry.get("epoch") if by_epoch else next((entry[k] for k in ("step", "iter", "iteration") if k in entry), None)
            if not isinstance(at, (int, float)) or not metrics:
                continue
            at = int(at)
            if is_val:
                rows.add(at, {canonical("val_" + k): v for k, v in metrics.items() if k != "lr"}, merge=True)
            elif by_epoch:
                for k, v in metrics.items():
                    train.setdefault(at, {}).setdefault(k, []).append(v)
            else:
                rows.add(at, metrics, merge=True)
    table = rows.rows
    for epoch, values in train.items():
        table.setdefault(epoch, {}).update(
            {k: v[-1] if k == "lr" else math.fsum(v) / len(v) for k, v in values.items()}
        )
    notes = [f"{skipped} line(s) that are not JSON were skipped"] if skipped else []
    info = {} if by_epoch is not False else {"x_axis": "step"}
    return build_run(table, source=source.name, format=FORMAT, events=rows.events, notes=notes, info=info)
