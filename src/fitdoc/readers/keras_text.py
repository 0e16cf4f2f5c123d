"""Keras ``fit`` output as printed or pasted: Keras 1/2 (``[=====]`` bars, ``acc``),
tf.keras 2.x, Keras 3 (``━━━`` bars; verbose=1 raw with ``\\r``, ``\\b`` and ANSI codes;
verbose=2 lines), callback messages, logs pasted into markdown, wrapped lines,
windows from the middle of a run and ``tee``/cluster logs with other output mixed in.
A record that starts again at its first epoch with a fresh model's loss holds several
``fit`` calls (a notebook training variants): each is its own run (``path#2``...); any
other step back is a resumed run, stitched keeping the last write.

Epochs are numbered as the ``Epoch N/M`` headers print them. The summary line of an
epoch is the last complete progress line (``12/12``) of its block; progress updates
of an unfinished step count, and ``evaluate`` output printed after a validated epoch
line, are not epoch summaries. A record of progress updates inside one epoch and no
header (a paste of a bar's lines) is read by step, each update one point. Comment or quote
marks in front of pasted lines (``# ``, ``> ``, ``>>> ``) are ignored. The file is
streamed, one screen update at a time.
"""

from __future__ import annotations

import re
from itertools import islice

import numpy as np

from ..errors import UnreadableRecord
from ..names import canonicalize_keys
from ..run import Event, Run, Series, build_run
from . import keras_fast
from .numbers import NUMBER_PATTERN, index_or_none
from .steps import CompleteLines
from .stitch import EpochRows
from .textio import clean, screen_segments

FORMAT = "keras-text"
MIN_HEADERLESS = 3  # summary lines a record without any "Epoch N/M" header needs

# "Epoch 3/20", or "Epoch 3 - 12s - loss: ..." / "Epoch 3- ..." with the metrics on the line
HEADER = re.compile(r"\bEpoch\s+(\d+)\s*(?:/\s*(\d+)|(?=-\s|\s+-\s))")
CALLBACK = re.compile(r"^\W*Epoch\s+0*(\d{1,15})\s*:\s*(.+)$")
PROGRESS = re.compile(r"^\s*(\d{1,15})/(\d{1,15})\b")
PAIR = re.compile(r"(?<![\w/.])([A-Za-z_][\w./@-]*)\s*:\s*(" + NUMBER_PATTERN + r")(?![\w.])")
DASH_PAIR = re.compile(r"(?:^|\s)-\s+[A-Za-z_][\w./@-]*\s*:\s*" + NUMBER_PATTERN)
SAMPLES = re.compile(r"Train on (\d{1,15}) samples(?:, validate on (\d{1,15}) samples)?")
LR_CHANGE = re.compile(r"(?:reducing|setting) learning rate to\s*(" + NUMBER_PATTERN + ")", re.I)
RESTORE = re.compile(r"Restoring model weights from the end of the best epoch(?::\s*(\d{1,15})\b)?", re.I)
NAN_STOP = re.compile(r"Batch \d+: Invalid loss, terminating training")
IMPROVED = re.compile(r"(\S+) improved from \S+ to (" + NUMBER_PATTERN + ")")
_NOT_METRICS = {"eta", "epoch", "batch", "step", "steps", "time"}
# what feed looks for in a line besides progress: headers and callback messages, restored
# weights, TerminateOnNaN, sample counts
_OTHER_WORDS = ("Epoch", "Restoring model weights", "terminating training", "Train on")
# Where one screen line holds several updates (a lost \r, a callback message printed
# mid-line): before an "Epoch N:"/"Epoch N/M" or an "N/M [" / "N/M ━" progress prefix.
# Logs pasted into code comments, quotes or REPL sessions: "# 12/12 ...", "> Epoch 3/9".
QUOTED = re.compile(r"^\s*(?:#+|//|>+|\.\.\.|>>>)\s?")
GLUED_STEPS = re.compile(r"/(\d+)\s*(?:\[|━)")  # what follows "Epoch 2/10" glued to "782/782 ["
GLUED = re.compile(r"(?:\s+|(?<=[^\d\s/]))(?=Epoch\s+\d+\s*[:/]|\d+/\d+\s*(?:\[|━))")


def sniff(source) -> float:
    head = source.head
    headers, dash_lines = (len(list(islice(p.finditer(head), 2))) for p in (HEADER, DASH_PAIR))  # 2 are enough
    if headers and dash_lines:
        return 0.95
    if dash_lines >= 2 and "loss" in head:
        return 0.7
    return 0.4 if headers >= 2 else 0.0


def metric_pairs(segment: str) -> dict[str, float]:
    """``{name: value}`` of the ``name: value`` pairs in a Keras progress line."""
    return {
        name: float(value)  # what parse_number makes of a NUMBER_PATTERN match
        for name, value in PAIR.findall(segment)
        if name.lower() not in _NOT_METRICS
    }


