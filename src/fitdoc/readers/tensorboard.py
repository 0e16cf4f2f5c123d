"""TensorBoard event files and run directories.

Reads scalars written by ``tf.summary`` / the Keras ``TensorBoard`` callback,
``torch.utils.tensorboard.SummaryWriter`` and tensorboardX: legacy ``simple_value``
scalars and TF2 scalar tensor summaries. Files are streamed in chunks with TFRecord
framing (repeats of a few record lengths checked in numpy); every record's length
and data checksums are verified (vectorised), and events are decoded with numpy where
they are plain scalars (:mod:`.tensorboard_fast`), else with TensorBoard's own
protobuf classes. Only per-tag arrays of steps (int64) and values (float32, or
float64 once a double arrives) are kept.

How scalars become a :class:`~fitdoc.run.Run`:

* Tag names: ``epoch_``/``batch_`` prefixes, ``_epoch``/``_step`` suffixes and a
  train/validation path part (``Loss/train``, ``val/loss``) are removed and the rest
  goes through :func:`fitdoc.names.canonical`; tags under a ``validation/`` (or
  ``val``, ``eval``) directory, or with a ``val``/``validation``/``eval``/``test``
  path part, get the ``val_`` prefix.
* Epochs: with Keras ``epoch_*`` tags the record's epochs are those tags' steps (the
  0-based epoch index). Without them, a scalar tag ``epoch`` (PyTorch Lightning) maps
  steps to epochs and each series is the mean of its points in that epoch. With
  neither, the x-axis is the logged step: ``Run.epochs`` holds step numbers and
  ``Run.info["x_axis"] == "step"``.
* ``Run.step_series`` holds every tag that is not an epoch-level tag at full
  resolution (``batch_loss``, per-iteration ``SummaryWriter`` scalars).
* Resumes: when a tag's steps go back, or a later event file in the same directory
  (ordered by its first wall time) continues the run, the later write wins (earlier
  points at or after the resume step are dropped) and a ``resume`` event is reported.
* A truncated last record is skipped with a note; a corrupt record elsewhere raises
  :class:`~fitdoc.errors.UnreadableRecord` naming the file and the byte offset.
* A directory is searched recursively for ``*tfevents*`` files. A directory named
  ``train``/``validation`` (Keras) or nested in a directory that holds event files
  itself (``SummaryWriter.add_scalars``) belongs to its parent's run; every other
  directory with event files is a run of its own.
"""

from __future__ import annotations

import os
import re
import struct
from array import array
from bisect import bisect_right
from pathlib import Path

import numpy as np

from ..errors import FitdocError, UnreadableRecord
from ..names import canonical
from ..run import Event, Run, Series, StepSeries
from . import tensorboard_fast

FORMAT = "tensorboard"

_CHUNK = 2 << 20  # small enough for the arrays of a chunk's records to stay in cache
_FILE_VERSION = b"brain.Event:"
_ROLES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "val": "validation",
    "valid": "validation",
    "eval": "validation",
    "evaluation": "validation",
    "test": "validation",
}
_ROLE_DIRS = {k for k in _ROLES if k != "test"}
_VS_ITERATIONS = re.compile(r"evaluation_(.+)_vs_iterations")
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")

# DataType enum values of tensorflow/core/framework/types.proto.
_DT_FLOAT, _DT_DOUBLE, _DT_BFLOAT16, _DT_HALF = 1, 2, 14, 19


# --- CRC-32C (Castagnoli) as TFRecord framing uses it -------------------------------


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()
_LONG_RECORD = 4096  # longer records are checked one by one
_PATTERN_MAX = 8  # most record lengths in a pattern that framing looks for
_PATIENCE = 16  # records that repeat a pattern before framing looks ahead in numpy


