"""A folder or a glob of records fitdoc reads: each file or run folder is one unit.

Hyperparameters come from a run folder's ``params.json``, ``hparams.json`` or
``hparams.yaml`` (top-level scalars), and from ``key=value`` pairs in the run's name
(``lr=0.003_batch_size=32.csv``); the sidecar wins.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import FitdocError
from . import Unit, file_stamp, flatten, hp_value

KIND = "records"
SIDECARS = ("params.json", "hparams.json", "hparams.yaml")
_PAIR = re.compile(r"(?:^|[_, ])([A-Za-z][A-Za-z0-9.]*(?:_[A-Za-z][A-Za-z0-9.]*)*)=([^_,= ]+)")


def claims(spec: str) -> bool:
    return Path(spec).exists()


def units(spec: str) -> list[Unit]:
    path = Path(spec)
    entries = [path] if path.is_file() or _is_run_folder(path) else sorted(
        c for c in path.iterdir() if not c.name.startswith(".") and c.name not in SIDECARS)
    return [Unit(KIND, str(e), str(e), file_stamp([e]), name=e.stem if e.is_file() else e.name) for e in entries]


def _is_run_folder(path: Path) -> bool:
    """A folder that is one run: it holds a parameters sidecar."""
    return any((path / s).is_file() for s in SIDECARS)


def fetch(unit: Unit):
    from ..readers import read_runs

    path = Path(unit.locator)
    runs = read_runs(path, on_skip=lambda exc: None)
    hparams = {**name_params(unit.name), **(sidecar_params(path) if path.is_dir() else {})}
    for run in runs:
        run.info["hparams"] = hparams
    return runs


def name_params(name: str) -> dict:
    """``key=value`` pairs in a run's name."""
    return {k: hp_value(v) for k, v in _PAIR.findall(name)}


def sidecar_params(folder: Path) -> dict:
    """The hyperparameters a run folder's sidecar file states."""
    from ..readers.mlflow_store import _meta

    for name in SIDECARS:
        path = folder / name
        if not path.is_file():
            continue
        if name.endswith(".yaml"):
            return {k: hp_value(v) for k, v in _meta(path).items()}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FitdocError(str(path), f"unreadable parameters: {exc}") from None
        return flatten(data) if isinstance(data, dict) else {}
    return {}