def _one_bar(line: str) -> bool:
    """No digit follows a "/" after the first: the line holds no second ``N/M`` bar for
    :meth:`_Parser.feed` to split off (a ``GLUED`` search costs more)."""
    at = line.find("/", line.find("/") + 1)
    while at >= 0:
        if line[at + 1 : at + 2].isdigit():
            return False
        at = line.find("/", at + 1)
    return True


def _is_complete(segment: str) -> bool:
    progress = PROGRESS.match(segment)
    return progress is None or progress.group(1) == progress.group(2)


def _looks_like_metrics(segment: str) -> bool:
    return bool(DASH_PAIR.search(segment) or (PROGRESS.match(segment) and PAIR.search(segment)))


class _Block:
    """The lines of one epoch: its header number and its candidate summary line."""

    def __init__(self, epoch: int | None, *, keeps_updates: bool = False):
        self.epoch = epoch
        # {step: metrics} of the unfinished steps, kept for a record without headers
        self.updates: dict[int, dict[str, float]] | None = {} if keeps_updates else None
        self.total: int | None = None  # step count of the first progress line
        self.summary: dict[str, float] | None = None
        self.summary_text = ""
        self.partial = False  # saw progress of an unfinished step count only

    def offer(self, segment: str) -> None:
        progress = PROGRESS.match(segment)
        if progress:
            done, total = int(progress.group(1)), int(progress.group(2))
            if self.total is None:
                self.total = total
            elif total != self.total:
                return  # evaluate()/predict() output with another step count
            if done < total:
                if self.updates is not None and (pairs := metric_pairs(segment)):
                    self.updates[done] = pairs
                self.partial = self.summary is None
                return
        pairs = metric_pairs(segment)
        if not pairs:
            return
        has_val = any(k.startswith("val_") for k in pairs)
        if self.summary and any(k.startswith("val_") for k in self.summary) and not has_val:
            return  # a line without validation after the validated summary: not this epoch's
        self.summary, self.summary_text = pairs, segment
        self.partial = False

    def continue_with(self, segment: str) -> bool:
        """Join a wrapped summary line; True if ``segment`` was a continuation (it
        repeats none of the summary's metrics)."""
        if not self.summary_text or set(metric_pairs(segment)) & set(self.summary):
            return False
        prev, cur = self.summary_text, segment.strip()
        if re.search(r"[A-Za-z_]$", prev) and re.match(r"[A-Za-z_][\w./-]*\s*:\s*" + NUMBER_PATTERN, cur):
            joined = prev + cur
        elif re.match(r"-\s+[A-Za-z_]", cur) or prev.endswith((":", "-")):
            joined = prev + " " + cur
        else:
            return False
        self.summary, self.summary_text = metric_pairs(joined), joined
        return True


