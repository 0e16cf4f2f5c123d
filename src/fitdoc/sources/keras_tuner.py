"""A Keras Tuner project (``directory/project_name/``: ``oracle.json`` and one
``trial_N/trial.json`` per trial), or a folder of such projects. Each trial is a run:
``hyperparameters.values`` are its hyperparameters, ``status`` its state.

trial.json keeps no per-epoch curve: for each metric, only the value at the trial's
best epoch (``best_step``, 0-based; the mean over executions). The curve comes from a
record fitdoc reads that is put in the trial folder, e.g. a ``CSVLogger`` added by a
``run_trial`` override::

    class Search(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            log = os.path.join(self.get_trial_dir(trial.trial_id), "log.csv")
            kwargs["callbacks"] = [*kwargs.get("callbacks", []), keras.callbacks.CSVLogger(log)]
            return super().run_trial(trial, *args, **kwargs)

Without one, the trial is a run of those best-epoch values alone, with a note saying so.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import UnreadableRecord
from ..run import build_run
from . import Unit, file_stamp, flatten

KIND = "keras_tuner"
FORMAT = "keras-tuner"
TUNER_FILES = ("trial.json", "build_config.json")  # besides checkpoint* weights
NO_CURVE = "no per-epoch curve in trial.json: its best epoch only"


def _is_project(path: Path) -> bool:
    return (path / "oracle.json").is_file() and any(path.glob("trial_*/trial.json"))


def _projects(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    if _is_project(path):
        return [path]
    return sorted(c for c in path.iterdir() if c.is_dir() and _is_project(c))


def _trials(project: Path) -> list[Path]:
    found = (c for c in project.iterdir() if c.name.startswith("trial_") and (c / "trial.json").is_file())
    return sorted(found, key=lambda c: (len(c.name), c.name))  # trial_2 before trial_10


def claims(spec: str) -> bool:
    return bool(_projects(Path(spec)))


def units(spec: str) -> list[Unit]:
    out = []
    for project in _projects(Path(spec)):
        for trial in _trials(project):
            try:
                data = load_trial(trial / "trial.json")
            except UnreadableRecord:  # fetch says why, in this trial's row
                data = {}
            name = f"{project.name}/{trial.name}"
            out.append(Unit(KIND, str(trial), name, file_stamp([trial]), name=name,
                            state=str(data.get("status") or "").lower(), hparams=trial_params(data)))
    return out


def load_trial(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableRecord(str(path), f"unreadable Keras Tuner trial: {exc}") from None
    if not isinstance(_at(data, "metrics", "metrics"), dict):
        raise UnreadableRecord(str(path), "not a Keras Tuner trial (no metrics.metrics mapping)")
    return data


def _at(data, *keys):
    """``data[key][key]...`` where each step is a mapping, else None."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def trial_params(data: dict) -> dict:
    values = _at(data, "hyperparameters", "values")
    return flatten(values) if isinstance(values, dict) else {}


def best_step_run(data: dict, source: str):
    """A run of the observations trial.json keeps (``{metric: {observations: [{value:
    [per execution], step}]}}``), or None when the trial reported none."""
    rows: dict[int, dict[str, float]] = {}
    try:
        for metric, history in _at(data, "metrics", "metrics").items():
            for obs in history.get("observations", []):
                values = [float(v) for v in obs["value"]]
                if values:
                    rows.setdefault(int(obs.get("step", 0)), {})[metric] = math.fsum(values) / len(values)
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:
        raise UnreadableRecord(source, f"malformed metric observations ({type(exc).__name__}: {exc})") from None
    if not rows:
        return None
    return build_run(rows, source=source, format=FORMAT, notes=[NO_CURVE] if len(rows) == 1 else [],
                     info={"epoch_base": 0})


def _records(trial: Path) -> list[Path]:
    """What the user put in the trial folder: anything but Keras Tuner's own files."""
    return sorted(c for c in trial.iterdir() if c.name not in TUNER_FILES and not c.name.startswith(("checkpoint", ".")))


def fetch(unit: Unit):
    from ..readers import read_runs

    trial = Path(unit.locator)
    data = load_trial(trial / "trial.json")
    runs, skipped = [], []
    for record in _records(trial):
        try:
            runs += read_runs(record, on_skip=skipped.append)
        except UnreadableRecord as exc:  # not a training record (a pickled model, a note), or a broken one
            skipped.append(exc)
    if not runs:
        fallback = best_step_run(data, str(trial / "trial.json"))
        if fallback is None:
            message = (data.get("message") or "").strip().splitlines()
            why = f": {message[-1]}" if message else ""
            raise UnreadableRecord(unit.locator, f"trial {unit.state or 'without a status'} reported no metrics{why}")
        if skipped:
            fallback.notes.append(f"not read as records: {', '.join(Path(e.source).name for e in skipped)}")
        runs = [fallback]
    for run in runs:
        run.info["hparams"] = trial_params(data)
    return runs
