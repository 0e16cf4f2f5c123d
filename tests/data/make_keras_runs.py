"""Train small Keras 3 models (torch backend, CPU) with seeded faults and save what
they print (verbose=2) and their CSVLogger file: the real curves the rule tests use.

    KERAS_BACKEND=torch python tests/data/make_keras_runs.py
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_diabetes, load_digits  # noqa: E402

OUT = Path(__file__).parent / "keras_runs"


def digits(n=None, seed=0, sort=False, scale=1.0):
    x, y = load_digits(return_X_y=True)
    x = x / 16.0 * scale
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(x))[:n] if n else rng.permutation(len(x))
    x, y = x[idx], y[idx]
    if sort:
        order = np.argsort(y, kind="stable")
        x, y = x[order], y[order]
    return x.astype("float32"), y


def mlp(units, out, activation="relu", out_activation="softmax", depth=2, init="glorot_uniform"):
    layers = [keras.Input((64,))]
    layers += [keras.layers.Dense(units, activation=activation, kernel_initializer=init) for _ in range(depth)]
    layers.append(keras.layers.Dense(out, activation=out_activation))
    return keras.Sequential(layers)


def handmade_bce(y_true, y_pred):
    """Binary cross-entropy written out by hand, as users do; labels outside [0, 1]
    make it negative."""
    p = keras.ops.clip(y_pred, 1e-7, 1 - 1e-7)
    return -keras.ops.mean(y_true * keras.ops.log(p) + (1 - y_true) * keras.ops.log(1 - p), axis=-1)


def run(name, model, x, y, *, loss, optimizer, epochs, batch_size=32, metrics=("accuracy",), callbacks=()):
    if (OUT / f"{name}.txt").exists():
        return
    keras.utils.set_random_seed(0)
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    csv = keras.callbacks.CSVLogger(str(OUT / f"{name}.csv"))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.fit(x, y, validation_split=0.2, epochs=epochs, batch_size=batch_size, verbose=2,
                  callbacks=[csv, *callbacks])
    (OUT / f"{name}.txt").write_text(buf.getvalue(), encoding="utf-8")
    print(name, "done", file=sys.stderr)


def main():
    OUT.mkdir(exist_ok=True)
    keras.utils.set_random_seed(0)
    x, y = digits()
    run("healthy", mlp(64, 10), x, y, loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-3),
        epochs=20, callbacks=[keras.callbacks.EarlyStopping(patience=4, restore_best_weights=True)])
    xs, ys = digits(n=150)
    run("overfit_tiny_data", mlp(512, 10), xs, ys, loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(3e-3), epochs=60, batch_size=16)
    run("lr_too_high_sgd", mlp(64, 10), *digits(scale=30.0), loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.SGD(10.0), epochs=8)
    run("sorted_split", mlp(64, 10), *digits(sort=True), loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(1e-3), epochs=12)
    xb, yb = digits()
    run("softmax_one_unit", mlp(32, 1, out_activation="softmax"), xb, (yb % 2).astype("float32"),
        loss="binary_crossentropy", optimizer=keras.optimizers.Adam(1e-3), epochs=12)
    run("labels_out_of_range", mlp(32, 1, out_activation="sigmoid"), xb, (yb % 2 * 5).astype("float32"),
        loss=handmade_bce, optimizer=keras.optimizers.Adam(1e-3), epochs=10)
    xd, yd = load_diabetes(return_X_y=True)
    reg = keras.Sequential([keras.Input((10,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    run("accuracy_on_regression", reg, xd.astype("float32"), yd.astype("float32"), loss="mse",
        optimizer=keras.optimizers.Adam(1e-2), epochs=40)
    run("deep_sigmoid", mlp(32, 10, activation="sigmoid", depth=12), x, y, loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.SGD(0.01), epochs=30)
    run("lr_too_low", mlp(32, 10), x, y, loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.SGD(1e-3), epochs=15)
    run("batch_one_high_lr", mlp(64, 10), *digits(n=400), loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.SGD(0.3), epochs=20, batch_size=1)


if __name__ == "__main__":
    main()
