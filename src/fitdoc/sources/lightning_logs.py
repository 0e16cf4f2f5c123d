"""Lightning's ``lightning_logs/`` (or any logger folder): each ``version_N/`` is one
run, ``metrics.csv`` its curves and ``hparams.yaml`` its hyperparameters."""

from __future__ import annotations

import re
from pathlib import Path

from . import Unit, file_stamp

KIND = "lightning_logs"
_VERSION = re.compile(r"version_\d+$")


def _versions(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    return sorted((c for c in path.iterdir() if _VERSION.match(c.name) and (c / "metrics.csv").is_file()),
                  key=lambda c: int(c.name.split("_")[1]))


def claims(spec: str) -> bool:
    return bool(_versions(Path(spec)))


def units(spec: str) -> list[Unit]:
    return [Unit(KIND, str(v), v.name, file_stamp([v / "metrics.csv", v / "hparams.yaml"]), name=v.name)
            for v in _versions(Path(spec))]


def fetch(unit: Unit):
    from ..readers import read_runs
    from .records import sidecar_params

    folder = Path(unit.locator)
    runs = read_runs(folder / "metrics.csv", "lightning-csv")
    for run in runs:
        run.info["hparams"] = sidecar_params(folder)
    return runs
