"""Writes tests/data/keras_tuner/: real Keras Tuner projects of a tiny search on digits.

    KERAS_BACKEND=torch python tests/data/make_keras_tuner.py   # needs keras-tuner

- ``logged/``: GridSearch over the learning rate, 6 epochs a trial; a ``run_trial``
  override adds a ``CSVLogger`` writing ``log.csv`` into each trial folder (the way to
  give ``fitdoc triage`` the per-epoch curve trial.json does not keep).
- ``plain/``: GridSearch over dropout (0, 0.5, 1: nothing reaches the output) with no
  logger: trial.json only.

Checkpoint weights are deleted; everything else is as Keras Tuner wrote it.
"""

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

OUT = Path(__file__).parent / "keras_tuner"


class LoggedGridSearch(kt.GridSearch):
    """GridSearch that keeps each trial's curve: a CSVLogger into the trial folder."""

    def run_trial(self, trial, *args, **kwargs):
        log = os.path.join(self.get_trial_dir(trial.trial_id), "log.csv")
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), keras.callbacks.CSVLogger(log)]
        return super().run_trial(trial, *args, **kwargs)


def model(hp):
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dropout(hp.Choice("dropout", [0.0, 0.5, 1.0])),
                          keras.layers.Dense(10, activation="softmax")])
    m.compile(keras.optimizers.Adam(hp.Choice("lr", [0.001, 0.01, 0.3, 3.0])), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def main():
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    keras.utils.set_random_seed(0)
    fixed = kt.HyperParameters()
    fixed.Fixed("dropout", 0.0)
    LoggedGridSearch(model, hyperparameters=fixed, objective="val_loss", max_trials=4, directory=OUT,
                     project_name="logged", overwrite=True).search(x, y, validation_split=0.2, epochs=6, verbose=0)
    fixed = kt.HyperParameters()
    fixed.Fixed("lr", 0.01)
    kt.GridSearch(model, hyperparameters=fixed, objective="val_loss", max_trials=3, directory=OUT,
                  project_name="plain", overwrite=True).search(x, y, validation_split=0.2, epochs=6, verbose=0)
    for weights in OUT.rglob("*.weights.h5"):
        weights.unlink()


if __name__ == "__main__":
    main()
