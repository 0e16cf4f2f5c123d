"""MLflow: a file store (``mlruns/``) read directly, or a tracking server through
MLflow's client (the ``fitdoc[mlflow]`` extra).

File store: pass the store (``mlruns/``), an experiment directory or a run directory;
a store or experiment gives one run per active run. Metric files hold
``<timestamp_ms> <value> <step>`` lines; a metric logged as ``val/acc`` is the file
``metrics/val/acc``. A cut last line is ignored with a note.

Tracking server, by URI::

    mlflow://HOST:PORT/RUN                 a run id, or a run name in any experiment
    mlflow://HOST:PORT/EXPERIMENT/RUN      a run id or name in the named experiment
    mlflow://HOST:PORT/EXPERIMENT/         every run of the experiment

``mlflow+https://`` reaches a server over HTTPS; names are URL-quoted (``%2F``).

Epochs: MLflow metrics carry a step, not an epoch. When the run logs an ``epoch``
metric (Hugging Face and Lightning integrations do), each step takes the epoch logged
at the nearest following step and the steps are kept as step series; otherwise each
step is an epoch, numbered as logged. A metric whose step goes back was resumed: the
later values win and a ``resume`` event is kept. MLflow's database stores save an
infinite value as +/-1.7976931348623157e308 (the largest float); it is read as +/-inf.
A value written as ``NA``/``None``/``null`` is a missing point.

A tracking server gets ``MLFLOW_HTTP_REQUEST_TIMEOUT=10`` (seconds per request),
``MLFLOW_HTTP_REQUEST_MAX_RETRIES=2``, ``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=1`` and
``MLFLOW_ALLOW_HTTP_REDIRECTS=false`` (a redirect could send the requests to another
host or downgrade HTTPS) unless these variables are set in the environment.
"""

from __future__ import annotations

import math
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import FitdocError, UnreadableRecord
from ..run import Run, build_run
from . import textio
from .numbers import MAX_INDEX, index_or_none, parse_index, parse_number
from .steps import CompleteLines, EpochByStep, StepLog, epoch_of_fraction

FORMAT = "mlflow"

SCHEMES = {"mlflow": "http", "mlflow+http": "http", "mlflow+https": "https"}
_EPOCH = "epoch"
# MLflow client settings while fitdoc reads a server, unless the environment sets them.
CLIENT_LIMITS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_ALLOW_HTTP_REDIRECTS": "false",
}

# A metric history: (timestamp_ms, step, value) in the order it was logged.
History = list[tuple[int, int, float]]


def sniff(source) -> float:
    return 0.9 if source.is_dir and _run_dirs(source.path) else 0.0


def read(source) -> Run | list[Run]:
    runs = [_read_run_dir(d) for d in _run_dirs(source.path)] if source.is_dir else []
    runs = [r for r in runs if r is not None]
    if not runs:
        raise UnreadableRecord(source.name, "no MLflow run here (a run directory has meta.yaml and metrics/)")
    return runs[0] if len(runs) == 1 else runs


def _is_run(d: Path) -> bool:
    return (d / "meta.yaml").is_file() and (d / "metrics").is_dir()


def _subdirs(d: Path) -> list[Path]:
    return sorted(c for c in d.iterdir() if c.is_dir() and not c.name.startswith("."))


def _run_dirs(path: Path) -> list[Path]:
    """Run directories of a run, an experiment or a store, oldest first."""
    if _is_run(path):
        return [path]
    runs = [c for c in _subdirs(path) if _is_run(c)]
    if not runs:
        runs = [r for e in _subdirs(path) for r in _subdirs(e) if _is_run(r)]
    return sorted(runs, key=lambda d: index_or_none(_meta(d / "meta.yaml").get("start_time")) or 0)


def _meta(path: Path) -> dict[str, str]:
    """The top-level ``key: value`` scalars of an MLflow ``meta.yaml``."""
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key and not key.startswith((" ", "-")):
            out[key.strip()] = value.strip().strip("'\"")
    return out


def _read_run_dir(run_dir: Path) -> Run | None:
    meta = _meta(run_dir / "meta.yaml")
    if meta.get("lifecycle_stage") == "deleted":
        return None
    metrics: dict[str, History] = {}
    notes: list[str] = []
    metrics_dir = run_dir / "metrics"
    for f in sorted(p for p in metrics_dir.rglob("*") if p.is_file()):
        metrics[f.relative_to(metrics_dir).as_posix()] = _read_metric_file(f, notes)
    info = {k: meta[k] for k in ("run_id", "run_name", "experiment_id") if meta.get(k)}
    return _build(metrics, str(run_dir), info, notes)


def _read_metric_file(path: Path, notes: list[str]) -> History:
    history: History = []
    with textio.open_text(path, "utf-8") as fh:
        lines = CompleteLines(fh)
        for line in lines:
            fields = line.split()
            if not fields:
                continue
            try:
                if len(fields) not in (2, 3):
                    raise ValueError
                value = parse_number(fields[1])
                point = (parse_index(fields[0]), parse_index(fields[2]) if len(fields) == 3 else 0, value)
            except (ValueError, TypeError):
                raise UnreadableRecord(str(path), f"line {lines.number}: expected '<timestamp_ms> <value> <step>', got {line.strip()[:80]!r}") from None
            if value is not None:
                history.append(point)
    if lines.cut is not None:
        notes.append(f"{path}: {lines.cut_note()}")
    return history


