"""A Ray Tune experiment folder: each trial folder holds ``params.json`` (its config)
and ``result.json`` (one JSON result per line) or ``progress.csv``. The epoch is
``training_iteration``; Ray's own bookkeeping fields are left out of the curves."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..errors import UnreadableRecord
from ..readers.numbers import is_number, parse_number
from ..run import build_run
from . import Unit, file_stamp, flatten

KIND = "raytune"
FORMAT = "ray-tune"
RESULTS = ("result.json", "progress.csv")
RAY_FIELDS = {
    "training_iteration", "time_this_iter_s", "time_total_s", "timestamp", "time_since_restore",
    "iterations_since_restore", "timesteps_total", "episodes_total", "timesteps_since_restore", "done",
    "pid", "node_ip", "hostname", "date", "trial_id", "experiment_id", "config", "should_checkpoint",
    "checkpoint_dir_name", "experiment_tag", "warmup_time", "fitdoc",
}


def _is_trial(path: Path) -> bool:
    return (path / "params.json").is_file() and any((path / r).is_file() for r in RESULTS)


def _trials(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    return sorted(c for c in path.iterdir() if c.is_dir() and _is_trial(c))


def claims(spec: str) -> bool:
    return bool(_trials(Path(spec)))


def units(spec: str) -> list[Unit]:
    return [Unit(KIND, str(t), t.name, file_stamp([t / "params.json", *(t / r for r in RESULTS)]), name=t.name)
            for t in _trials(Path(spec))]


def results(folder: Path) -> list[dict]:
    """The trial's result dicts in order, from ``result.json`` or else ``progress.csv``."""
    if (folder / "result.json").is_file():
        lines = (folder / "result.json").read_text(encoding="utf-8", errors="replace").splitlines()
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:  # a trial cut mid-write
                continue
        return out
    with open(folder / "progress.csv", encoding="utf-8", errors="replace", newline="") as fh:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _number(cell):
    try:
        return parse_number(cell) if cell not in ("", None) else None
    except ValueError:  # dates, host names
        return cell


def run_from_results(items: list[dict], source: str):
    """A run from Ray Tune result dicts (``training_iteration`` as the epoch)."""
    rows = {}
    for i, result in enumerate(items, 1):
        epoch = result.get("training_iteration") or i
        rows[epoch] = {k: float(v) for k, v in result.items() if k not in RAY_FIELDS
                       and is_number(v)}
    return build_run(rows, source=source, format=FORMAT)


def fetch(unit: Unit):
    folder = Path(unit.locator)
    items = results(folder)
    if not items:
        raise UnreadableRecord(unit.locator, "this Ray Tune trial reported no result")
    run = run_from_results(items, unit.locator)
    run.info["hparams"] = flatten(json.loads((folder / "params.json").read_text(encoding="utf-8")))
    return [run]
