"""Free-form training logs: what ``print`` and ``logging`` write in PyTorch loops
(and PaddlePaddle, MXNet, TensorFlow scripts).

Recognised lines (anything before the word ``epoch`` is ignored, so timestamps and
absl/logging prefixes do not matter)::

    Epoch: 3 \tTraining Loss: 0.41 \tValidation Loss: 0.52
    epoch 7 | train_loss 0.3 | val_acc 0.81
    [Epoch 3/10] loss=0.41, val_loss=0.52
    I1123 12:00:00.123 12345 train.py:88] epoch 3 loss 0.4
    Epoch 3: 100%|####| 50/50 [00:01<00:00, train_loss=0.3, val_loss=0.5]
    Epoch 1 complete [10%]    Loss: 2.799116
    INFO:root:Epoch[26] Validation-accuracy=0.556103

tables (see :mod:`.tables`: a header row, then rows of values; fastai's, Trainer's
notebook table, a printed pandas history, a header repeated before every epoch's
values) and the PyTorch tutorial's ``[1,  2000] loss: 2.235`` (``[epoch, batch]``). A
line ``Epoch 3/10`` alone opens epoch 3 for the lines that follow it and start (after
a log prefix) with a phase word (``train Loss: 0.41 Acc: 0.85``, ``Train loss is 0.31,
train accuracy 88.2%``). A phase word (train, training, val, valid, validation, eval,
test) applies to the metric after it and to the following metrics of the line that
have none; an epoch's summary (``Mean Training loss : nan``) is such a line. Lines that
also print a step, batch or iteration count (or a bracketed ``[640/60000]`` or ``[10%]``
position, after the epoch's own ``[127/300]``) and the updates of an unfinished tqdm bar
that names its epoch (or is validation's) are per-step lines: their mean over the epoch
is used for a metric the epoch's own lines do not print. The epoch's own lines outrank
its finished tqdm bar, whose postfix holds running values. mmengine's ``Epoch(train)
[1][10/90]`` lines are training's, its ``Epoch(val) [1][10/10]`` lines the epoch's
evaluation; so are fairseq's ``| epoch 001:  450 / 1891 loss=...`` (a step) and ``| epoch
001 | valid on 'valid' subset | valid_loss ...`` lines; so is the position after an epoch's
own in minimind's ``Epoch:[0/19](100/24681) loss:...``. Lines that
start (after a log prefix) with a step counter (``Iteration 5, loss = 0.41``, ``global
step 100: loss = 0.66``, ``Step 280: Train accuracy = 100.0%``) are per-step lines, and so
are gradient-boosting eval lines after a round ``[N]`` (XGBoost's ``[500]  eval-logloss:0.419
train-logloss:0.160``, LightGBM's ``[10]  training's binary_logloss: 0.3``).
Clocks, memory, ``eta`` and sample counts (``(N=100)``) are not metrics, nor are
settings printed as tuples (``imgsize (640, 640)``), a phase word's position (``Train:
1/3``) and ``*_iter`` counters; a qualifier run into a name is part of it
(``lr(PiecewiseDecay): 0.001`` is the lr). Chinese prints read with their full-width
punctuation as ASCII and their counters and metric names (``训练次数``, ``第 1 轮``,
``验证损失``) in English.
A line with more words than its values explain is prose, not a record. Epoch prints glued
on one line, padded with spaces (``Epoch... (2/116 | Loss: 0.43)   Epoch... (3/116 | ...``), are
split.

A record without epoch numbers (``train loss: 1.10`` once per epoch), or one that is a
window inside one epoch, is read point by point: each logged step (or line) is a
point, numbered by its printed step (a tqdm bar's position) when the first point has
one and they rise (a line without a step, like Caffe's ``Train net output #0: accuracy
= 0.78`` or a validation bar's update, adds to the step before it), else from 1.

Names are mapped to canonical series (``Training Loss`` -> ``loss``, ``Validation
Accuracy`` -> ``val_accuracy``, ``Valid Loss`` -> ``val_loss``); other metrics keep
their names; a name with its own phase (``eval-logloss``, ``valid_1's auc``) keeps it. Of
numbered eval sets (``validation_0``, ``validation_1``) the first is the validation, later
ones keep their number (``val_1_auc``). A record without ``loss`` reads a detector's
``total_loss`` or a log loss (``logloss``, ``binary_logloss``, ``mlogloss``,
``cross_entropy``...) as its loss. ``test``
metrics count as validation only when the log has no other validation metric. Epochs are
numbered as printed; an epoch printed again after later ones (a resumed run) keeps its
last write and gives a ``resume`` event. A cut last line is ignored with a note.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..names import (
    TEST_AS_VALIDATION_NOTE,
    canonical,
    first_eval_set_as_validation,
    is_bookkeeping,
    is_metric_name,
    stand_in_loss,
    stand_in_loss_note,
    test_as_validation,
)
from ..run import Run, build_run
from .numbers import NUMBER_PATTERN, index_or_none, parse_number
from .steps import CompleteLines
from .stitch import EpochRows
from .tables import Row, Table
from .textio import clean

FORMAT = "text-log"
MIN_POINTS = 2  # a record of free text: one number near the word epoch is prose

_PHASES = {
    "train": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val", "eval": "val", "evaluation": "val",
    "test": "test", "testing": "test",
}  # fmt: skip
_PHASE_WORD = "|".join(sorted(_PHASES, key=len, reverse=True))
PAIR = re.compile(
    rf"(?<![\w./@-])(?:({_PHASE_WORD})\s+)?([A-Za-z][\w./@-]*)\s*(?:[:=]|\s(?:is|was|of)\s)?\s*(?<![\w.@-])({NUMBER_PATTERN})(?:\s*/\s*(\d+))?(%)?(?!\w|\.\w)",
    re.I,
)
EPOCH_WORD = re.compile(r"(?<![\w.])epoch(?![a-z])", re.I)
_PHASE_AT = re.compile(rf"(?<![\w.])({_PHASE_WORD})(?:\b|_)", re.I)
_ROUND = re.compile(r"\[(\d+)\](?=\s*[A-Za-z])")  # a boosting round: "[500]\teval-logloss:0.41906"
# what a line without an epoch opens with: a phase word ("train loss 0.4", an epoch's summary
# "Mean Training loss : 0.4"), a step counter ("Iteration 5, loss = 0.4", "global step 100:
# loss = 0.66", "Step 280: Train accuracy = 100%") or a round
_OPENING = re.compile(
    rf"(?<![\w.])(?:(?:mean|average|avg)\s+)?({_PHASE_WORD})(?:\b|_)|(?<![\w.])(?:global[ _])?(?:step|iter(?:ation)?)(?=[\s:=\[]*\d)|{_ROUND.pattern}",
    re.I,
)
# mmengine's "Epoch(train) [1][10/90]" and "Epoch(val) [1][10/10]": the phase of the line
_TAGGED_EPOCH = re.compile(rf"(?<![\w.])epoch\(({_PHASE_WORD})\)", re.I)
# fairseq's "| valid on 'valid' subset  1000 / 1311 loss=3.24": a validation line, read as
# "| valid loss=3.24" (the position inside the validation is no metric)
_SUBSET = re.compile(rf"(?<![\w.])({_PHASE_WORD}) on '[^']*' subset(?:\s+\d+\s*/\s*\d+)?", re.I)
# the step right after the epoch number: fairseq's "epoch 001:    450 / 1891 loss=...",
# minimind's "Epoch:[0/19](100/24681) loss:..."
_POSITION = re.compile(r"[\s:|\])]*\(?\s*(\d+)\s*/\s*\d+\)?(?=\s+[A-Za-z])")
_PHASE_BEFORE = re.compile(rf"(?<![\w.])({_PHASE_WORD})\s*$", re.I)
_PHASE_PREFIX = re.compile(rf"({_PHASE_WORD})[_/.-]", re.I)
# LightGBM's "training's binary_logloss", "valid_1's auc": read as "training-binary_logloss"
_POSSESSIVE_PHASE = re.compile(rf"(?<![\w.])((?:{_PHASE_WORD})(?:_\d+)?)'s\s+", re.I)
_TABLE_RULE = re.compile(r"^[\s|:+=-]*$")
_BRACKETS = re.compile(r"[\[\](){}<>]")
# a qualifier run into a name belongs to it: "lr(PiecewiseDecay): 0.001" is the lr
_QUALIFIER = re.compile(r"(?<=\w)\([A-Za-z][\w-]*\)")
# a tuple of numbers is a setting, not a metric: "imgsize (640, 640)"
_TUPLE = re.compile(rf"(?<![\w.-])[A-Za-z][\w.-]*\s*\(\s*{NUMBER_PATTERN}(?:\s*,\s*{NUMBER_PATTERN})+\s*\)")
# "fps per card: 4.47": one name
_PER = re.compile(r"(?<![\w.])([A-Za-z]\w*)\s+per\s+([A-Za-z]\w*)")
# full-width punctuation of Chinese prints ("训练次数：100, Loss：1.98") read as ASCII
_FULL_WIDTH = str.maketrans("：，（）；", ":,();")
# Chinese counters and metric names, longest first: "第 1 轮" opens epoch 1
_CHINESE_EPOCH = re.compile(r"第\s*(\d+)\s*轮次?")
_CHINESE_NAMES = {
    "训练次数": "step", "迭代次数": "step", "步数": "step", "轮次": "epoch", "轮": "epoch",
    "验证集损失": "val_loss", "验证损失": "val_loss", "训练损失": "loss", "损失": "loss",
    "验证集准确率": "val_accuracy", "验证准确率": "val_accuracy", "训练准确率": "accuracy", "准确率": "accuracy",
}  # fmt: skip
_CHINESE_NAME = re.compile("|".join(sorted(_CHINESE_NAMES, key=len, reverse=True)))
_QUOTED = re.compile(r"^\s*(?:#+|//|>+)\s?")  # a log pasted into code comments or a quote
# what a logging prefix holds: tags ("[LibSVM]"), dates, clocks, levels and the logger after
# them ("INFO:tensorflow:", log4j's "ERROR RabitTracker$TrackerProcessLogger:"), thread ids, file:line, logger names
_LOG_PREFIX = re.compile(
    r"\[[A-Za-z][\w.-]*\]|[\d\s\[\]().,:;|/+*-]+|\b(?:INFO|DEBUG|WARNING|WARN|ERROR|CRITICAL)\b(?::[\w.]+:|\s+[\w.$]+:)?|\b(?:root|__main__)\b"
    r"|\b[IWEF](?=\d)|[\w.-]+\.(?:py|cc|cpp)\b|\bT(?=\d)"
    r"|\b[a-z]\w*(?:\.\w+)+\b|\beta\b"  # a dotted logger name (d2.utils.events), a progress ETA
)
_WORD = re.compile(r"[A-Za-z]{2,}")
_LETTER = re.compile(r"[A-Za-z]")
# where a checkpoint message starts: the values after it are the monitor's, not the epoch's
# ("Epoch 0, global step 18: 'val_loss' reached 9.61 (best 9.61), saving model to ...")
_CHECKPOINT = re.compile(r"'?\w*'?\s+(?:reached|improved from|was not in top)\b|\bsaving (?:model|checkpoint|to)\b", re.I)
# a tqdm bar: "desc: 100%|####| 782/782 [01:12<00:00, 10.8it/s, loss=0.41]" (the bar may be missing)
_BAR = re.compile(r"(\d{1,3})%(?:\|[^|\n]*\|)?\s*(\d+)/(\d+)\s*\[([^\]]*)\]")
_BAR_TIMING = re.compile(r"^[^,]*<[^,]*(?:,\s*[\d.]+\s*[smh]?/?it(?:/s)?)?")
# MXNet's "Time cost=85.5", TF retrain's "Cross entropy = 0.0112"
_TWO_WORDS = {"learning rate": "learning_rate", "time cost": "time_cost", "cross entropy": "cross_entropy"}
_TWO_WORD = re.compile(r"\b(?:" + "|".join(_TWO_WORDS) + r")\b", re.I)
_EPOCH_NAMES = {"epoch", "ep"}
# "[1,  2000] loss: 2.235": the PyTorch tutorial's "[epoch, batch]" prefix
BRACKET_EPOCH = re.compile(r"^\s*\[\s*(\d+)\s*,\s*(\d+)\s*\]")
_COUNTER = re.compile(r"\[\s*(\d+)\s*/\s*\d+")  # "[640/60000 (1%)]": a position inside the epoch
_PROGRESS = re.compile(r"\[\s*\d{1,3}(?:\.\d+)?\s*%\s*\]")  # "Epoch 1 complete [10%]": one too, not a metric
_STEP_NAMES = {"step", "steps", "batch", "iter", "iters", "iteration", "it", "global_step"}
_NOT_METRICS = {
    "eta", "v_num", "dataloader", "n",
    "from", "to", "of", "is", "was", "at", "in", "on", "by", "after", "took", "for", "with", "and", "than",
}  # fmt: skip


_SNIFF_RECORDS = 20
_HEAD = re.compile(r"\D+")  # what a line says before its first number: "Epoch... ("


@dataclass
class _Record:
    epoch: int | None
    metrics: dict[str, float]
    per_step: bool
    step: float | None = None  # the printed step, batch or iteration of a per-step line
    opens_table: bool = False  # the first row under a header: a repeated epoch is a restart
    own_epoch: bool = False  # the line itself prints the epoch number
    from_bar: bool = False  # a tqdm bar's postfix: running values an epoch's summary line outranks
    evaluation: bool = False  # a validation line of its epoch: in a window of steps, a point


def sniff(source) -> float:
    parser = _Parser()
    records = []
    for line in source.head.splitlines():
        for piece in _unglued(clean(line)):
            record = parser.parse(piece)
            if record is not None:
                records.append(record)
        if len(records) >= _SNIFF_RECORDS:
            break  # enough to judge: the rest of the head is not parsed
    if len(records) >= 3:
        # every line naming its own epoch ("epoch [3]: loss: 0.4 - val_loss: 0.5"): more
        # sure than the Keras reader, which would number such lines from 1
        return 0.75 if all(r.own_epoch and not r.per_step for r in records) else 0.5
    return 0.2 if records else 0.0


def read(source) -> Run:
    parser = _Parser()
    records: list[_Record] = []
    with source.open_text() as fh:
        lines = CompleteLines(fh)
        for line in lines:
            records.extend(r for r in map(parser.parse, _unglued(clean(line))) if r is not None)
    notes = [f"no epoch numbers: epochs counted from the {parser.counted}, from 1"] if parser.counted else []
    if lines.cut is not None and parser.parse(clean(lines.cut)) is not None:
        notes.append(lines.cut_note())
    epochs = {r.epoch for r in records if r.epoch is not None}
    info: dict = {}
    if len(epochs) < 2 and sum(1 for r in records if r.per_step or r.epoch is None) >= 2:
        rows = _by_point(records, epochs, notes, info)
    else:
        rows = _by_epoch(records, notes)
    metrics = _without_counters(rows.rows)
    table = test_as_validation(metrics)
    if table is not metrics:
        notes.append(TEST_AS_VALIDATION_NOTE)
    table = first_eval_set_as_validation(table)
    table, stand_in = stand_in_loss(table)
    if stand_in:
        notes.append(stand_in_loss_note(stand_in))
    for name in _percent_accuracies(table):
        for row in table.values():
            if name in row:
                row[name] /= 100
        notes.append(f"{name} is printed in percent: read as a fraction")
    return build_run(table, source=source.name, format=FORMAT, events=rows.events, planned_epochs=parser.planned, notes=notes, info=info)


def _by_epoch(records: list[_Record], notes: list[str]) -> EpochRows:
    """Epoch rows: an epoch's own lines (a summary line outranks a finished tqdm bar,
    NaN included, whichever comes first), and the mean of its per-step lines for the
    metrics those do not print (noted for a last epoch with per-step lines only: the
    log may end inside it)."""
    rows = EpochRows()
    pending_epoch, pending = None, {}
    ranks: dict[str, int] = {}  # the rank of each metric the current epoch's own lines printed

    def flush():
        if pending:
            rows.add(pending_epoch, {k: math.fsum(v) / len(v) for k, v in pending.items() if k not in ranks}, merge=True)
            pending.clear()

    for record in records:
        if record.epoch is None:
            continue
        if record.epoch != pending_epoch or record.opens_table:
            flush()
            pending_epoch = record.epoch
            ranks.clear()
        if record.per_step:
            for k, v in record.metrics.items():
                pending.setdefault(k, []).append(v)
        else:
            flush()
            rank = 1 if record.from_bar else 2
            kept = {k: v for k, v in record.metrics.items() if ranks.get(k, rank) <= rank}
            ranks.update(dict.fromkeys(kept, rank))
            rows.add(record.epoch, kept, merge=not record.opens_table)
    if pending:
        notes.append(f"epoch {pending_epoch} is read from its per-step lines up to the end of the log (it may be partial)")
    flush()
    return rows


def _by_point(records: list[_Record], epochs: set[int], notes: list[str], info: dict) -> EpochRows:
    """Rows of a record without two epochs: one per logged step (or line). Lines that
    add other metrics to the same point (a train and a test line) are merged."""
    points = [r for r in records if r.per_step or r.epoch is None or r.evaluation]
    steps = [r.step for r in points if r.step is not None]
    numbered = (
        points[0].step is not None
        and all(index_or_none(s) is not None for s in steps)
        and all(a <= b for a, b in zip(steps, steps[1:]))
    )
    rows = EpochRows()
    n, current = 0, {}
    for record in points:
        if numbered:
            if record.step is not None:
                n = int(record.step)
            rows.add(n, record.metrics, merge=True)  # a line without a step adds to the step before it
            continue
        if not current or set(current) & set(record.metrics):
            n, current = n + 1, {}
        current.update(record.metrics)
        rows.add(n, record.metrics, merge=True)
    where = f"a window inside epoch {next(iter(epochs))}" if epochs else "no epoch numbers"
    count = "each logged step is one point, numbered as printed" if numbered else "each logged line is one point, numbered from 1"
    notes.append(f"{where}: {count}")
    info["x_axis"] = "step"
    return rows


class _Parser:
    """Turns lines into :class:`_Record`, keeping the state that spans lines: the open
    epoch and a table header."""

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.fresh_epoch = False  # an "Epoch N" line no table row or bar has used yet
        self.table: Table | None = None
        self.table_rows = 0  # rows read under the current header
        self.planned: int | None = None
        self.train_total: int | None = None  # the step count of the first tqdm bar: training's
        self.last_bar: tuple | None = None
        self.counted: str | None = None  # what the epochs were counted from, when the record has none

    def parse(self, line: str) -> _Record | None:
        line = _QUOTED.sub("", line, count=1)
        if self.table is not None:
            if _TABLE_RULE.match(line):
                return None
            row = self.table.row(line)
            if row is True:
                return None
            if row is not None:
                return self._table_record(row)
            self.table = None
        line = _chinese_as_ascii(line)
        if not _LETTER.search(line):
            return None  # numbers alone are a row only under a header
        table = Table.parse(line)
        if table is not None:
            self.table, self.table_rows = table, 0
            return None
        line = _TWO_WORD.sub(lambda m: _TWO_WORDS[m.group().lower()], line)
        line = _POSSESSIVE_PHASE.sub(r"\1-", line)
        tagged = _TAGGED_EPOCH.search(line)
        if tagged:  # "Epoch(val) [1]" read as "val Epoch [1]": a validation line is the epoch's evaluation
            line = f"{line[: tagged.start()]}{tagged.group(1)} Epoch{line[tagged.end():]}"
        subset = _SUBSET.search(line)
        if subset:
            line = f"{line[: subset.start()]}{subset.group(1)}{line[subset.end():]}"
        phase_tag = tagged or subset
        evaluation = phase_tag is not None and _PHASES[phase_tag.group(1).lower()] != "train"
        line = _PER.sub(r"\1_per_\2", _TUPLE.sub(" ", _QUALIFIER.sub("", line)))
        bar = _BAR.search(line)
        update = bar is not None and bar.group(2) != bar.group(3)  # an unfinished bar's: a per-step line
        if update and line[bar.end():].strip():
            line, bar, update = line[bar.end():], None, False  # a print glued to an unfinished bar: only it counts
        if bar:
            line = self._bar_line(line, bar)
            if line is None:
                return None
        bracket = BRACKET_EPOCH.match(line)
        if bracket and index_or_none(bracket.group(1)) is not None:
            self.epoch = int(bracket.group(1))
            metrics = _metrics(_pairs(line[bracket.end():]))
            return _Record(self.epoch, metrics, True, float(bracket.group(2))) if metrics else None
        progress = _PROGRESS.search(line)
        if progress:
            line = line[: progress.start()] + line[progress.end():]
        found = EPOCH_WORD.search(line)
        counted_from = 0  # where a step counter may start: after the epoch's own "[127/300]"
        if found:
            text = _CHECKPOINT.split(line[found.start():], maxsplit=1)[0]
            before = _PHASE_BEFORE.search(line[: found.start()])  # "Valid Epoch: 3 Loss: 0.4"
            pairs = _pairs(text, _PHASES[before.group(1).lower()] if before else None)
            if not pairs or pairs[0][0] not in _EPOCH_NAMES or index_or_none(pairs[0][1]) is None:
                return None
            (_, epoch, planned), pairs = pairs[0], pairs[1:]
            counted_from = found.start() + PAIR.search(_BRACKETS.sub(" ", text)).end()
            self.epoch, self.fresh_epoch = int(epoch), True
            if planned:
                self.planned = max(planned, self.planned or 0)
        else:
            opening = _OPENING.search(line)
            if opening is None or not _is_log_prefix(line[: opening.start()]):
                return None
            text = _CHECKPOINT.split(line[opening.start():], maxsplit=1)[0]
            phase = opening.group(1)
            pairs = _pairs(text, _PHASES[phase.lower()] if phase else None)
        metrics = _metrics(pairs)
        if not metrics or _is_prose(text, len(pairs)):
            return None
        step = next((v for name, v, _ in pairs if _is_counter(name)), None)
        counter = _COUNTER.search(line, counted_from) or _ROUND.match(text) or (found and _POSITION.match(line, counted_from))
        if step is None and counter:
            step = float(counter.group(1))
        per_step = (step is not None or counter is not None or progress is not None or update) and not evaluation
        return _Record(self.epoch, metrics, per_step, step, own_epoch=found is not None, from_bar=bar is not None, evaluation=evaluation)

    def _bar_line(self, line: str, bar: re.Match) -> str | None:
        """A tqdm bar as a plain line: its description, then its postfix metrics. An
        update of an unfinished bar that names its epoch is a line at the bar's step; one
        of a validation bar adds to the training step it runs at. A finished bar gets
        ``val`` in front when it has another step count than the first (training's), and
        an epoch counted when it is training's and names none."""
        done, total = int(bar.group(2)), int(bar.group(3))
        desc, postfix = line[: bar.start()], _BAR_TIMING.sub("", bar.group(4))
        if done != total:
            phase = _PHASE_AT.search(desc)
            if phase and _PHASES[phase.group(1).lower()] != "train":
                return f"{desc} {postfix}"
            if EPOCH_WORD.search(desc):
                return f"{desc} step={done} {postfix}"
            return None  # the epoch of a training bar that names none is not known before it finishes
        if (desc, total, postfix) == self.last_bar:
            return None  # tqdm's refresh on close repeats the finished bar
        self.last_bar = (desc, total, postfix)
        if self.train_total is None:
            self.train_total = total
        if not _PHASE_AT.search(desc) and total != self.train_total:
            desc = "val " + desc
        elif not EPOCH_WORD.search(desc) and (total == self.train_total or desc.lower().startswith("train")):
            if not self.fresh_epoch:
                self.epoch, self.counted = (self.epoch or 0) + 1, "tqdm training bars"
            self.fresh_epoch = False
            desc = desc if _PHASE_AT.search(desc) else "train " + desc
        return f"{desc} {postfix}"

    def _table_record(self, row: Row) -> _Record | None:
        epoch = row.epoch if row.epoch is not None else row.index
        if epoch is None and self.fresh_epoch:
            epoch = self.epoch  # values under an "Epoch N" line
        elif epoch is None and row.step is None:
            epoch, self.counted = (self.epoch or 0) + 1, "table rows"  # a header, then values only
        self.fresh_epoch = False
        metrics = {k: v for k, v in row.metrics.items() if not is_bookkeeping(k) or k == "lr"}
        if epoch is not None and index_or_none(epoch) is None:
            epoch = None  # fractional (or absurd) epochs: the rows are steps
        self.table_rows += 1
        if epoch is not None:
            self.epoch = int(epoch)
            return _Record(self.epoch, metrics, False, row.step, opens_table=self.table_rows == 1)
        return _Record(None, metrics, row.step is not None, row.step)


def _unglued(line: str) -> list[str]:
    """The prints of a line that holds several, padded with spaces where the newline went
    missing: an epoch line's head repeated after a run of spaces, then a number
    (``Epoch... (2/116 | Loss: 0.43)      Epoch... (3/116 | Loss: 0.26)``)."""
    head = _HEAD.match(line)
    if head is None or not EPOCH_WORD.search(head.group()) or line.find(head.group(), head.end()) < 0:
        return [line]
    return re.split(rf"\s{{2,}}(?={re.escape(head.group())}\d)", line)


def _chinese_as_ascii(line: str) -> str:
    """A Chinese print's punctuation, counters and metric names in ASCII (spaced apart
    from the characters around them)."""
    line = _CHINESE_EPOCH.sub(r" epoch \1 ", line.translate(_FULL_WIDTH))
    return _CHINESE_NAME.sub(lambda m: f" {_CHINESE_NAMES[m.group()]} ", line)


def _is_counter(name: str) -> bool:
    """A step, batch or iteration count: ``iter``, OpenPCDet's ``Acc_iter``."""
    return name in _STEP_NAMES or name.endswith(("_iter", "_iters"))


def _metrics(pairs) -> dict[str, float]:
    return {name: value for name, value, _ in pairs if not _is_counter(name) and name not in _EPOCH_NAMES and (name == "lr" or not is_bookkeeping(name))}


def _is_log_prefix(text: str) -> bool:
    """Whether ``text`` holds only what a logging prefix holds (time, level, place)."""
    return not _LOG_PREFIX.sub("", text).strip()


def _is_prose(text: str, pairs: int) -> bool:
    """More words than a log line's names and phase words explain: a sentence."""
    words = [w for w in _WORD.findall(PAIR.sub(" ", text)) if w.lower() not in _PHASES and w.lower() not in _EPOCH_NAMES]
    return len(words) > 2 + 2 * pairs


def _pairs(text: str, phase: str | None = None) -> list[tuple[str, float, int | None]]:
    """``(canonical name, value, denominator of N/M)`` of the ``name value`` pairs;
    ``phase`` is the set a line's leading word names (``Test set: Average loss: ...``).
    A metric printed as ``9680/10000`` or ``97.1%`` is read as a fraction."""
    out = []
    for match in PAIR.finditer(_BRACKETS.sub(" ", text)):
        word, name, value, planned, percent = match.groups()
        name = name.rstrip(".")  # "Epoch... (1/116": the dots end the word
        if name.lower() in _NOT_METRICS:
            continue
        if word:
            phase = _PHASES[word.lower()]
        low = name.lower()
        if low in _PHASES and planned:
            continue  # "Train: 1/3 ( 33%)": a progress position
        if low in _EPOCH_NAMES or _is_counter(low):
            out.append((low, float(value), index_or_none(planned) if planned else None))
            continue
        full = f"{phase}_{name}" if phase and not _PHASE_PREFIX.match(name) else name
        number = parse_number(value)
        if planned and float(planned) > 0:
            number /= float(planned)
        elif percent:
            number /= 100
        out.append((canonical(full), number, None))
    return out


def _without_counters(rows: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
    """Rows without the series that count something (``Eit 12400``, ``12500``...): under
    a name that is no loss or accuracy, whole numbers rising by the same step at every
    point are an iteration counter, not a metric."""
    names = {k for row in rows.values() for k in row if not is_metric_name(k)}
    counters = set()
    for name in names:
        values = [row[name] for row in rows.values() if name in row]
        steps = {b - a for a, b in zip(values, values[1:])}
        if len(values) >= 3 and len(steps) == 1 and steps.pop() >= 1 and all(float(v).is_integer() for v in values):
            counters.add(name)
    if not counters:
        return rows
    return {epoch: {k: v for k, v in row.items() if k not in counters} for epoch, row in rows.items()}


def _percent_accuracies(rows: dict[int, dict[str, float]]) -> list[str]:
    """Accuracy columns printed as percentages without a % sign (values above 1, at most 100)."""
    names = sorted({k for row in rows.values() for k in row if k.endswith("accuracy")})
    out = []
    for name in names:
        values = [row[name] for row in rows.values() if name in row and math.isfinite(row[name])]
        if values and max(values) > 1.0 and max(values) <= 100.0 and min(values) >= 0.0:
            out.append(name)
    return out
