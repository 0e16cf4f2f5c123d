"""A synthetic hyperparameter sweep with seeded bad regions, written in the layouts
``fitdoc triage`` reads (the benchmark and the tests use it).

Each run draws ``lr`` (log-uniform 1e-5..1e-1), ``batch_size`` (16..256), ``dropout``
(0..0.5), ``optimizer`` (adam, sgd) and trains for ``EPOCHS`` epochs of a made-up
curve. The seeded regions:

- ``lr >= 3e-3``: the loss diverges (grows from an epoch on; past 1e6 it is NaN);
- ``dropout < 0.1`` (and lr below the bad region): the validation loss turns and
  rises from about epoch 12 while the training loss keeps falling (overfitting);
- everything else converges.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import uuid
from pathlib import Path

EPOCHS = 30
BAD_LR = 3e-3
OVERFIT_DROPOUT = 0.1


def params(rng: random.Random) -> dict:
    return {"lr": float(f"{10 ** rng.uniform(-5, -1):.3g}"), "batch_size": rng.choice([16, 32, 64, 128, 256]),
            "dropout": round(rng.uniform(0, 0.5), 2), "optimizer": rng.choice(["adam", "sgd"])}


def curves(p: dict, rng: random.Random, epochs: int = EPOCHS) -> dict[str, list[float]]:
    """loss, val_loss, accuracy and val_accuracy of one run, per epoch."""
    speed = min(0.35, 40 * p["lr"] ** 0.5)
    floor = 0.25 + 0.1 * p["dropout"] + 0.02 * rng.random()
    loss, val, acc, val_acc = [], [], [], []
    start = 2.3 * (1 + 0.05 * rng.random())
    turn = 10 + rng.randint(0, 4)
    blow = rng.randint(2, 6)
    for t in range(epochs):
        train = floor + (start - floor) * math.exp(-speed * t) + 0.01 * rng.random()
        gap = 0.05 + 0.01 * rng.random()
        if p["lr"] >= BAD_LR and t >= blow:
            train = start * math.exp(0.9 * (t - blow + 1))
            train = float("nan") if train > 1e6 else train
            gap = 0.1 * train if math.isfinite(train) else 0.0
        elif p["dropout"] < OVERFIT_DROPOUT and t > turn:
            train = train * (1 - 0.03 * (t - turn))
            gap = 0.05 + 0.06 * (t - turn)
        v = train + gap
        loss.append(train)
        val.append(v)
        acc.append(max(0.1, min(0.99, 1.05 - train / 2.3)) if math.isfinite(train) else float("nan"))
        val_acc.append(max(0.1, min(0.99, 1.02 - v / 2.3)) if math.isfinite(v) else float("nan"))
    return {"loss": loss, "val_loss": val, "accuracy": acc, "val_accuracy": val_acc}


def sweep(n: int, seed: int = 0) -> list[tuple[str, dict, dict]]:
    """``n`` runs: (name, params, curves)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = params(rng)
        out.append((f"run_{i:05d}", p, curves(p, rng)))
    return out


def _cell(v: float) -> str:
    return "nan" if math.isnan(v) else repr(v)


def write_csv_folder(folder: Path, runs) -> Path:
    """One folder per run: ``log.csv`` (Keras CSVLogger, 0-based epochs) and ``params.json``."""
    for name, p, c in runs:
        d = folder / name
        d.mkdir(parents=True, exist_ok=True)
        lines = ["epoch,accuracy,loss,val_accuracy,val_loss"]
        lines += [f"{t},{_cell(c['accuracy'][t])},{_cell(c['loss'][t])},{_cell(c['val_accuracy'][t])},{_cell(c['val_loss'][t])}"
                  for t in range(len(c["loss"]))]
        (d / "log.csv").write_text("\n".join(lines) + "\n")
        (d / "params.json").write_text(json.dumps(p))
    return folder


