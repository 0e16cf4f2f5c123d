"""PaddlePaddle ``paddle.Model.fit`` output (the hapi progress bar)::

    Epoch 1/5
    step 51/51 [==============================] - loss: 600.1409 - acc: 0.8935 - 1ms/step
    Eval begin...
    step 13/13 [==============================] - loss: 403.3546 - acc: 0.9102 - 853us/step
    Eval samples: 102

An epoch's training metrics are those of its last ``step`` line before ``Eval
begin...``; the lines between ``Eval begin...`` and ``Eval samples`` are the
evaluation, read as ``val_*``. An ``evaluate`` printed after the last epoch counts as
its validation only when that epoch had none. Epochs are numbered as the headers
print them; lines before the first header belong to the epoch before it.
"""

from __future__ import annotations

import re

from ..names import canonical
from ..run import Run, build_run
from .keras_text import metric_pairs
from .steps import CompleteLines
from .stitch import EpochRows
from .textio import clean

FORMAT = "paddle-hapi"

_HEADER = re.compile(r"^\s*Epoch\s+(\d+)/(\d+)\s*$")
_STEP = re.compile(r"^\s*step\s+(\d+)(?:/(\d+))?\b.*\s-\s+[A-Za-z_][\w./@-]*\s*:")
_EVAL_BEGIN = re.compile(r"^\s*Eval begin\.\.\.")
_EVAL_END = re.compile(r"^\s*Eval samples:")


def sniff(source) -> float:
    head = source.head
    if _EVAL_BEGIN.search(head) is None and "Epoch" not in head:
        return 0.0
    lines = head.splitlines()
    steps = sum(1 for line in lines if _STEP.match(line))
    return 0.97 if steps >= 2 and any(_HEADER.match(line) or _EVAL_BEGIN.match(line) for line in lines) else 0.0


def read(source) -> Run:
    rows = EpochRows()
    epoch, planned, in_eval = None, None, False
    train: dict[str, float] = {}
    evaluation: dict[str, float] = {}

    notes = []

    def close():
        if train or evaluation:
            rows.add(epoch, {**train, **{canonical("val_" + k): v for k, v in evaluation.items()}}, merge=True)

    with source.open_text() as fh:
        for raw in CompleteLines(fh):
            line = clean(raw)
            header = _HEADER.match(line)
            if header:
                if epoch is None and (train or evaluation):  # the window starts inside an epoch
                    epoch = int(header.group(1)) - 1
                    notes.append(f"the log starts inside epoch {epoch} (its 'Epoch' header is missing)")
                close()
                epoch, planned, in_eval = int(header.group(1)), int(header.group(2)), False
                train, evaluation = {}, {}
            elif _EVAL_BEGIN.match(line):
                in_eval = None if evaluation else True  # a second evaluation (evaluate() on a test set) is not this epoch's
            elif _EVAL_END.match(line):
                in_eval = False
            elif _STEP.match(line) and in_eval is not None:
                (evaluation if in_eval else train).update(metric_pairs(line))
    if epoch is not None:
        close()
    return build_run(rows.rows, source=source.name, format=FORMAT, events=rows.events, planned_epochs=planned,
                     notes=notes, info={"epoch_base": 1})
