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


def scalars(raw: bytes, starts, lengths) -> list[tuple[str, np.ndarray, np.ndarray]] | None:
    """``[(tag, steps int64, values float32)]`` of the batch's records in the order the
    tags first appear, or None when a record is not of the common layout."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    data = np.asarray(starts, dtype=np.int64) + 12
    ends = data + np.asarray(lengths, dtype=np.int64)
    last = len(buf) - 1
    at = lambda pos: buf[np.minimum(pos, last)].astype(np.int64)  # noqa: E731  (checked against ends below)
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
    # the step: a varint of 1-10 bytes
    varint = buf[np.minimum(d[:, None] + 10 + np.arange(_MAX_VARINT), last)].astype(np.uint64)
    stops = varint < 0x80
    if not (stops.any(axis=1) | ~has_step).all():
        return None
    size = np.argmax(stops, axis=1) + 1
    used = np.arange(_MAX_VARINT) < size[:, None]
    shifts = (7 * np.arange(_MAX_VARINT)).astype(np.uint64)
    steps = np.bitwise_or.reduce(np.where(used, (varint & np.uint64(0x7F)) << shifts, np.uint64(0)), axis=1).view(np.int64)
    steps = np.where(has_step, steps, 0)
    p = np.where(has_step, d + 10 + size, d + 9)
    tag_len = at(p + 5)
    ok = (
        (at(p) == 0x2A) & (at(p + 1) == tag_len + 9) & (at(p + 2) == 0x0A) & (at(p + 3) == tag_len + 7)
        & (at(p + 4) == 0x0A) & (tag_len < 0x77) & (at(p + 6 + tag_len) == 0x15) & (p + 11 + tag_len == end)
    )
    if not ok.all():
        return None
    value_at = p + 7 + tag_len
    values = buf[value_at[:, None] + np.arange(4)].copy().view("<f4").ravel()
    width = int(tag_len.max(initial=0))
    tags = np.zeros((len(d), width + 1), dtype=np.uint8)
    tags[:, 0] = tag_len
    inside = np.arange(width) < tag_len[:, None]
    tags[:, 1:][inside] = buf[np.minimum((p + 6)[:, None] + np.arange(width), last)][inside]
    keys = tags.view(np.dtype((np.void, width + 1))).ravel()
    _, first, which = np.unique(keys, return_index=True, return_inverse=True)
    out = []
    for t in np.argsort(first, kind="stable"):
        row = tags[first[t]]
        try:
            name = row[1 : 1 + row[0]].tobytes().decode("utf-8")
        except UnicodeDecodeError:  # protobuf refuses it: the careful path reports the record
            return None
        mine = which.ravel() == t
        out.append((name, steps[mine], values[mine]))
    return out
