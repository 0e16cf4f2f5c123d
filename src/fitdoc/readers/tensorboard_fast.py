"""The fast path of the TensorBoard reader: verified records decoded with numpy where
they have the common layout of a scalar written by ``SummaryWriter.add_scalar`` /
``tf.summary.scalar`` (legacy simple values)::

    Event{wall_time (1), step (2), summary (5) {value (1) {tag (1), simple_value (2)}}}

or are the file's ``file_version`` event (no summary, perhaps source metadata). Each
field is checked at its place and the record must end right after the value. Any other
record (a tensor summary, several values, metadata, a histogram, a non-UTF-8 tag...),
and plain records too few between such records, are left to be decoded event by event
with ``Event.FromString``.
"""

from __future__ import annotations

import numpy as np

_MAX_VARINT = 10
_MIN_RUN = 16  # fewer plain records between others are decoded with them, one by one
_LOW_BYTES = np.array([(1 << 8 * n) - 1 for n in range(9)], dtype=np.uint64)


def _odd_multipliers(count: int) -> np.ndarray:
    """``count`` odd 64-bit multipliers for hashing tags, from SplitMix64 (here rather
    than numpy.random, whose import costs every diagnosis 13 ms)."""
    out, state, mask = [], 0, (1 << 64) - 1
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append((z ^ (z >> 31)) | 1)
    return np.array(out, dtype=np.uint64)


_HASH = _odd_multipliers(32)


def at_every_byte(buf, dtype: str) -> np.ndarray:
    """The little-endian number of ``dtype`` starting at every byte offset of ``buf`` (a view)."""
    size = np.dtype(dtype).itemsize
    return np.ndarray((max(len(buf) - size + 1, 0),), dtype=dtype, buffer=buf, strides=(1,))


def scalars(raw: bytes, starts, lengths) -> list[tuple[int, int, list[tuple[str, np.ndarray, np.ndarray]] | None]]:
    """The batch's records as consecutive ranges ``(lo, hi, found)``: ``found`` is
    ``[(tag, steps int64, values float32)]`` of plain records in the order the tags
    first appear, or None for records to be decoded one by one."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    data = np.asarray(starts, dtype=np.int64) + 12
    end = data + np.asarray(lengths, dtype=np.int64)
    at = lambda pos: buf.take(pos, mode="clip").astype(np.int64)  # noqa: E731  (checked against end below)
    # file_version (3), then optionally source_metadata (10): no summary, nothing to read
    after = data + 11 + at(data + 10)
    version = (at(data) == 0x09) & (at(data + 9) == 0x1A) & (at(data + 10) < 0x80) & (
        (after == end) | ((at(after) == 0x52) & (at(after + 1) < 0x80) & (after + 2 + at(after + 1) == end))
    )
    has_step = at(data + 9) == 0x10  # a step of 0 is not written
    steps, size, ended = _varints(at, data + 10, has_step)
    p = np.where(has_step, data + 10 + size, data + 9)
    tag_len = at(p + 5)
    scalar = np.flatnonzero(
        (at(data) == 0x09) & ended & (at(p) == 0x2A) & (at(p + 1) == tag_len + 9) & (at(p + 2) == 0x0A)
        & (at(p + 3) == tag_len + 7) & (at(p + 4) == 0x0A) & (tag_len < 0x77) & (at(p + 6 + tag_len) == 0x15)
        & (p + 11 + tag_len == end)
    )
    tag_at, tag_len = p[scalar] + 6, tag_len[scalar]
    values = np.zeros(len(data), dtype="<f4")
    values[scalar] = at_every_byte(raw, "<f4")[tag_at + 1 + tag_len]
    # Each tag as its length and 8-byte words of its bytes (zeroed past its end), grouped by a hash of them.
    words_at = at_every_byte(raw, "<u8")
    words = np.stack([tag_len.astype(np.uint64)] + [
        words_at[np.minimum(tag_at + k, len(words_at) - 1)] & _LOW_BYTES[np.clip(tag_len - k, 0, 8)]
        for k in range(0, int(tag_len.max(initial=0)), 8)
    ], axis=1)
    _, first, which = np.unique(words @ _HASH[: words.shape[1]], return_index=True, return_inverse=True)
    which = which.ravel()
    if not (words == words[first[which]]).all():  # a hash collision: leave the batch to the careful path
        return [(0, len(data), None)]
    tag_of = np.full(len(data), -1)  # index into names, -1 where not a plain scalar
    tag_of[scalar] = which
    names = []
    for t, i in enumerate(first):
        try:
            names.append(raw[tag_at[i] : tag_at[i] + tag_len[i]].decode("utf-8"))
        except UnicodeDecodeError:  # protobuf refuses it: the careful path reports the record
            names.append(None)
            tag_of[scalar[which == t]] = -1
    return _ranges(version | (tag_of >= 0), tag_of, names, steps, values)


def _ranges(plain: np.ndarray, tag_of: np.ndarray, names: list, steps: np.ndarray, values: np.ndarray):
    """The ranges ``scalars`` returns, from which records are plain and each plain
    scalar's tag (an index into ``names``, -1 for other records)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], plain, [False]]).astype(np.int8)))
    out, done = [], 0
    for lo, hi in edges.reshape(-1, 2).tolist():
        if hi - lo < _MIN_RUN and hi - lo < len(plain):
            continue
        if done < lo:
            out.append((done, lo, None))
        mine = tag_of[lo:hi]
        ids, first = np.unique(mine[mine >= 0], return_index=True)
        found = []
        for t in ids[np.argsort(first, kind="stable")]:
            of_tag = np.flatnonzero(mine == t) + lo
            found.append((names[t], steps[of_tag], values[of_tag]))
        out.append((lo, hi, found))
        done = hi
    if done < len(plain):
        out.append((done, len(plain), None))
    return out


def _varints(at, start: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(int64 values, byte counts, whether each ended within 10 bytes) of the varints at
    ``start`` where ``present`` (0, 0 and True elsewhere)."""
    value = np.zeros(len(start), dtype=np.uint64)
    size = np.zeros(len(start), dtype=np.int64)
    going = present.copy()
    for j in range(_MAX_VARINT):
        if not going.any():
            break
        b = at(start + j)
        value |= np.where(going, (b & 0x7F).astype(np.uint64) << np.uint64(7 * j), np.uint64(0))
        size += going
        going &= b >= 0x80
    return value.view(np.int64), size, ~going