class _Parser:
    def __init__(self, name: str):
        self.name = name
        self.blocks: list[_Block] = [_Block(None, keeps_updates=True)]
        self.events: list[tuple[int, Event]] = []  # (index of the block it was printed in, event)
        self.planned: int | None = None
        self.info: dict = {}

    @property
    def block(self) -> _Block:
        return self.blocks[-1]

    def feed(self, line: str) -> None:
        for segment in GLUED.split(QUOTED.sub("", line, count=1)):
            self._feed(segment)

    def feed_update(self, line: str) -> None:
        """:meth:`feed`, sooner for a progress update of the current epoch that holds none
        of the other things it looks for (a first ``N/M`` rules out a quote mark)."""
        plain = line[:1].isdigit() and not any(w in line for w in _OTHER_WORDS) and _one_bar(line) and PROGRESS.match(line)
        if self.block.epoch is None or not plain:
            self.feed(line)
        elif _looks_like_metrics(line):
            self.block.offer(line)

    def _feed(self, segment: str) -> None:
        if not segment.strip() or segment.lstrip().startswith("```"):
            return
        header = HEADER.search(segment)
        if header:
            epoch = index_or_none(header.group(1))
            if epoch is None:
                raise UnreadableRecord(self.name, f"{header.group(0)[:40]!r}: epoch number out of range")
            planned, rest = header.group(2), segment[header.end():]
            glued = GLUED_STEPS.match(rest)
            if planned and glued and len(planned) > len(glued.group(1)) and planned.endswith(glued.group(1)):
                # "Epoch 2/10782/782 [===": the line break after "Epoch 2/10" was lost
                planned, rest = planned[: -len(glued.group(1))], glued.group(1) + rest
            self.header(epoch, planned)
            if rest.strip():
                self._feed(rest)
            return
        callback = CALLBACK.match(segment)
        if callback:
            self._callback(int(callback.group(1)), callback.group(2))
            return
        if "Restoring model weights" in segment:
            best = RESTORE.search(segment)
            epoch = int(best.group(1)) if best and best.group(1) else None
            self._event(Event(epoch, "restore_best", None, segment.strip()))
            return
        if NAN_STOP.search(segment):
            self._event(Event(self.block.epoch, "terminate_on_nan", None, segment.strip()))
            return
        samples = SAMPLES.search(segment)
        if samples:
            self.info["train_samples"] = int(samples.group(1))
            if samples.group(2):
                self.info["val_samples"] = int(samples.group(2))
            return
        if not PROGRESS.match(segment) and self.block.continue_with(segment):
            return
        if _looks_like_metrics(segment):
            if self.block.epoch is None and self.block.summary and _is_complete(segment):
                self.blocks.append(_Block(None))  # no headers: each complete line is an epoch
            self.block.offer(segment)

    def header(self, epoch: int, planned: str | None) -> None:
        """Start the block of an ``Epoch 3/20`` header (``planned``: "20")."""
        self.blocks.append(_Block(epoch))
        if planned:
            self.planned = index_or_none(planned)

    def _callback(self, epoch: int, text: str) -> None:
        lr = LR_CHANGE.search(text)
        if lr:
            value = float(lr.group(1))
            previous = [e.value for _, e in self.events if e.type == "lr_change"]
            if not previous or previous[-1] != value:  # a scheduler repeats an unchanged rate
                self._event(Event(epoch, "lr_change", value, text.strip()))
        elif "early stopping" in text.lower():
            self._event(Event(epoch, "early_stopping", None, text.strip()))
        else:
            improved = IMPROVED.search(text)
            if improved:
                self._event(Event(epoch, "checkpoint", float(improved.group(2)), text.strip()))

    def _event(self, event: Event) -> None:
        self.events.append((len(self.blocks) - 1, event))

    def runs(self) -> list[Run]:
        """One run per ``fit``: a record that starts again from its first epoch with a
        fresh model's loss holds several fits; any other step back is a resume."""
        if any(isinstance(b, keras_fast.Records) for b in self.blocks) and not _ascending(self.blocks):
            self._expand()
        indexed = [(i, b) for i, b in enumerate(self.blocks) if b.summary or b.partial or b.epoch is not None]
        if not indexed:  # callback messages only (a log cut before its first epoch line)
            raise UnreadableRecord(self.name, "Keras callback messages but no epoch summary lines with metrics")
        if all(b.epoch is None for _, b in indexed) and len(indexed) < MIN_HEADERLESS:
            steps = self._steps_of_first_block()
            if len(indexed) == 1 and len(steps) >= MIN_HEADERLESS:
                return [self._steps_run(steps)]
            # "loss: inf - val_loss: nan" quoted in a sentence of a document
            raise UnreadableRecord(self.name, f"not a training record: {len(indexed)} Keras-like metric line(s) and no 'Epoch N/M' header")
        notes = self._number_leading([b for _, b in indexed])
        fits, current, blocks = [], [], []  # blocks: the current fit's blocks, kept alongside
        for item in indexed:
            if current and _fresh_start(blocks, item[1]):
                fits.append(current)
                current, blocks = [], []
            current.append(item)
            blocks.append(item[1])
        fits.append(current)
        runs = []
        for n, fit in enumerate(fits, 1):
            first = fit[0][0]
            later = fits[n][0][0] if n < len(fits) else len(self.blocks)
            events = [e for at, e in self.events if (first if n > 1 else 0) <= at < later]
            name = self.name if len(fits) == 1 else f"{self.name}#{n}"
            runs.append(self._run(name, [b for _, b in fit], events, notes if n == 1 else [], last_fit=n == len(fits)))
        if len(fits) > 1:
            runs[0].notes.append(f"the record holds {len(fits)} separate fits: one report each")
        return runs

    def _expand(self) -> None:
        """One block per record of each :class:`keras_fast.Records`, each event kept at
        the last block of what it was printed after."""
        blocks, last = [], []
        for block in self.blocks:
            if isinstance(block, keras_fast.Records):
                for epoch, row in block.rows():
                    blocks.append(_Block(epoch))
                    blocks[-1].summary = row
            else:
                blocks.append(block)
            last.append(len(blocks) - 1)
        self.blocks, self.events = blocks, [(last[at], e) for at, e in self.events]

    def _number_leading(self, blocks: list[_Block]) -> list[str]:
        """Number the summary lines printed before any ``Epoch`` header."""
        leading = blocks[: next((i for i, b in enumerate(blocks) if b.epoch is not None), len(blocks))]
        if not leading:
            return []
        numbered = blocks[len(leading)].epoch if len(leading) < len(blocks) else None
        first = 1 if numbered is None else numbered - len(leading)
        for offset, block in enumerate(leading):
            block.epoch = first + offset
        return ["no 'Epoch N/M' headers: epochs numbered from 1" if numbered is None
                else f"the log starts inside epoch {first} (its 'Epoch' header is missing)"]

    def _steps_of_first_block(self) -> dict[int, dict[str, float]]:
        """``{step: metrics}`` of the first block's progress updates, its summary included."""
        block = self.blocks[0]
        return {**block.updates, block.total: block.summary} if block.summary else block.updates

    def _steps_run(self, steps: dict[int, dict[str, float]]) -> Run:
        """The run of the progress updates of the one epoch of a record without headers."""
        note = f"a window inside one epoch (no 'Epoch N/M' header): each progress update is one point, numbered by its step of {self.blocks[0].total}"
        return build_run(steps, source=self.name, format=FORMAT, events=[e for _, e in self.events],
                         notes=[note], info={**self.info, "x_axis": "step"})

    def _run(self, name: str, blocks: list[_Block], events: list[Event], notes: list[str], last_fit: bool) -> Run:
        notes = list(notes)
        summarised = [b for b in blocks if b.summary]
        if blocks and not blocks[-1].summary and last_fit:
            notes.append(f"epoch {blocks[-1].epoch} has no summary line: the log ends while it was running")
        if not summarised:
            raise UnreadableRecord(self.name, "Keras epoch headers but no epoch summary lines with metrics")
        rows, columnar = EpochRows(), any(isinstance(b, keras_fast.Records) for b in summarised)
        if columnar:  # ascending epochs (see runs()): nothing to stitch
            epochs, series = _columns(summarised)
        else:
            for block in summarised:
                rows.add(block.epoch, block.summary)
            epochs = np.array(sorted(rows.rows))
        info = {**self.info, "epoch_base": 0 if epochs[0] == 0 else 1}
        gaps = np.flatnonzero(np.diff(epochs) > 1)
        notes.extend(f"epochs {epochs[i] + 1}-{epochs[i + 1] - 1} are not in the record" for i in gaps)
        extra = dict(source=name, format=FORMAT, planned_epochs=self.planned, notes=notes, info=info)
        if columnar:
            return Run(epochs, series, events, **extra)
        return build_run(rows.rows, events=rows.events + events, **extra)


