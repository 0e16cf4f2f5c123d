"""Sources of many runs for ``fitdoc triage``: list the runs of a sweep cheaply, fetch
each one later, in whichever process or Ray task diagnoses it.

A source module defines ``claims(spec) -> bool`` (whether ``spec`` — a path, a glob, a
URL — is one of its stores), ``units(spec) -> list[Unit]`` (the listing: ids, a stamp
that changes when a run changes, the hyperparameters when the listing has them) and
``fetch(unit) -> list[Run]`` (the runs of one unit, with their hyperparameters in
``run.info["hparams"]``). Units are plain picklable data: a worker needs nothing else.

Detection order: Optuna and MLflow databases and servers by URL or by their tables,
an MLflow ``mlruns/`` store, a Ray Tune experiment, a Keras Tuner project, a W&B
``wandb/`` folder of offline runs, ``lightning_logs/``, then any folder or glob of
records fitdoc reads.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field

from ..errors import FitdocError

MODULES = ["optuna_rdb", "mlflow_runs", "raytune", "keras_tuner", "wandb_offline", "lightning_logs", "records"]


@dataclass(frozen=True)
class Unit:
    """One fetchable piece of a sweep (usually one run)."""

    kind: str  # the source module that fetches it
    locator: str  # what that module opens: a path, a storage URL
    run_id: str  # stable within the source
    stamp: str | None = None  # changes whenever the run does; None: not cached
    name: str = ""
    state: str = ""  # finished, running, failed, pruned... when the source says
    hparams: dict = field(default_factory=dict)
    payload: object = None  # data the listing already fetched (an Optuna trial's curve)

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.locator}|{self.run_id}"


def _module(name: str):
    return importlib.import_module(f"{__name__}.{name}")


def units(spec: str) -> list[Unit]:
    """The units of the source ``spec``, detected from its form and content."""
    for name in MODULES:
        module = _module(name)
        if module.claims(spec):
            found = module.units(spec)
            if not found:
                raise FitdocError(spec, "no runs in this source")
            return found
    raise FitdocError(spec, "not a source of runs fitdoc triages (folder, glob, mlruns/, mlflow.db, "
                            "Optuna storage URL, Ray Tune experiment, Keras Tuner project, "
                            "W&B wandb/ folder, lightning_logs/)")


def fetch(unit: Unit):
    """The runs of ``unit``, each with ``info["hparams"]``."""
    return _module(unit.kind).fetch(unit)


def hp_value(value):
    """A hyperparameter as a number when it reads as one (MLflow and YAML give strings)."""
    if isinstance(value, str):
        text = value.strip()
        low = text.lower()
        if low in ("true", "false"):
            return low == "true"
        try:
            number = float(text)
        except ValueError:
            return text
        if not math.isfinite(number):
            return text
        return int(number) if number.is_integer() and "." not in text and "e" not in low else number
    if isinstance(value, (list, tuple)):
        return str(list(value))
    if isinstance(value, dict):
        return str(value)
    return value


def flatten(params: dict, prefix: str = "") -> dict:
    """Nested parameters as ``outer/inner`` keys with :func:`hp_value` values."""
    out = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}/"))
        else:
            out[name] = hp_value(value)
    return out


def file_stamp(paths) -> str:
    """Latest modification time and total size of ``paths`` (files; folders are walked)."""
    import os

    latest, size = 0, 0
    for path in paths:
        if os.path.isdir(path):
            for folder, _, files in os.walk(path):
                for name in files:
                    st = os.stat(os.path.join(folder, name))
                    latest, size = max(latest, st.st_mtime_ns), size + st.st_size
        elif os.path.exists(path):
            st = os.stat(path)
            latest, size = max(latest, st.st_mtime_ns), size + st.st_size
    return f"{latest}:{size}"
