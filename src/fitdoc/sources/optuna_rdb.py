"""An Optuna study in RDB storage (``sqlite:///study.db``, ``postgresql://...``, or the
path of an SQLite file holding Optuna's tables), through Optuna (``fitdoc[optuna]``).
``#STUDY`` after the URL picks one study; otherwise every study is read.

Each trial is a run: its intermediate values are the curve of the objective, its
params the hyperparameters, its state (complete, pruned, fail, running) kept. The
objective's metric name is the study's ``fitdoc_metric`` user attribute when set
(:class:`fitdoc.integrations.optuna.Pruner` sets it), else ``val_loss`` for a study
that minimises and ``val_accuracy`` for one that maximises. Metrics reported with
:func:`fitdoc.integrations.optuna.report` (training loss beside the objective...)
are kept in the trial's ``fitdoc_history`` user attribute and read too.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import FitdocError
from ..run import build_run
from . import Unit, flatten

KIND = "optuna_rdb"
FORMAT = "optuna"
HISTORY_ATTR = "fitdoc_history"
METRIC_ATTR = "fitdoc_metric"
SCHEMES = ("sqlite", "postgresql", "mysql", "oracle", "mssql")
_TABLES = {"studies", "trials", "trial_intermediate_values"}


def _storage_url(spec: str) -> str | None:
    text = spec.partition("#")[0]
    if text.split(":", 1)[0].split("+", 1)[0] in SCHEMES and "://" in text:
        if text.startswith("sqlite:///"):
            from .mlflow_runs import sqlite_tables

            path = Path(text[len("sqlite:///"):])
            return text if path.is_file() and not _TABLES - sqlite_tables(path) else None
        return text
    path = Path(text)
    if path.is_file():
        from .mlflow_runs import sqlite_tables

        if not _TABLES - sqlite_tables(path):
            return f"sqlite:///{path.resolve()}"
    return None


def claims(spec: str) -> bool:
    return _storage_url(spec) is not None


def objective_metric(study) -> str:
    """The name the objective's intermediate values are diagnosed under."""
    import optuna

    named = study.user_attrs.get(METRIC_ATTR)
    if named:
        return named
    return "val_accuracy" if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else "val_loss"


def trial_run(intermediate: dict, history: dict | None, metric: str, source: str):
    """A run from a trial's intermediate values (``{step: value}``, the objective under
    ``metric``) and the metrics :func:`fitdoc.integrations.optuna.report` kept."""
    rows = {int(step): {metric: float(value)} for step, value in intermediate.items()}
    if history:
        for i, step in enumerate(history.get("steps", [])):
            rows.setdefault(int(step), {}).update(
                {k: float(vs[i]) for k, vs in history.items() if k != "steps" and i < len(vs) and vs[i] is not None})
    return build_run(rows, source=source, format=FORMAT)


def units(spec: str) -> list[Unit]:
    try:
        import optuna
    except ImportError:
        raise FitdocError(spec, "reading an Optuna study needs Optuna: pip install 'fitdoc[optuna]'") from None
    import sqlalchemy.exc

    url, only = _storage_url(spec), spec.partition("#")[2]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        storage = optuna.storages.RDBStorage(url, skip_compatibility_check=False)
        names = [only] if only else optuna.study.get_all_study_names(storage)
        out = []
        for name in names:
            study = optuna.load_study(study_name=name, storage=storage)
            metric = objective_metric(study)
            for t in study.get_trials(deepcopy=False):
                state = t.state.name.lower()
                stamp = f"{state}:{t.datetime_complete}:{len(t.intermediate_values)}"
                payload = {"values": dict(t.intermediate_values), "history": t.user_attrs.get(HISTORY_ATTR),
                           "metric": metric}
                out.append(Unit(KIND, url, f"{name}/{t.number}", stamp, name=f"trial {t.number}", state=state,
                                hparams=flatten(t.params), payload=payload))
    except KeyError as exc:  # optuna: a study name not in the storage
        raise FitdocError(spec, f"no such study: {exc}") from None
    except (ValueError, optuna.exceptions.OptunaError, sqlalchemy.exc.SQLAlchemyError) as exc:
        raise FitdocError(spec, f"cannot read the Optuna storage: {str(exc).splitlines()[0]}") from None
    return out


def fetch(unit: Unit):
    data = unit.payload
    run = trial_run(data["values"], data["history"], data["metric"], f"{unit.locator}#{unit.run_id}")
    run.info["hparams"] = unit.hparams
    return [run]