def _ascending(blocks) -> bool:
    """Each epoch after the one before it: no resumed run and no second fit."""
    epochs = [b.epochs if isinstance(b, keras_fast.Records) else [b.epoch] for b in blocks if b.epoch is not None]
    return not epochs or bool((np.diff(np.concatenate(epochs)) > 0).all())


def _columns(blocks) -> tuple[np.ndarray, dict[str, Series]]:
    """The epochs and series of ascending blocks, records read in bulk among them, as
    ``build_run`` makes them of rows."""
    parts = [(b.epochs, canonicalize_keys(b.summary)) if isinstance(b, keras_fast.Records)
             else (np.array([b.epoch]), canonicalize_keys({k: [v] for k, v in b.summary.items()})) for b in blocks]
    series = {}
    for name in dict.fromkeys(k for _, columns in parts for k in columns):
        values = [np.asarray(c[name], float) if name in c else np.full(len(e), np.nan) for e, c in parts]
        present = [np.full(len(e), name in c) for e, c in parts]
        series[name] = Series(np.concatenate(values), np.concatenate(present))
    return np.concatenate([e for e, _ in parts]), series


def _fresh_start(fit: list[_Block], block: _Block, jump: float = 1.5) -> bool:
    """``block`` goes back to the fit's first epoch with a loss well above where the fit
    ended (``jump`` times, or nearer its first loss than its last): a new model, not a
    resumed one."""
    if block.epoch is None or block.epoch > fit[0].epoch or not block.summary or "loss" not in block.summary:
        return False  # checked first: most blocks are not a step back
    firsts = [b for b in fit if b.summary and "loss" in b.summary]
    if len(firsts) < 2:
        return False
    start, end, new = firsts[0].summary["loss"], firsts[-1].summary["loss"], block.summary["loss"]
    return start > end and (new >= jump * end or abs(new - start) < abs(new - end))


def read(source) -> Run | list[Run]:
    """The fits in the record; a last line without its newline (a log cut or still being
    written: its last number may be cut) is left out, with a note when it held metrics."""
    fast = keras_fast.read(source)
    if fast is not None:
        return fast
    parser = _Parser(source.name)
    with source.open_text() as fh:
        lines = CompleteLines(fh)
        for segment in screen_segments(lines):
            parser.feed(segment)
    runs = parser.runs()
    cut = clean(lines.cut or "")
    if HEADER.search(cut) or _looks_like_metrics(cut):
        runs[-1].notes.append(lines.cut_note())
    return runs[0] if len(runs) == 1 else runs
