"""MLflow experiments: the ``mlruns/`` file store, the ``mlflow.db`` SQLite store
(MLflow 3's default, read with sqlite3, no MLflow needed) and a tracking server (the
MLflow client, ``fitdoc[mlflow]``). Params are the hyperparameters.

Specs: ``mlruns/`` (or one experiment folder in it); ``mlflow.db`` or
``sqlite:///mlflow.db``, with ``#EXPERIMENT`` for one experiment by name;
``mlflow://HOST:PORT/EXPERIMENT/`` for a server (``mlflow+https://`` over HTTPS).
A server's runs are listed with ``search_runs`` a page of ``PAGE`` at a time; each
run's full metric histories are fetched by the worker that diagnoses it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from ..errors import FitdocError
from ..readers import mlflow_store
from . import Unit, file_stamp, hp_value

KIND = "mlflow_runs"
PAGE = 1000
STATUS = {"1": "running", "2": "scheduled", "3": "finished", "4": "failed", "5": "killed"}
_TABLES = {"experiments", "runs", "metrics", "params"}
_clients: dict = {}  # per process: tracking URI -> MlflowClient
_connections: dict = {}  # per process: database path -> sqlite3 connection


def _database(spec: str) -> tuple[Path, str | None] | None:
    """(path, experiment name) of an MLflow SQLite store, None when ``spec`` is not one."""
    text, _, experiment = spec.partition("#")
    path = Path(text[len("sqlite:///"):] if text.startswith("sqlite:///") else text)
    if not path.is_file() or _TABLES - sqlite_tables(path):
        return None
    return path, experiment or None


def sqlite_tables(path: Path) -> set[str]:
    """The tables of an SQLite file; empty for any other file."""
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            return set()
    with closing(_connect(path)) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def claims(spec: str) -> bool:
    if spec.split("://", 1)[0] in mlflow_store.SCHEMES:
        return True
    path = Path(spec.partition("#")[0])
    if path.is_dir():
        return bool(mlflow_store._run_dirs(path))
    return _database(spec) is not None


def units(spec: str) -> list[Unit]:
    if spec.split("://", 1)[0] in mlflow_store.SCHEMES:
        tracking_uri, host, port, experiment, run_ref = mlflow_store._parse_uri(spec)
        if run_ref:
            raise FitdocError(spec, "triage reads a whole experiment: end the URI with EXPERIMENT/")
        return server_units(spec, tracking_uri, experiment)
    found = _database(spec)
    if found:
        return database_units(*found)
    return [_store_unit(d) for d in mlflow_store._run_dirs(Path(spec))]


# --- file store ---------------------------------------------------------------------


def _store_unit(run_dir: Path) -> Unit:
    meta = mlflow_store._meta(run_dir / "meta.yaml")
    name_tag = run_dir / "tags" / "mlflow.runName"
    name = meta.get("run_name") or (name_tag.read_text(encoding="utf-8").strip() if name_tag.is_file() else "")
    state = STATUS.get(meta.get("status", ""), "")
    return Unit(KIND, f"file:{run_dir}", meta.get("run_id") or run_dir.name, file_stamp([run_dir]), name=name,
                state=state)


def _store_params(run_dir: Path) -> dict:
    folder = run_dir / "params"
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): hp_value(p.read_text(encoding="utf-8", errors="replace"))
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- SQLite store -------------------------------------------------------------------


def database_units(path: Path, experiment: str | None) -> list[Unit]:
    """One unit per active run of the store (or of ``experiment``), params included."""
    with closing(_connect(path)) as db:
        query = ("SELECT r.run_uuid, r.name, r.status, r.end_time FROM runs r JOIN experiments e "
                 "ON r.experiment_id = e.experiment_id WHERE r.lifecycle_stage = 'active' AND e.lifecycle_stage = 'active'")
        args: tuple = ()
        if experiment:
            query, args = query + " AND e.name = ?", (experiment,)
        runs = db.execute(query + " ORDER BY r.start_time", args).fetchall()
        if experiment and not runs and not db.execute("SELECT 1 FROM experiments WHERE name = ?", args).fetchone():
            raise FitdocError(f"{path}#{experiment}", "no experiment of this name in the store")
        params: dict[str, dict] = {}
        for run_id, key, value in db.execute("SELECT run_uuid, key, value FROM params"):
            params.setdefault(run_id, {})[key] = hp_value(value)
        latest = dict(db.execute("SELECT run_uuid, MAX(timestamp) || ':' || COUNT(*) FROM latest_metrics GROUP BY run_uuid"))
    return [Unit(KIND, f"sqlite:{path}", run_id, f"{status}:{end}:{latest.get(run_id)}", name=name or "",
                 state=(status or "").lower(), hparams=params.get(run_id, {}))
            for run_id, name, status, end in runs]


def _database_histories(path: str, run_id: str) -> dict:
    db = _connections.get(path)
    if db is None:
        db = _connections[path] = _connect(Path(path))
    histories: dict = {}
    try:
        for key, value, timestamp, step, is_nan in db.execute(
                "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? ORDER BY timestamp, step",
                (run_id,)):
            histories.setdefault(key, []).append((timestamp, step, float("nan") if is_nan else value))
    except sqlite3.Error as exc:
        raise FitdocError(path, f"cannot read the MLflow database: {exc}") from None
    return histories


# --- tracking server ----------------------------------------------------------------


def _client(tracking_uri: str):
    if tracking_uri not in _clients:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise FitdocError(tracking_uri, "reading a tracking server needs MLflow: pip install 'fitdoc[mlflow]'") from None
        _clients[tracking_uri] = MlflowClient(tracking_uri)
    return _clients[tracking_uri]


def server_units(spec: str, tracking_uri: str, experiment: str | None) -> list[Unit]:
    """The runs of ``experiment`` (every experiment when None) on a tracking server,
    listed a page at a time."""
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    try:
        with mlflow_store._client_limits():
            ids = mlflow_store.experiment_ids(client, spec, experiment)
            out, token = [], None
            while True:
                page = client.search_runs(ids, max_results=PAGE, page_token=token)
                for r in page:
                    state = r.info.status.lower()
                    stamp = None if state == "running" else f"{state}:{r.info.end_time}"
                    out.append(Unit(KIND, f"server:{tracking_uri}", r.info.run_id, stamp, name=r.info.run_name or "",
                                    state=state, hparams={k: hp_value(v) for k, v in r.data.params.items()},
                                    payload=sorted(r.data.metrics)))
                token = page.token
                if not token:
                    return out
    except MlflowException as exc:
        raise FitdocError(spec, f"MLflow server: {str(exc.message).splitlines()[0]}") from None


def _server_histories(tracking_uri: str, run_id: str, keys: list[str]) -> dict:
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    try:
        with mlflow_store._client_limits():
            return {key: [(m.timestamp, m.step, m.value) for m in client.get_metric_history(run_id, key)
                          if abs(m.step) <= mlflow_store.MAX_INDEX] for key in keys}
    except MlflowException as exc:
        raise FitdocError(f"{tracking_uri}#{run_id}", f"MLflow server: {str(exc.message).splitlines()[0]}") from None


# --- fetch --------------------------------------------------------------------------


def fetch(unit: Unit):
    mode, _, where = unit.locator.partition(":")
    if mode == "file":
        run = mlflow_store._read_run_dir(Path(where))
        runs, hparams = ([run] if run is not None else []), _store_params(Path(where))
    else:
        histories = (_database_histories(where, unit.run_id) if mode == "sqlite"
                     else _server_histories(where, unit.run_id, unit.payload or []))
        info = {"run_id": unit.run_id, "run_name": unit.name}
        runs, hparams = [mlflow_store._build(histories, f"{where}#{unit.run_id}", info, [])], unit.hparams
    for run in runs:
        run.info["hparams"] = hparams
    return runs
