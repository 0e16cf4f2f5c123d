"""Ultralytics ``results.csv`` (YOLOv5: cells padded with spaces, 0-based epochs,
``x/lr0``; YOLOv8 and later: 1-based epochs, a ``time`` column, ``lr/pg0``).

The loss YOLO trains is the sum of its parts (box, objectness or distribution focal,
class), so ``loss`` and ``val_loss`` are the sums of the ``train/*_loss`` and
``val/*_loss`` columns; each part is kept too (``box_loss``, ``val_box_loss``). The
``metrics/*`` columns (precision, recall, mAP) are measured on the validation set:
``val_precision``, ``val_map50``, ``val_map50_95``. The first learning-rate group is
``lr``. Epochs are numbered as the file prints them.
"""

from __future__ import annotations

import csv
import math
import re

from ..errors import UnreadableRecord
from ..names import canonical
from ..run import Run, build_run
from .numbers import parse_number
from .steps import CompleteLines
from .stitch import EpochRows

FORMAT = "ultralytics-csv"

_SIGNATURE = re.compile(r"^\s*epoch\s*,.*train/box_loss.*val/box_loss", re.I)
_LR = re.compile(r"^(?:x/lr|lr/pg)0$")


def sniff(source) -> float:
    return 0.95 if _SIGNATURE.match(source.head.lstrip("\ufeff")) else 0.0


def read(source) -> Run:
    rows = EpochRows()
    with source.open_text() as fh:
        lines = CompleteLines(fh)
        reader = csv.reader(lines)
        header = [h.strip().lower() for h in next(reader, [])]
        names = [_name(h) for h in header]
        for cells in reader:
            try:
                numbers = [parse_number(c) for c in cells]
            except ValueError:
                continue
            by_column = dict(zip(header, numbers))
            epoch = by_column.get("epoch")
            if len(cells) != len(header) or epoch is None:
                continue
            row = {n: v for n, v in zip(names, numbers) if n and n != "epoch" and v is not None}
            for total, part in (("loss", "train/"), ("val_loss", "val/")):
                parts = [v for h, v in by_column.items() if h.startswith(part) and h.endswith("_loss") and v is not None]
                if parts:
                    row[total] = math.fsum(parts)
            rows.add(int(epoch), row)
    if not rows:
        raise UnreadableRecord(source.name, "results.csv header but no complete rows of numbers")
    notes = ["loss and val_loss are the sums of the box, class and other loss columns"]
    if lines.cut is not None:
        notes.append(lines.cut_note())
    return build_run(rows.rows, source=source.name, format=FORMAT, events=rows.events, notes=notes,
                     info={"epoch_base": 0 if min(rows.rows) == 0 else 1})


def _name(column: str) -> str | None:
    """The series a column goes to (None for the clock and the other lr groups)."""
    low = column
    if low == "epoch":
        return "epoch"
    if _LR.match(low):
        return "lr"
    if low.startswith("train/"):
        return canonical(low[len("train/"):])
    if low.startswith("val/"):
        return canonical("val_" + low[len("val/"):])
    if low.startswith("metrics/"):
        metric = low[len("metrics/"):].replace("(b)", "").replace("(m)", "_mask")  # box and mask metrics
        return canonical("val_" + metric.replace(":", "_"))
    return None
