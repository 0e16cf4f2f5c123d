"""The fast path of the TensorBoard reader: a batch of verified records decoded with
numpy when every record has the common layout of a scalar written by
``SummaryWriter.add_scalar`` / ``tf.summary.scalar`` (legacy simple values)::

    Event{wall_time (1), step (2), summary (5) {value (1) {tag (1), simple_value (2)}}}

or is the file's ``file_version`` event (no summary, perhaps source metadata). Each field is checked at its
place and the record must end right after the value; a batch with any other record
(a tensor summary, several values, metadata, a graph, a non-UTF-8 tag...) returns
None and is decoded event by event with ``Event.FromString``.
"""

from __future__ import annotations

import numpy as np

_MAX_VARINT = 10
_LOW_BYTES = np.array([(1 << 8 * n) - 1 for n in range(9)], dtype=np.uint64)
_HASH = np.random.default_rng(0).integers(1, 1 << 63, 32, dtype=np.uint64) | np.uint64(1)


def at_every_byte(buf, dtype: str) -> np.ndarray:
    """The little-endian number of ``dtype`` starting at every byte offset of ``buf`` (a view)."""
    size = np.dtype(dtype).itemsize
    return np.ndarray((max(len(buf) - size + 1, 0),), dtype=dtype, buffer=buf, strides=(1,))


def scalars(raw: bytes, starts, lengths) -> list[tuple[str, np.ndarray, np.ndarray]] | None:
    """``[(tag, steps int64, values float32)]`` of the batch's records in the order the
    tags first appear, or None when a record is not of the common layout."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    data = np.asarray(starts, dtype=np.int64) + 12
    ends = data + np.asarray(lengths, dtype=np.int64)
    at = lambda pos: buf.take(pos, mode="clip").astype(np.int64)  # noqa: E731  (checked against ends below)
    # file_version (3), then optionally source_metadata (10): no summary, nothing to read
    after = data + 11 + at(data + 10)
    version = (at(data) == 0x09) & (at(data + 9) == 0x1A) & (at(data + 10) < 0x80) & (
        (after == ends) | ((at(after) == 0x52) & (at(after + 1) < 0x80) & (after + 2 + at(after + 1) == ends))
    )
    if not (at(data) == 0x09).all():
        return None
    scalar = ~version
    d, end = data[scalar], ends[scalar]
    has_step = at(d + 9) == 0x10  # a step of 0 is not written
    steps, size = _varints(at, d + 10, has_step)
    if steps is None:
        return None
    p = np.where(has_step, d + 10 + size, d + 9)
    tag_len = at(p + 5)
    ok = (
        (at(p) == 0x2A) & (at(p + 1) == tag_len + 9) & (at(p + 2) == 0x0A) & (at(p + 3) == tag_len + 7)
        & (at(p + 4) == 0x0A) & (tag_len < 0x77) & (at(p + 6 + tag_len) == 0x15) & (p + 11 + tag_len == end)
    )
    if not ok.all():
        return None
    values = at_every_byte(raw, "<f4")[p + 7 + tag_len]
    # Each tag as its length and 8-byte words of its bytes (zeroed past its end), grouped by a hash of them.
    tag_at = p + 6
    words_at = at_every_byte(raw, "<u8")
    words = np.stack([tag_len.astype(np.uint64)] + [
        words_at[np.minimum(tag_at + k, len(words_at) - 1)] & _LOW_BYTES[np.clip(tag_len - k, 0, 8)]
        for k in range(0, int(tag_len.max(initial=0)), 8)
    ], axis=1)
    _, first, which = np.unique(words @ _HASH[: words.shape[1]], return_index=True, return_inverse=True)
    which = which.ravel()
    if not (words == words[first[which]]).all():  # a hash collision: leave the batch to the careful path
        return None
    out = []
    for t in np.argsort(first, kind="stable"):
        i = first[t]
        try:
            name = raw[tag_at[i] : tag_at[i] + tag_len[i]].decode("utf-8")
        except UnicodeDecodeError:  # protobuf refuses it: the careful path reports the record
            return None
        mine = which == t
        out.append((name, steps[mine], values[mine]))
    return out


def _varints(at, start: np.ndarray, present: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """(int64 values, byte counts) of the varints at ``start`` where ``present`` (0 and 0
    elsewhere); values None when one runs past 10 bytes."""
    value = np.zeros(len(start), dtype=np.uint64)
    size = np.zeros(len(start), dtype=np.int64)
    going = present.copy()
    for j in range(_MAX_VARINT):
        if not going.any():
            return value.view(np.int64), size
        b = at(start + j)
        value |= np.where(going, (b & 0x7F).astype(np.uint64) << np.uint64(7 * j), np.uint64(0))
        size += going
        going &= b >= 0x80
    return (None if going.any() else value.view(np.int64)), size
