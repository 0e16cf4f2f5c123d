"""MLflow reader: real file stores and a real tracking server."""

import importlib.util
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import fitdoc
from fitdoc.errors import FitdocError, UnreadableRecord
from fitdoc.readers import Source, detect

from conftest import DATA

STORE = DATA / "mlflow" / "mlruns"
needs_mlflow = pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="mlflow is not installed (pip install fitdoc[mlflow])")


def by_name(runs):
    return {r.info["run_name"]: r for r in runs}


def check_demo_runs(runs):
    per_epoch, per_step = by_name(runs)["per-epoch"], by_name(runs)["per-step"]
    assert list(per_epoch.epochs) == [0, 1, 2, 3]  # steps are epochs when no epoch metric is logged
    assert list(per_epoch.get("loss").values) == [1.0, 0.6, 0.4, 0.3]
    assert list(per_epoch.get("val_accuracy").values) == [0.5, 0.7, 0.75, 0.7]  # logged as val/acc
    val_loss = per_epoch.get("val_loss")
    assert val_loss.values[:3].tolist() == [1.1, 0.8, 0.9] and math.isnan(val_loss.values[3]) and val_loss.present[3]
    assert not per_epoch.step_series
    # an epoch metric (0.5, 1.0, ... at steps 2, 4, ...) maps steps to 1-based epochs
    assert list(per_step.epochs) == [1, 2, 3]
    assert per_step.get("loss").values.tolist() == pytest.approx([(1 / 2 + 1 / 4) / 2, (1 / 6 + 1 / 8) / 2, (1 / 10 + 1 / 12) / 2])
    assert per_step.get("val_loss").values.tolist() == pytest.approx([2 / 4, 2 / 8, 2 / 12])
    assert list(per_step.step_series["loss"].steps) == [2, 4, 6, 8, 10, 12]
    assert "epoch" not in per_step.series


def test_file_store_experiment_and_run_directories():
    source = Source(STORE)
    assert detect(source).FORMAT == "mlflow"
    runs = fitdoc.read_runs(STORE)
    check_demo_runs(runs)
    experiment = next(p for p in STORE.iterdir() if p.name not in ("0", ".trash"))
    assert len(fitdoc.read_runs(experiment)) == 2
    run_dir = by_name(runs)["per-epoch"].source
    run = fitdoc.read(run_dir)
    assert run.format == "mlflow" and run.info["run_name"] == "per-epoch"


@needs_mlflow
def test_file_store_written_by_mlflow_now(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from data import make_mlflow

    make_mlflow.write(tmp_path / "mlruns")
    check_demo_runs(fitdoc.read_runs(tmp_path / "mlruns"))


def copy_run(tmp_path, name="per-epoch"):
    source = by_name(fitdoc.read_runs(STORE))[name].source
    return shutil.copytree(source, tmp_path / "run")


def test_step_going_back_is_a_resume_keeping_the_later_values(tmp_path):
    run_dir = copy_run(tmp_path)
    with open(run_dir / "metrics" / "train_loss", "a") as fh:
        fh.write("1895426087400 0.55 2\n1895426087401 0.45 3\n")
    run = fitdoc.read(run_dir)
    assert list(run.get("loss").values) == [1.0, 0.6, 0.55, 0.45]
    assert [e.epoch for e in run.events_of("resume")] == [2]


def test_cut_metric_line_is_ignored_with_a_note_and_a_bad_line_is_an_error(tmp_path):
    run_dir = copy_run(tmp_path)
    metric = run_dir / "metrics" / "train_loss"
    metric.write_text(metric.read_text()[:-4])
    run = fitdoc.read(run_dir)
    assert run.get("loss").present.tolist() == [True, True, True, False]
    assert any("train_loss: line 4 is incomplete" in n for n in run.notes)
    metric.write_text("1795426087391 0.5\n1795426087392 zero 1\n")
    with pytest.raises(UnreadableRecord, match=r"train_loss: line 2: expected"):
        fitdoc.read(run_dir)


def test_directory_without_runs_is_one_error(tmp_path):
    with pytest.raises(UnreadableRecord):
        fitdoc.read(tmp_path)
    with pytest.raises(UnreadableRecord, match="no MLflow run"):
        fitdoc.read(tmp_path, format="mlflow")


def test_bad_uris_and_missing_mlflow_are_one_line_errors(monkeypatch):
    with pytest.raises(FitdocError, match="expected mlflow://HOST:PORT/RUN"):
        fitdoc.read("ftp://host/run")
    for name in [m for m in sys.modules if m.split(".")[0] == "mlflow"] + ["mlflow"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(FitdocError, match=r"pip install fitdoc\[mlflow\]"):
        fitdoc.read("mlflow://127.0.0.1:5000/run")


@needs_mlflow
def test_unreachable_server_fails_fast():
    port = free_port()
    start = time.monotonic()
    with pytest.raises(FitdocError, match=f"cannot reach the MLflow tracking server at 127.0.0.1:{port}"):
        fitdoc.read(f"mlflow://127.0.0.1:{port}/some-run")
    assert time.monotonic() - start < 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_mlflow
def test_tracking_server_by_run_id_run_name_and_experiment(tmp_path):
    from mlflow.tracking import MlflowClient

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{tmp_path}/mlflow.db",
         "--artifacts-destination", str(tmp_path / "artifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/health", server)
        client = MlflowClient(f"http://127.0.0.1:{port}")
        experiment = client.create_experiment("fit doc")
        run_id = client.create_run(experiment, run_name="sgd-1").info.run_id
        for step in range(4):
            client.log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
            client.log_metric(run_id, "val_loss", [1.2, 0.9, 0.8, math.inf][step], step=step)
        client.set_terminated(run_id)

        by_id = fitdoc.read(f"mlflow://127.0.0.1:{port}/{run_id}")
        assert by_id.format == "mlflow" and list(by_id.epochs) == [0, 1, 2, 3]
        assert by_id.get("loss").values.tolist() == [1.0, 0.5, 1 / 3, 0.25]
        # the SQL store keeps inf as the largest float; the reader gives inf back
        assert by_id.get("val_loss").values.tolist() == [1.2, 0.9, 0.8, math.inf]
        assert by_id.info == {"run_id": run_id, "run_name": "sgd-1", "experiment_id": experiment}
        by_name_ = fitdoc.read(f"mlflow://127.0.0.1:{port}/sgd-1")
        assert by_name_.get("loss").values.tolist() == by_id.get("loss").values.tolist()
        (in_experiment,) = fitdoc.read_runs(f"mlflow://127.0.0.1:{port}/fit%20doc/")
        assert in_experiment.info["run_id"] == run_id
        with pytest.raises(FitdocError, match="no run with id or name 'nope'"):
            fitdoc.read(f"mlflow://127.0.0.1:{port}/fit%20doc/nope")
        with pytest.raises(FitdocError, match="no experiment named 'other'"):
            fitdoc.read(f"mlflow://127.0.0.1:{port}/other/sgd-1")
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and its uvicorn worker
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def wait_for(url: str, server: subprocess.Popen, timeout: float = 180) -> None:
    """Wait for the server to answer; its start (imports, database migrations) took
    from 20 s to over 90 s on a shared 2-core machine, depending on load."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"mlflow server did not answer {url} within {timeout:.0f} s")
