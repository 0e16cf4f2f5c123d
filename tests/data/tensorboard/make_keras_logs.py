"""Writes the Keras TensorBoard logs in this directory (needs tensorflow-cpu).

``keras_fit/``: a 3-epoch ``model.fit`` with ``keras.callbacks.TensorBoard(update_freq=1)``;
``keras_resumed/``: 4 epochs, then a second ``fit`` resumed with ``initial_epoch=2``.
Each has ``history.json``: the History values of every fit, as Keras returned them.
"""

import json
import shutil
from pathlib import Path

import keras
import numpy as np

HERE = Path(__file__).parent


def fit(log_dir: Path, runs: list[tuple[int, int]]) -> None:
    keras.utils.set_random_seed(0)
    x = np.random.rand(64, 4).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    shutil.rmtree(log_dir, ignore_errors=True)
    histories = []
    for initial_epoch, epochs in runs:
        tb = keras.callbacks.TensorBoard(log_dir, update_freq=1, write_graph=False, profile_batch=0)
        h = model.fit(x, y, batch_size=16, epochs=epochs, initial_epoch=initial_epoch, validation_split=0.25, callbacks=[tb], verbose=0)
        histories.append({"epochs": h.epoch, "history": h.history})
    (log_dir / "history.json").write_text(json.dumps(histories, indent=1))


if __name__ == "__main__":
    fit(HERE / "keras_fit", [(0, 3)])
    fit(HERE / "keras_resumed", [(0, 4), (2, 5)])
