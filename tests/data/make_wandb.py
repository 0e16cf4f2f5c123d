"""Writes tests/data/wandb/: real W&B offline runs of a tiny Keras model on digits.

    KERAS_BACKEND=torch python tests/data/make_wandb.py   # needs wandb and keras

Four runs over the learning rate (3.0 diverges), 6 epochs each, logged once an epoch
with ``wandb.log({"epoch": epoch, **logs})`` from a Keras callback; the config nests
the optimizer settings. System stats and machine metadata are off (smaller logs); the
convenience links wandb writes beside the runs (``latest-run``, ``debug*.log``) are
removed.
"""

import os
import shutil
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ["WANDB_MODE"] = "offline"
os.environ["WANDB_SILENT"] = "true"

import keras  # noqa: E402
import wandb  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

HERE = Path(__file__).parent
OUT = HERE / "wandb"


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    for lr in (0.001, 0.01, 0.1, 3.0):
        keras.utils.set_random_seed(0)
        config = {"lr": lr, "batch_size": 64, "optimizer": {"name": "adam", "beta_1": 0.9}}
        run = wandb.init(project="fitdoc-digits", name=f"lr={lr}", config=config, dir=HERE,
                         settings=wandb.Settings(x_disable_stats=True, x_disable_meta=True))
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(keras.optimizers.Adam(lr, beta_1=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
        log = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: wandb.log({"epoch": epoch, **logs}))
        model.fit(x, y, validation_split=0.2, epochs=6, batch_size=64, callbacks=[log], verbose=0)
        run.finish()
    for link in OUT.iterdir():
        if link.is_symlink():
            link.unlink()


if __name__ == "__main__":
    main()