def _zero_byte_tables(count: int) -> list[list[int]]:
    """``tables[k][b]``: the CRC register change of byte ``b`` followed by ``k`` zero bytes."""
    tables = [_TABLE]
    for _ in range(count - 1):
        tables.append([_TABLE[c & 0xFF] ^ (c >> 8) for c in tables[-1]])
    return tables


def _slicing_by_8() -> np.ndarray:
    """``tables[i][v]``: the register change of value ``v`` as the 16-bit piece ``i`` of
    an 8-byte word (piece 0 is the word's first two bytes)."""
    t = np.array(_zero_byte_tables(8), dtype=np.uint32)
    v = np.arange(1 << 16)
    return np.stack([t[7 - 2 * i][v & 0xFF] ^ t[6 - 2 * i][v >> 8] for i in range(4)])


def _start_registers() -> np.ndarray:
    """``[pad]``: the register that ``pad`` zero bytes take to CRC-32C's start value."""
    top_bytes = [c >> 24 for c in _TABLE]  # all different: an entry is known by its top byte
    registers = [0xFFFFFFFF]
    for _ in range(7):  # undo one zero byte
        crc = registers[-1]
        b = top_bytes.index(crc >> 24)
        registers.append((crc ^ _TABLE[b]) << 8 | b)
    return np.array(registers, dtype=np.uint64)


# Many records are checked at once, 8 bytes a step. Each record's words are aligned to
# its end: its first word begins ``pad`` bytes before it, those bytes are zeroed, and
# its register starts where ``pad`` zero bytes lead to the usual start.
_BY_8 = _slicing_by_8()
_START = _start_registers()
_KEEP = np.array([(1 << 64) - (1 << 8 * pad) for pad in range(8)], dtype=np.uint64)


