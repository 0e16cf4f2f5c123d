"""What the Keras Doctor costs: the same small model trained without it, with its
default settings and with full probes, in one process, on one torch thread.

Each repeat trains the three variants in turn, in a rotated order (so load on the
machine and warm-up effects hit them alike), from the same initial weights; an epoch's time runs from one
``on_epoch_begin`` to the next, so the Doctor's work at the end of an epoch counts.
Times are CPU seconds of this process (``time.process_time``), which other jobs on
a shared machine do not inflate; wall-clock medians are printed beside them. The
first epoch of every run (warm-up) is left out.

End to end, the callback list itself changes how fast Keras trains (an inert
callback with a batch hook changes the epoch time by several per cent on this
machine), so the table also gives the Doctor's own share: CPU time spent inside its
hooks divided by the CPU time of the whole ``fit``. A run's figure is its mean epoch
time (the Doctor checks some epochs and skips others, so a median epoch would hide
its cost); the table shows the median over the repeats.

    KERAS_BACKEND=torch .venv/bin/python bench/overhead.py [--repeats 5] [--epochs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from fitdoc.keras import Doctor  # noqa: E402


class EpochClock(keras.callbacks.Callback):
    """CPU and wall seconds between successive epoch starts (the last epoch until
    training ends)."""

    def __init__(self):
        super().__init__()
        self.starts: list[tuple[float, float]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.starts.append((time.process_time(), time.perf_counter()))

    def on_train_end(self, logs=None):
        self.starts.append((time.process_time(), time.perf_counter()))

    @property
    def epochs(self) -> np.ndarray:
        """(epochs - 1, 2) array of CPU and wall seconds, warm-up epoch left out."""
        return np.diff(np.array(self.starts), axis=0)[1:]


class TimedDoctor(Doctor):
    """The Doctor, adding up the CPU seconds spent in its hooks."""

    spent = 0.0


def _timed(hook):
    def run(self, *args, **kwargs):
        start = time.process_time()
        getattr(Doctor, hook)(self, *args, **kwargs)
        self.spent += time.process_time() - start

    return run


for _hook in ("on_train_begin", "on_train_batch_end", "on_epoch_end", "on_train_end"):
    setattr(TimedDoctor, _hook, _timed(_hook))


def build(weights=None):
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if weights is not None:
        model.set_weights(weights)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    keras.utils.set_random_seed(0)
    weights = build().get_weights()
    variants = {
        "without": lambda: [],
        "default": lambda: [TimedDoctor(sample=(x, y), verbose=0)],
        "full": lambda: [TimedDoctor(sample=(x, y), probes="full", verbose=0)],
    }
    times: dict[str, list[np.ndarray]] = {name: [] for name in variants}
    shares: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for repeat in range(args.repeats):
        for name in names[repeat % 3:] + names[:repeat % 3]:
            clock, doctors = EpochClock(), variants[name]()
            start = time.process_time()
            build(weights).fit(x, y, epochs=args.epochs, batch_size=args.batch_size, validation_split=0.2,
                               shuffle=True, verbose=0, callbacks=[clock, *doctors])
            total = time.process_time() - start
            times[name].append(clock.epochs)
            shares[name].append(sum(d.spent for d in doctors) / total)
    medians = {name: np.median([run.mean(axis=0) for run in runs], axis=0) for name, runs in times.items()}
    base = medians["without"]
    steps = int(np.ceil(len(x) * 0.8 / args.batch_size))
    print(f"{args.repeats} repeats x {args.epochs} epochs, {steps} steps of {args.batch_size} per epoch, 1 torch thread")
    print(f"{'variant':10} {'CPU s/epoch':>12} {'ratio':>7} {'wall s/epoch':>13} {'ratio':>7} {'Doctor share':>13}")
    for name, (cpu, wall) in medians.items():
        share = statistics.median(shares[name])
        print(f"{name:10} {cpu:12.4f} {cpu / base[0]:7.3f} {wall:13.4f} {wall / base[1]:7.3f} {share:13.2%}")


if __name__ == "__main__":
    main()