def _build(metrics: dict[str, History], source: str, info: dict, notes: list[str]) -> Run:
    """A run from metric histories, steps mapped to epochs (see the module docstring)."""
    epochs = [(ts, step, v) for ts, step, v in metrics.pop(_EPOCH, None) or [] if abs(v) <= MAX_INDEX]
    log = StepLog()
    if epochs:
        fractional = any(not float(v).is_integer() for _, _, v in epochs)
        epoch_of = EpochByStep([(step, epoch_of_fraction(v) if fractional else int(v)) for _, step, v in epochs])
    points = sorted(
        ((ts, i, name, step, value) for name, history in metrics.items() for i, (ts, step, value) in enumerate(history)),
        key=lambda p: (p[0], p[1]),
    )
    for _, _, name, step, value in points:
        if abs(value) == sys.float_info.max:
            value = math.copysign(math.inf, value)
        if epochs:
            log.add(step, epoch_of(step), {name: value})
        else:
            log.add(step, step, {name: value}, per_step=False)
    return build_run(
        log.epoch_rows(), source=source, format=FORMAT, events=log.events, step_series=log.step_series(), notes=notes, info=info
    )


def read_uri(uri: str) -> list[Run]:
    """The runs an ``mlflow://`` URI names, read from the tracking server."""
    tracking_uri, host, port, experiment, run_ref = _parse_uri(uri)
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise FitdocError(uri, "reading a tracking server needs MLflow: pip install fitdoc[mlflow]") from None
    try:  # fail fast: MLflow's client retries a refused connection for minutes
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise FitdocError(uri, f"cannot reach the MLflow tracking server at {host}:{port} ({exc.strerror or exc})") from None
    client = MlflowClient(tracking_uri)
    with _client_limits():
        return _read_server(client, uri, tracking_uri, experiment, run_ref)


@contextmanager
def _client_limits():
    """``CLIENT_LIMITS`` in the environment for the MLflow client, then the environment as it was."""
    added = {k: v for k, v in CLIENT_LIMITS.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def _read_server(client, uri: str, tracking_uri: str, experiment: str | None, run_ref: str) -> list[Run]:
    from mlflow.exceptions import MlflowException

    try:
        found = _find_runs(client, uri, experiment, run_ref)
        runs = []
        for r in found:
            metrics = {
                key: [(m.timestamp, m.step, m.value) for m in client.get_metric_history(r.info.run_id, key)
                      if abs(m.step) <= MAX_INDEX]
                for key in r.data.metrics
            }
            info = {"run_id": r.info.run_id, "run_name": r.info.run_name, "experiment_id": r.info.experiment_id}
            runs.append(_build(metrics, f"{tracking_uri}/#/experiments/{r.info.experiment_id}/runs/{r.info.run_id}", info, []))
    except MlflowException as exc:
        raise FitdocError(uri, f"MLflow server: {str(exc.message).splitlines()[0]}") from None
    for run in runs:
        if len(run) == 0:
            raise UnreadableRecord(uri, f"run {run.info['run_name'] or run.info['run_id']} has no metrics")
    return runs


def _parse_uri(uri: str) -> tuple[str, str, int, str | None, str]:
    parts = urlsplit(uri)
    scheme = SCHEMES.get(parts.scheme)
    segments = [unquote(s) for s in parts.path.split("/")[1:]]
    if scheme is None or not parts.hostname or len(segments) not in (1, 2) or not any(segments):
        raise FitdocError(uri, "expected mlflow://HOST:PORT/RUN, mlflow://HOST:PORT/EXPERIMENT/RUN or mlflow://HOST:PORT/EXPERIMENT/")
    port = parts.port or (443 if scheme == "https" else 80)
    experiment = segments[0] if len(segments) == 2 else None
    return f"{scheme}://{parts.hostname}:{port}", parts.hostname, port, experiment, segments[-1]


def experiment_ids(client, uri: str, experiment: str | None) -> list[str]:
    """The ids of the experiment named ``experiment`` on a server (of every one when None)."""
    if experiment is None:
        return [e.experiment_id for e in client.search_experiments()]
    found = client.get_experiment_by_name(experiment)
    if found is None:
        raise FitdocError(uri, f"no experiment named {experiment!r} on this server")
    return [found.experiment_id]


def _find_runs(client, uri: str, experiment: str | None, run_ref: str) -> list:
    ids = experiment_ids(client, uri, experiment)
    if not run_ref:
        runs = client.search_runs(ids)
        if not runs:
            raise FitdocError(uri, f"experiment {experiment!r} has no runs")
        return list(runs)
    by_id = _run_by_id(client, run_ref)
    if by_id is not None and (experiment is None or by_id.info.experiment_id in ids):
        return [by_id]
    quote = '"' if "'" in run_ref else "'"
    runs = client.search_runs(ids, filter_string=f"attributes.run_name = {quote}{run_ref}{quote}")
    if not runs:
        raise FitdocError(uri, f"no run with id or name {run_ref!r}")
    return list(runs)


def _run_by_id(client, run_ref: str):
    from mlflow.exceptions import MlflowException

    if len(run_ref) != 32 or any(c not in "0123456789abcdef" for c in run_ref):
        return None
    try:
        return client.get_run(run_ref)
    except MlflowException:
        return None
