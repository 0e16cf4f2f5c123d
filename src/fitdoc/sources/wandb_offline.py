"""Weights & Biases run folders on disk: a ``wandb/`` folder of ``offline-run-*`` (or
synced ``run-*``) folders, or one such folder. Each holds ``run-ID.wandb``, the log of
everything ``wandb.init``/``wandb.log`` sent: a LevelDB-style log of protobuf records
(W&B's ``Record``, decoded with the wandb package's own message classes: ``pip install
wandb``). Recent wandb versions write no ``config.yaml``, ``wandb-summary.json`` or
history file for offline runs, so the ``.wandb`` log is what is read.

Each ``wandb.log`` call is a history row, placed as the ``json-lines`` reader places an
exported history (:func:`fitdoc.readers.json_lines.run_of_rows`): by the ``epoch`` every
row logged, else by ``_step``; several rows of an epoch hold the mean of a training metric
and the last validation value. W&B's own keys (``_step``, ``_runtime``, ``_timestamp``...)
and non-numbers (media, text) are left out.
``wandb.init(config=...)`` and ``wandb.config`` updates are the hyperparameters
(nested ones as ``outer/inner``).
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from ..errors import FitdocError, UnreadableRecord
from . import Unit, file_stamp, flatten

KIND = "wandb_offline"
FORMAT = "wandb"
RUN_PREFIXES = ("offline-run-", "run-")
# The log framing (leveldb's log format, W&B's header): 32 KiB blocks of chunks, each
# crc32 (seeded with the chunk type), length, type: FULL, or FIRST MIDDLE* LAST.
HEADER = struct.pack("<4sHB", b":W&B", 0xBEE1, 0)
BLOCK = 32768
CHUNK = struct.Struct("<IHB")
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
NO_EXIT = "the log has no exit record: the run was still running, or was killed"


def _log_file(folder: Path) -> Path | None:
    if folder.is_symlink() or not folder.name.startswith(RUN_PREFIXES) or not folder.is_dir():
        return None  # wandb/latest-run links to a run listed anyway
    return next(iter(sorted(folder.glob("run-*.wandb"))), None)


def _run_folders(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    if _log_file(path):
        return [path]
    return sorted(c for c in path.iterdir() if _log_file(c))


def claims(spec: str) -> bool:
    return bool(_run_folders(Path(spec)))


def _record_class(where: str):
    try:
        from wandb.proto.wandb_internal_pb2 import Record
    except ImportError:
        raise FitdocError(where, "reading W&B run logs needs wandb: pip install wandb") from None
    return Record


def records(path: Path):
    """The ``Record`` messages of a ``.wandb`` log, in order; a log cut mid-record (still
    being written) ends at its last whole record."""
    Record = _record_class(str(path))
    from google.protobuf.message import DecodeError  # protobuf comes with wandb

    with open(path, "rb") as fh:
        if fh.read(len(HEADER)) != HEADER:
            raise UnreadableRecord(str(path), "not a W&B run log (no version 0 :W&B header)")
        offset, parts = len(HEADER), []
        while True:
            if BLOCK - offset % BLOCK < CHUNK.size:  # a block's tail too short for a chunk is padding
                fh.read(BLOCK - offset % BLOCK)
                offset += BLOCK - offset % BLOCK
            head = fh.read(CHUNK.size)
            if len(head) < CHUNK.size:
                return
            crc, length, kind = CHUNK.unpack(head)
            data = fh.read(length)
            if len(data) < length:
                return
            if zlib.crc32(data, zlib.crc32(bytes([kind]))) != crc or kind not in (FULL, FIRST, MIDDLE, LAST):
                raise UnreadableRecord(str(path), f"corrupt W&B log: bad chunk at byte {offset}")
            offset += CHUNK.size + length
            parts = [data] if kind in (FULL, FIRST) else [*parts, data]
            if kind in (FULL, LAST):
                record = Record()
                try:
                    record.ParseFromString(b"".join(parts))
                except DecodeError as exc:
                    raise UnreadableRecord(str(path), f"corrupt W&B record before byte {offset}: {exc}") from None
                yield record


def _items(items) -> dict:
    """W&B's ``key``/``nested_key`` + ``value_json`` items as a flat dict."""
    return {item.key or "/".join(item.nested_key): _json(item.value_json) for item in items}


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:  # not JSON: kept as text, so never a metric
        return text


def _config(items) -> dict:
    return {k: v for k, v in _items(items).items() if not k.startswith("_wandb")}


def units(spec: str) -> list[Unit]:
    _record_class(spec)  # without wandb: one line for the whole source
    out = []
    for folder in _run_folders(Path(spec)):
        log = _log_file(folder)
        try:
            head = next((r.run for r in records(log) if r.WhichOneof("record_type") == "run"), None)
        except UnreadableRecord:  # fetch says why, in this run's row
            head = None
        name = head.display_name if head is not None and head.display_name else folder.name
        hparams = flatten(_config(head.config.update)) if head is not None else {}
        out.append(Unit(KIND, str(log), folder.name, file_stamp([log]), name=name, hparams=hparams))
    return out


def fetch(unit: Unit):
    from ..readers.json_lines import run_of_rows

    history: list[dict] = []
    config: dict = {}
    exited = False
    for record in records(Path(unit.locator)):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history.append(_items(record.history.item))
        elif kind in ("run", "config"):
            config.update(_config((record.run.config if kind == "run" else record.config).update))
        elif kind == "exit":
            exited = True
    run = run_of_rows(history, source=unit.locator, format=FORMAT, notes=[] if exited else [NO_EXIT])
    run.info["hparams"] = flatten(config)
    return [run]