def write_mlruns(store: Path, runs, experiment_id: str = "1") -> Path:
    """An MLflow file store with one experiment: metrics as ``ts value step`` lines, params as files."""
    exp = store / experiment_id
    exp.mkdir(parents=True, exist_ok=True)
    (exp / "meta.yaml").write_text(f"artifact_location: {exp.resolve().as_uri()}\ncreation_time: 1700000000000\n"
                                   f"experiment_id: '{experiment_id}'\nlast_update_time: 1700000000000\n"
                                   "lifecycle_stage: active\nname: sweep\n")
    for i, (name, p, c) in enumerate(runs):
        run_id = uuid.uuid5(uuid.NAMESPACE_OID, name).hex
        d = exp / run_id
        (d / "metrics").mkdir(parents=True, exist_ok=True)
        for sub in ("params", "tags", "artifacts"):
            (d / sub).mkdir(exist_ok=True)
        (d / "meta.yaml").write_text(
            f"artifact_uri: {(d / 'artifacts').resolve().as_uri()}\nend_time: {1700000000099 + i}\nentry_point_name: ''\n"
            f"experiment_id: '{experiment_id}'\nlifecycle_stage: active\nrun_id: '{run_id}'\nrun_name: {name}\n"
            f"run_uuid: '{run_id}'\nsource_name: ''\nsource_type: 4\nsource_version: ''\n"
            f"start_time: {1700000000000 + i}\nstatus: 3\ntags: []\nuser_id: bench\n")
        for metric, values in c.items():
            (d / "metrics" / metric).write_text(
                "".join(f"{1700000000000 + i * 100 + t} {_cell(v)} {t}\n" for t, v in enumerate(values)))
        for key, value in p.items():
            (d / "params" / key).write_text(str(value))
    return store


# The part of MLflow's SQL schema that fitdoc reads (MLflow itself takes ~20 s to create a database).
MLFLOW_SCHEMA = """
CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name TEXT, lifecycle_stage TEXT);
CREATE TABLE runs (run_uuid TEXT PRIMARY KEY, name TEXT, status TEXT, start_time BIGINT, end_time BIGINT,
                   lifecycle_stage TEXT, experiment_id INTEGER);
CREATE TABLE metrics (key TEXT, value FLOAT, timestamp BIGINT, run_uuid TEXT, step BIGINT, is_nan BOOLEAN);
CREATE INDEX index_metrics_run_uuid ON metrics (run_uuid);
CREATE TABLE latest_metrics (key TEXT, value FLOAT, timestamp BIGINT, step BIGINT, is_nan BOOLEAN, run_uuid TEXT);
CREATE TABLE params (key TEXT, value TEXT, run_uuid TEXT);
"""


def write_mlflow_db(path: Path, runs, experiment: str = "sweep") -> Path:
    """An ``mlflow.db`` as MLflow writes it (NaN stored as 0 with ``is_nan``)."""
    db = sqlite3.connect(path)
    db.executescript(MLFLOW_SCHEMA)
    db.execute("INSERT INTO experiments VALUES (1, ?, 'active')", (experiment,))
    for i, (name, p, c) in enumerate(runs):
        run_id = uuid.uuid5(uuid.NAMESPACE_OID, name).hex
        t0 = 1700000000000 + i * 100
        db.execute("INSERT INTO runs VALUES (?, ?, 'FINISHED', ?, ?, 'active', 1)", (run_id, name, t0, t0 + 99))
        db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)",
                       [(k, 0.0 if math.isnan(v) else v, t0 + t, run_id, t, math.isnan(v))
                        for k, vs in c.items() for t, v in enumerate(vs)])
        db.executemany("INSERT INTO latest_metrics VALUES (?, ?, ?, ?, ?, ?)",
                       [(k, 0.0, t0 + len(vs) - 1, len(vs) - 1, False, run_id) for k, vs in c.items()])
        db.executemany("INSERT INTO params VALUES (?, ?, ?)", [(k, str(v), run_id) for k, v in p.items()])
    db.commit()
    db.close()
    return path


def write_lightning_logs(folder: Path, runs) -> Path:
    """``version_N/metrics.csv`` (per-epoch rows with ``epoch`` and ``step``) and ``hparams.yaml``."""
    for n, (_, p, c) in enumerate(runs):
        d = folder / f"version_{n}"
        d.mkdir(parents=True, exist_ok=True)
        lines = ["epoch,step,train_loss,val_loss,val_acc"]
        lines += [f"{t},{(t + 1) * 10 - 1},{_cell(c['loss'][t])},{_cell(c['val_loss'][t])},{_cell(c['val_accuracy'][t])}"
                  for t in range(len(c["loss"]))]
        (d / "metrics.csv").write_text("\n".join(lines) + "\n")
        (d / "hparams.yaml").write_text("".join(f"{k}: {v}\n" for k, v in p.items()))
    return folder


def write_raytune(folder: Path, runs) -> Path:
    """One trial folder per run: ``params.json`` and ``result.json`` (one result per line)."""
    for n, (name, p, c) in enumerate(runs):
        d = folder / f"train_fn_{n:05d}_{name}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "params.json").write_text(json.dumps(p))
        results = [{"loss": c["loss"][t], "val_loss": c["val_loss"][t], "training_iteration": t + 1,
                    "time_total_s": 0.1 * t, "trial_id": name, "done": t == len(c["loss"]) - 1}
                   for t in range(len(c["loss"]))]
        (d / "result.json").write_text("".join(json.dumps(r) + "\n" for r in results))
    return folder