def _mask(crc):
    """TFRecord's masked CRC (works on ints and uint32 arrays)."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _masked_crc(data) -> int:
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return _mask(crc ^ 0xFFFFFFFF)


def _masked_crcs(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Masked CRC-32C of ``buf[start:start+length]`` for many records at once."""
    starts, lengths = np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    out = np.empty(len(starts), dtype=np.uint32)
    order = np.argsort(-lengths, kind="stable")
    starts, lengths = starts[order], lengths[order]
    n_long = int(np.count_nonzero(lengths > _LONG_RECORD))
    for i in range(n_long):
        out[order[i]] = _masked_crc(buf[starts[i] : starts[i] + lengths[i]].tobytes())
    starts, lengths = starts[n_long:], lengths[n_long:]
    words = -(-lengths // 8)
    pad = words * 8 - lengths
    at = starts - pad  # the first word of each record
    if len(buf) < 8 or (at < 0).any():  # room for the first word
        buf, at = np.concatenate([np.zeros(8, dtype=np.uint8), buf]), at + 8
    words_at = tensorboard_fast.at_every_byte(buf, "<u8")
    crc = _START[pad]
    # Sorted by decreasing length, the records still going at word j are a prefix.
    active = np.searchsorted(-words, -np.arange(int(words.max(initial=0))), side="left")
    for j, k in enumerate(active):
        w = words_at[at[:k] + 8 * j]
        if j == 0:
            w &= _KEEP[pad[:k]]
        w ^= crc[:k]
        piece = w.view("<u2").reshape(-1, 4)
        crc[:k] = (_BY_8[0].take(piece[:, 0]) ^ _BY_8[1].take(piece[:, 1])) ^ (
            _BY_8[2].take(piece[:, 2]) ^ _BY_8[3].take(piece[:, 3])
        )
    out[order[n_long:]] = _mask(crc.astype(np.uint32) ^ np.uint32(0xFFFFFFFF))
    return out


# --- record framing -----------------------------------------------------------------


def _first_record(head: bytes) -> bytes | None:
    """The payload of the first record if its length checksum is valid."""
    if len(head) < 12:
        return None
    (n,) = _U64.unpack_from(head, 0)
    if _U32.unpack_from(head, 8)[0] != _masked_crc(head[:8]):
        return None
    return head[12 : 12 + n]


def _frame(buf: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """Starts and lengths of the complete records from ``buf[0]`` on, and where the rest begins.

    Records are followed one by one until their lengths have repeated a pattern (one
    length, or the lengths of the tags logged at each step) for ``_PATIENCE`` records;
    the pattern's next repeats are then checked in numpy steps.
    """
    lengths_at = tensorboard_fast.at_every_byte(buf, "<u8")
    pieces = []  # (starts, lengths) in file order
    starts, lengths = [], []  # records followed one by one since the last repeats
    recent = []  # lengths of the latest records
    pos, size, period, streak, guess = 0, len(buf), 0, 0, 64
    while pos + 12 <= size:
        (n,) = _U64.unpack_from(buf, pos)
        if pos + 16 + n > size:
            break
        if period and n == recent[-period]:
            streak += 1
        else:
            latest = recent[: -_PATTERN_MAX - 1 : -1]
            period, streak = (latest.index(n) + 1 if n in latest else 0), 0
        if streak < _PATIENCE:
            starts.append(pos)
            lengths.append(n)
            recent.append(n)
            pos += 16 + n
        else:
            run_starts, run_lengths = _repeats(lengths_at, pos, recent[-period:], size, 2 * guess)
            pieces += [(starts, lengths), (run_starts, run_lengths)]
            starts, lengths, streak, guess = [], [], 0, len(run_starts)
            recent += run_lengths[-_PATTERN_MAX:].tolist()
            pos = int(run_starts[-1] + 16 + run_lengths[-1])
        if len(recent) > 2 * _PATTERN_MAX:
            del recent[:-_PATTERN_MAX]
    pieces.append((starts, lengths))
    joined = (np.concatenate([np.asarray(piece[i], dtype=np.int64) for piece in pieces]) for i in (0, 1))
    return *joined, pos


def _repeats(lengths_at: np.ndarray, pos: int, pattern: list[int], size: int, guess: int):
    """(starts, lengths) of the records from ``pos`` on whose lengths repeat ``pattern``
    in whole repeats, and the first record (read already) at least; ``guess`` records
    are looked at first, twice as many each time all of them repeat it."""
    pattern = np.array(pattern, dtype=np.uint64)
    strides = 16 + pattern.astype(np.int64)
    offsets = np.cumsum(strides) - strides
    repeat_bytes = int(strides.sum())
    fit = (size - pos) // repeat_bytes  # whole repeats in the buffer
    done, step = 0, max(guess // len(pattern), 1)
    while done < fit:
        step = min(step, fit - done)
        same = (lengths_at[pos + repeat_bytes * np.arange(done, done + step)[:, None] + offsets] == pattern).ravel()
        if not same.all():
            count = done * len(pattern) + int(np.argmin(same))
            break
        done, step = done + step, 2 * step
    else:
        count = done * len(pattern)
    count = max(count, 1)
    repeats = -(-count // len(pattern))
    starts = (pos + repeat_bytes * np.arange(repeats)[:, None] + offsets).ravel()[:count]
    return starts, np.tile(pattern.astype(np.int64), repeats)[:count]


def _batches(path: Path, notes: list[str]):
    """Yield ``(buffer, data_starts, lengths, file_offset)`` for the verified records."""
    name = str(path)
    with open(path, "rb") as fh:
        file_size = os.fstat(fh.fileno()).st_size  # a record's length is checked against it before reading
        buf = b""
        offset = 0  # file offset of buf[0]
        need = _CHUNK
        while True:
            more = fh.read(max(_CHUNK, need - len(buf)))
            eof = not more
            buf += more
            starts, lengths, pos = _frame(buf)
            if len(starts):
                _verify(name, buf, starts, lengths, offset)
                yield buf, starts, lengths, offset
            rest = len(buf) - pos
            if rest >= 12 and _U32.unpack_from(buf, pos + 8)[0] != _masked_crc(buf[pos : pos + 8]):
                raise UnreadableRecord(name, f"corrupt event record at byte {offset + pos} (length checksum mismatch)")
            need = 16 + _U64.unpack_from(buf, pos)[0] if rest >= 12 else _CHUNK
            if eof or (rest >= 12 and offset + pos + need > file_size):  # the file ends inside this record
                if rest:
                    notes.append(
                        f"{path.name}: last record is incomplete (file ends {file_size - offset - pos} bytes into it "
                        f"at byte {file_size}); read the complete records before it"
                    )
                return
            buf = buf[pos:]
            offset += pos


def _verify(name: str, raw: bytes, starts: np.ndarray, lengths: np.ndarray, offset: int) -> None:
    buf = np.frombuffer(raw, dtype=np.uint8)
    stored = tensorboard_fast.at_every_byte(raw, "<u4")
    distinct, which = np.unique(lengths, return_inverse=True)  # a length's checksum depends on it alone
    at = 8 * np.arange(len(distinct))
    length_crcs = _masked_crcs(distinct.astype("<u8").view(np.uint8), at, np.full(len(distinct), 8))
    bad_len = length_crcs[which.ravel()] != stored[starts + 8]
    bad_data = _masked_crcs(buf, starts + 12, lengths) != stored[starts + 12 + lengths]
    bad = np.flatnonzero(bad_len | bad_data)
    if len(bad):
        i = bad[0]
        what = "length" if bad_len[i] else "data"
        raise UnreadableRecord(name, f"corrupt event record at byte {offset + int(starts[i])} ({what} checksum mismatch)")


# --- event decoding -----------------------------------------------------------------


def _event_parser():
    """(``Event.FromString``, protobuf's ``DecodeError``) from the tensorboard package."""
    try:
        from google.protobuf.message import DecodeError
        from tensorboard.compat.proto.event_pb2 import Event as EventProto
    except ImportError:
        raise FitdocError(
            "tensorboard", "reading TensorBoard event files needs the tensorboard package: pip install fitdoc[tensorboard]"
        ) from None
    return EventProto.FromString, DecodeError


def _tensor_scalar(t) -> tuple[float, bool] | None:
    """(value, needs float64) of a scalar float tensor, else None."""
    for d in t.tensor_shape.dim:
        if d.size != 1:
            return None
    dtype, raw = t.dtype, t.tensor_content
    if dtype == _DT_FLOAT:
        return (t.float_val[0] if t.float_val else struct.unpack("<f", raw)[0]), False
    if dtype == _DT_DOUBLE:
        return (t.double_val[0] if t.double_val else struct.unpack("<d", raw)[0]), True
    if dtype == _DT_HALF:
        bits = t.half_val[0] if t.half_val else _U16.unpack(raw)[0]
        return float(np.uint16(bits).view(np.float16)), False
    if dtype == _DT_BFLOAT16:
        bits = t.half_val[0] if t.half_val else _U16.unpack(raw)[0]
        return float(np.uint32(bits << 16).view(np.float32)), False
    return None


class _Tag:
    """Steps and values of one tag in write order, plus where each event file began."""

    __slots__ = ("steps", "values", "file_starts", "add_step", "add_value")

    def __init__(self, file_index: int) -> None:
        self.steps = array("q")
        self.values = array("f")  # float32 until a float64 value arrives
        self.file_starts = [0] * (file_index + 1)  # file k begins at steps[file_starts[k]]
        self.add_step = self.steps.append
        self.add_value = self.values.append

    def widen(self) -> None:
        self.values = array("d", self.values)
        self.add_value = self.values.append


def _read_dir_stream(files: list[Path], notes: list[str]) -> dict[str, _Tag]:
    """Scalars of consecutive event files in one directory, by tag."""
    parse, decode_error = _event_parser()
    tags: dict[str, _Tag] = {}
    for k, path in enumerate(files):
        for acc in tags.values():
            acc.file_starts.append(len(acc.steps))
        for raw, starts, lengths, offset in _batches(path, notes):
            view = memoryview(raw)
            for lo, hi, found in tensorboard_fast.scalars(raw, starts, lengths):
                if found is not None:
                    for tag, steps, values in found:
                        acc = tags.get(tag) or tags.setdefault(tag, _Tag(k))
                        acc.steps.frombytes(steps.astype("<i8").tobytes())
                        acc.values.frombytes(values.astype("<f4" if acc.values.typecode == "f" else "<f8").tobytes())
                    continue
                for s, n in zip(starts[lo:hi].tolist(), lengths[lo:hi].tolist()):
                    try:
                        ev = parse(view[s + 12 : s + 12 + n])
                    except decode_error:
                        msg = f"corrupt event record at byte {offset + s} (not an Event)"
                        raise UnreadableRecord(str(path), msg) from None
                    if ev.summary.value:
                        _add_event(tags, k, ev)
    return tags


def _add_event(tags: dict[str, _Tag], file_index: int, ev) -> None:
    """The scalars of one decoded event."""
    for v in ev.summary.value:
        kind = v.WhichOneof("value")
        if kind == "simple_value":
            x, wide = v.simple_value, False
        elif kind == "tensor":
            got = _tensor_scalar(v.tensor)
            if got is None:
                continue
            x, wide = got
        else:
            continue
        acc = tags.get(v.tag) or tags.setdefault(v.tag, _Tag(file_index))
        if wide and acc.values.typecode == "f":
            acc.widen()
        acc.add_step(ev.step)
        acc.add_value(x)


def _first_wall_time(path: Path) -> float:
    with open(path, "rb") as fh:
        payload = _first_record(fh.read(1 << 16))
    if payload:
        parse, decode_error = _event_parser()
        try:
            return parse(payload).wall_time
        except decode_error:
            pass
    return path.stat().st_mtime


# --- from tags to a Run -------------------------------------------------------------


def _resolve(tag: str, role: str | None) -> tuple[str, str | None]:
    """(canonical name, level) of a tag; level is "epoch", "step", "axis" or None."""
    parts = [p for p in tag.strip().lower().split("/") if p]
    if len(parts) > 1 and parts[-1] in _ROLES:
        role = role or _ROLES[parts.pop()]
    elif len(parts) > 1 and parts[0] in _ROLES:
        role = role or _ROLES[parts.pop(0)]
    base = "_".join(parts)
    if base == "epoch":
        return "epoch", "axis"
    level = None
    m = _VS_ITERATIONS.fullmatch(base)
    if m:
        base, level, role = m[1], "step", "validation"
    for prefix, suffix, lvl in (("epoch_", "_epoch", "epoch"), ("batch_", "_step", "step")):
        if base.startswith(prefix) and len(base) > len(prefix):
            base, level = base[len(prefix) :], lvl
        elif base.endswith(suffix) and len(base) > len(suffix):
            base, level = base[: -len(suffix)], lvl
    name = canonical(base)
    if role == "validation" and name != "lr" and not name.startswith("val_"):
        name = "val_" + name
    return name, level


def _stitch(tag: _Tag) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int | None]]]:
    """Steps increasing with the last write of each kept, and the resumes found.

    A resume is ``(file index, step, previous step)``; the previous step is None where
    a later event file begins without going back.
    """
    steps = np.frombuffer(tag.steps, dtype=np.int64)
    values = np.frombuffer(tag.values, dtype=np.float32 if tag.values.typecode == "f" else np.float64)
    resumes = {i: None for i in tag.file_starts[1:] if 0 < i < len(steps)}
    for i in np.flatnonzero(steps[1:] < steps[:-1]) + 1:
        resumes[int(i)] = int(steps[i - 1])
    found = [
        (bisect_right(tag.file_starts, i) - 1, int(steps[i]), prev) for i, prev in sorted(resumes.items())
    ]
    if found:
        later_min = np.minimum.accumulate(steps[::-1])[::-1]
        keep = np.append(steps[:-1] < later_min[1:], True)
        steps, values = steps[keep], values[keep]
    return steps, values.astype(np.float64), found


def _distinct(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: faster than hashing for steps)."""
    a = np.sort(a)
    return a[np.append(True, a[1:] != a[:-1])] if len(a) else a


def _union(arrays: list[np.ndarray]) -> np.ndarray:
    """Union of strictly increasing arrays; the longest is reused when it holds the others."""
    if not arrays:
        return np.zeros(0, dtype=np.int64)
    arrays = sorted(arrays, key=len)
    longest = arrays[-1]
    missing = []
    for a in arrays[:-1]:
        at = np.minimum(np.searchsorted(longest, a), len(longest) - 1)
        missing.append(a[longest[at] != a])
    if not sum(map(len, missing)):
        return longest
    return _distinct(np.concatenate([longest, *missing]))


def _align(axis: np.ndarray, steps: np.ndarray, values: np.ndarray) -> Series:
    if len(steps) == len(axis):  # steps are strictly increasing and a subset of axis
        return Series(values, np.ones(len(axis), dtype=bool))
    out = np.full(len(axis), np.nan)
    present = np.zeros(len(axis), dtype=bool)
    idx = np.searchsorted(axis, steps)
    out[idx] = values
    present[idx] = True
    return Series(out, present)


def _put(target: dict, name: str, tag: str, item, owners: dict[str, tuple[bool, str]], preferred: bool) -> None:
    """Store ``item`` under ``name``; on a clash a preferred level wins and the other keeps its tag."""
    if name not in target:
        target[name], owners[name] = item, (preferred, tag)
    elif preferred and not owners[name][0]:
        target[owners[name][1]], target[name], owners[name] = target[name], item, (True, tag)
    else:
        target[tag] = item


def _build(entries: list[tuple[str, str, str | None, np.ndarray, np.ndarray]], resumes, source: str, notes) -> Run:
    """Make a Run from ``(tag, name, level, steps, values)`` entries and the resumes of its axis."""
    levels = {e[2] for e in entries}
    info: dict = {}
    epoch_of = None  # step -> epoch where an ``epoch`` tag gives it
    if "epoch" in levels:
        axis_entries = [e for e in entries if e[2] == "epoch"]
    elif "axis" in levels:
        axis_entries = [e for e in entries if e[2] != "axis"]
        _, _, _, ep_steps, ep_values = next(e for e in entries if e[2] == "axis")
        ep_values = ep_values.astype(np.int64)

        def epoch_of(steps: np.ndarray) -> np.ndarray:
            return ep_values[np.clip(np.searchsorted(ep_steps, steps, "right") - 1, 0, None)]

    else:
        axis_entries = entries
        info["x_axis"] = "step"
        notes.append("no epoch tags: the x-axis is the logged step")

    step_series: dict[str, StepSeries] = {}
    owners: dict[str, tuple[bool, str]] = {}
    for tag, name, level, steps, values in entries:
        if level not in ("epoch", "axis"):
            _put(step_series, name, tag, StepSeries(steps, values), owners, level == "step")

    if epoch_of is not None:
        aggregated = []
        for tag, name, level, steps, values in axis_entries:
            of_point = epoch_of(steps)
            epochs = _distinct(of_point)
            inverse = np.searchsorted(epochs, of_point)
            aggregated.append((tag, name, level, epochs, np.bincount(inverse, weights=values) / np.bincount(inverse)))
        axis_entries = aggregated
    axis = _union([e[3] for e in axis_entries])
    series: dict[str, Series] = {}
    owners = {}
    for tag, name, level, steps, values in axis_entries:
        _put(series, name, tag, _align(axis, steps, values), owners, level == "epoch")

    unit = info.get("x_axis", "epoch")
    events: dict[int, Event] = {}
    for step, prev in resumes:
        at = step if epoch_of is None else int(epoch_of(np.array([step]))[0])
        if prev is None:
            msg = f"a later event file continues the run at {unit} {at}"
        else:
            before = prev if epoch_of is None else int(epoch_of(np.array([prev]))[0])
            msg = f"record goes back from {unit} {before} to {at}"
        events.setdefault(at, Event(at, "resume", None, msg + "; later writes kept"))
    return Run(
        axis, series, sorted(events.values(), key=lambda e: e.epoch),
        source=source, format=FORMAT, step_series=step_series, notes=notes, info=info,
    )


def _read_run(root: Path, files: list[Path]) -> Run:
    """One run from its event files (a single file, or the files under a run directory)."""
    notes: list[str] = []
    entries = []
    # Per directory, event file and tag level: the earliest resume of its tags.
    resumes: dict[tuple, tuple[int, int | None]] = {}
    by_dir: dict[Path, list[Path]] = {}
    for f in files:
        by_dir.setdefault(f.parent, []).append(f)
    for d, dir_files in sorted(by_dir.items()):
        role = _ROLES[d.name.lower()] if d.name.lower() in _ROLE_DIRS else None
        child = d.name if root.is_dir() and d != root and role is None else None
        dir_files.sort(key=_first_wall_time)
        for tag, acc in _read_dir_stream(dir_files, notes).items():
            steps, values, found = _stitch(acc)
            prefix = tag.replace("/", "_") + "_"
            if child and child.startswith(prefix) and len(child) > len(prefix):
                tag = f"{tag}/{child[len(prefix):]}"  # SummaryWriter.add_scalars
            name, level = _resolve(tag, role)
            entries.append((tag, name, level, steps, values))
            for k, step, prev in found:
                if (d, k, level) not in resumes or step < resumes[d, k, level][0]:
                    resumes[d, k, level] = (step, prev)
    if not entries:
        raise UnreadableRecord(str(root), "no scalar summaries in the TensorBoard event files")
    levels = {e[2] for e in entries}
    axis_level = "epoch" if "epoch" in levels else "axis" if "axis" in levels else None
    kept: dict[tuple, tuple[int, int | None]] = {}
    for (d, k, level), r in resumes.items():
        if (axis_level is None or level == axis_level) and ((d, k) not in kept or r[0] < kept[d, k][0]):
            kept[d, k] = r
    return _build(entries, sorted(kept.values(), key=lambda r: r[0]), str(root), notes)


def _event_files(d: Path):
    """Event files under ``d``, without the TF profiler's empty placeholders."""
    return (p for p in d.rglob("*tfevents*") if p.is_file() and not p.name.endswith(".profile-empty"))


def _run_dirs(root: Path, files: list[Path]) -> dict[Path, list[Path]]:
    event_dirs = {f.parent for f in files}
    runs: dict[Path, list[Path]] = {}
    for f in files:
        d = f.parent
        if d != root and (d.name.lower() in _ROLE_DIRS or d.parent in event_dirs):
            d = d.parent
        runs.setdefault(d, []).append(f)
    return runs


def sniff(source) -> float:
    if source.is_dir:
        return 0.95 if next(_event_files(source.path), None) else 0.0
    payload = _first_record(source.head_bytes)
    if payload is None:
        return 0.0
    return 1.0 if _FILE_VERSION in payload else 0.9 if "tfevents" in source.path.name else 0.6


def read(source) -> Run | list[Run]:
    path = source.path
    if not source.is_dir:
        return _read_run(path, [path])
    files = sorted(_event_files(path))
    if not files:
        raise UnreadableRecord(str(path), "no TensorBoard event files (*tfevents*) in this directory")
    runs = [_read_run(d, fs) for d, fs in sorted(_run_dirs(path, files).items())]
    return runs[0] if len(runs) == 1 else runs
