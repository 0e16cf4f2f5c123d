"""Train one run of the corpus and save it in the formats users have.

Writes into the run directory: ``stdout_verbose2.txt`` (the bytes Keras printed with
``verbose=2``), ``stdout_verbose1.txt`` for the verbose=1 subset (a second training
with the same seed, kept only if it reproduces the same history), ``log.csv``
(``CSVLogger``), ``history.json`` (``json.dump(history.history)``) and ``meta.json``
(training time and a probe of the final model on the clean validation labels, used
only to test whether a fault has an effect).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import torch

torch.set_num_threads(1)

import keras  # noqa: E402

from recipes import Job, Spec, load  # noqa: E402

VALIDATION_SPLIT = 0.2


def prepare(spec: Spec, seed: int):
    """Training arrays (faults applied) and clean validation targets for the probe."""
    X, y = load(spec.data, seed)
    rng = np.random.default_rng(10_000 + seed)
    if spec.labels == "sorted":
        order = np.argsort(y, kind="stable")
        X, y = X[order], y[order]
    n_val = int(round(len(X) * VALIDATION_SPLIT))
    X_tr, y_tr, X_val, y_val = X[:-n_val], y[:-n_val], X[-n_val:], y[-n_val:]
    if spec.n_train:
        X_tr, y_tr = X_tr[: spec.n_train], y_tr[: spec.n_train]
    X, y_clean = np.concatenate([X_tr, X_val]), np.concatenate([y_tr, y_val])
    y = y_clean.copy()
    if spec.labels == "shuffled":
        y = rng.permutation(y)
    elif spec.labels == "noisy":
        flip = rng.random(len(y)) < 0.4
        y[flip] = rng.integers(0, spec.n_classes, flip.sum())
    X = X * spec.input_scale
    if spec.one_hot:
        y = keras.utils.to_categorical(y, spec.n_classes)
    return X, y, len(X_val) / len(X), y_clean[-len(X_val):]


def build(spec: Spec, input_shape: tuple[int, ...]) -> keras.Model:
    reg = keras.regularizers.L2(spec.l2) if spec.l2 else None
    layers = [keras.Input(input_shape)]
    for units in spec.hidden:
        kwargs = dict(activation=spec.activation, bias_initializer=keras.initializers.Constant(spec.bias_init))
        if spec.conv:
            layers.append(keras.layers.Conv1D(units, 3, **kwargs))
        else:
            layers.append(keras.layers.Dense(units, kernel_regularizer=reg, **kwargs))
        if spec.dropout:
            layers.append(keras.layers.Dropout(spec.dropout))
    if spec.conv:
        layers.append(keras.layers.GlobalAveragePooling1D())
    units = spec.n_classes if spec.task == "multiclass" else 1
    layers.append(keras.layers.Dense(units, activation=spec.out_activation))
    model = keras.Sequential(layers)
    optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}[spec.optimizer](spec.lr)
    model.compile(optimizer=optimizer, loss=spec.loss, metrics=list(spec.metrics))
    return model


def fit(spec: Spec, seed: int, verbose: int, stdout_path: Path, csv_path: Path):
    """Train from scratch with ``seed``; return the model, history and validation data."""
    keras.utils.set_random_seed(seed)
    X, y, split, y_val_clean = prepare(spec, seed)
    model = build(spec, X.shape[1:])
    with open(stdout_path, "w", encoding="utf-8", newline="") as out, contextlib.redirect_stdout(out):
        history = model.fit(
            X, y, batch_size=spec.batch, epochs=spec.epochs, validation_split=split,
            shuffle=True, verbose=verbose, callbacks=[keras.callbacks.CSVLogger(str(csv_path))],
        )
    n_val = len(y_val_clean)
    return model, history.history, X[-n_val:], y_val_clean


def probe(spec: Spec, model: keras.Model, X_val: np.ndarray, y_val: np.ndarray) -> dict:
    """Quality of the final model on the clean validation targets."""
    pred = np.asarray(model.predict(X_val, verbose=0), dtype="float64")
    if spec.task == "regression":
        mse = float(np.mean((pred[:, 0] - y_val) ** 2))
        return {"val_mse": mse if math.isfinite(mse) else None}
    if not np.isfinite(pred).all():
        return {"val_accuracy": None}
    labels = pred.argmax(axis=1) if spec.task == "multiclass" else (pred[:, 0] > 0.5).astype(int)
    return {"val_accuracy": float(np.mean(labels == y_val))}


def run(job: Job, root: Path) -> dict:
    """Train ``job`` into ``root/job.run_id``; return its meta data."""
    out = root / job.run_id
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model, history, X_val, y_val = fit(job.spec, job.seed, 2, out / "stdout_verbose2.txt", out / "log.csv")
    meta = {"seconds": round(time.perf_counter() - start, 2), "probe": probe(job.spec, model, X_val, y_val)}
    with open(out / "history.json", "w") as fh:
        json.dump(history, fh)
    if job.verbose1:
        scratch = out / "scratch.csv"
        _, again, _, _ = fit(job.spec, job.seed, 1, out / "stdout_verbose1.txt", scratch)
        scratch.unlink()
        same = json.dumps(again) == json.dumps(history)
        if not same:
            (out / "stdout_verbose1.txt").unlink()
        meta["verbose1_reproduced"] = same
    with open(out / "meta.json", "w") as fh:
        json.dump(meta, fh)
    return meta
