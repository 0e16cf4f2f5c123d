"""Datasets, healthy control models and the fault recipes seeded into them.

A *configuration* is a family (dataset + control model) with one fault applied, or
the family's control. Every configuration is trained with several seeds. Faults
follow published mutation recipes for deep-learning programs (DeepCrime, DeepFD):
learning rate scaling, unnormalised inputs, unshuffled split, label noise, wrong
loss or last activation, batch size, epoch count, capacity, regularisation and
initialisation faults.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sklearn import datasets

CONTROL_SEEDS = (0, 1, 2, 3, 4)
FAULT_SEEDS = (0, 1, 2)
VERBOSE1_FAMILIES = ("digits_mlp", "cancer_mlp", "moons_mlp", "sequences_cnn", "diabetes_mlp")


def load(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features (standardised) and targets of a bundled or generated data set."""
    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        X = X / 16.0
    elif name in ("iris", "wine", "breast_cancer", "diabetes"):
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    elif name == "moons":
        X, y = datasets.make_moons(800, noise=0.25, random_state=seed)
    elif name == "circles":
        X, y = datasets.make_circles(800, noise=0.08, factor=0.5, random_state=seed)
    elif name == "blobs":
        X, y = datasets.make_classification(
            1200, n_features=20, n_informative=8, n_redundant=4, n_classes=4,
            n_clusters_per_class=2, flip_y=0.02, random_state=seed,
        )
    elif name == "sequences":
        X, y = _sequences(seed)
    else:
        raise ValueError(f"unknown data set {name!r}")
    X = np.asarray(X, dtype="float32")
    if name not in ("digits", "sequences"):
        X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)
    if name == "diabetes":
        y = (y - y.mean()) / y.std()
    order = np.random.default_rng(seed).permutation(len(X))
    return X[order], np.asarray(y)[order].astype("float32" if name == "diabetes" else "int64")


def _sequences(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy random walks of 24 steps; the label says whether the walk ends up."""
    rng = np.random.default_rng(1000 + seed)
    walks = np.cumsum(rng.normal(size=(800, 24)), axis=1) / 4.0
    X = walks + rng.normal(scale=0.3, size=walks.shape)
    y = (walks[:, -1] > walks[:, 0]).astype("int64")
    return X[..., None].astype("float32"), y


TASKS = {
    "digits": ("multiclass", 10), "iris": ("multiclass", 3), "wine": ("multiclass", 3),
    "blobs": ("multiclass", 4), "breast_cancer": ("binary", 2), "moons": ("binary", 2),
    "circles": ("binary", 2), "sequences": ("binary", 2), "diabetes": ("regression", 1),
}


@dataclass(frozen=True)
class Spec:
    """Everything needed to train one run; faults return modified copies."""

    data: str
    hidden: tuple[int, ...] = (32,)
    activation: str = "relu"
    conv: bool = False
    dropout: float = 0.0
    l2: float = 0.0
    bias_init: float = 0.0
    out_activation: str | None = None
    loss: str | None = None
    metrics: tuple[str, ...] | None = None
    one_hot: bool = False
    optimizer: str = "adam"
    lr: float = 1e-3
    batch: int = 32
    epochs: int = 30
    n_train: int | None = None
    input_scale: float = 1.0
    labels: str = "clean"  # clean | sorted | shuffled | noisy

    @property
    def task(self) -> str:
        return TASKS[self.data][0]

    @property
    def n_classes(self) -> int:
        return TASKS[self.data][1]

    def resolved(self) -> Spec:
        """Fill the task-dependent defaults (output activation, loss, metrics)."""
        out, loss, metrics = {
            "multiclass": ("softmax", "sparse_categorical_crossentropy", ("accuracy",)),
            "binary": ("sigmoid", "binary_crossentropy", ("accuracy",)),
            "regression": ("linear", "mse", ("mae",)),
        }[self.task]
        return replace(
            self,
            out_activation=self.out_activation or out,
            loss=self.loss or loss,
            metrics=self.metrics if self.metrics is not None else metrics,
        )


FAMILIES: dict[str, Spec] = {
    "digits_mlp": Spec("digits", hidden=(32,), dropout=0.2, lr=2e-3, batch=64, epochs=25),
    "iris_mlp": Spec("iris", hidden=(16,), lr=1e-2, batch=16, epochs=40),
    "wine_mlp": Spec("wine", hidden=(16,), lr=5e-3, batch=16, epochs=30),
    "blobs_mlp": Spec("blobs", hidden=(64, 32), dropout=0.3, lr=1e-3, batch=64, epochs=30),
    "cancer_mlp": Spec("breast_cancer", hidden=(16,), lr=2e-3, batch=32, epochs=30),
    "moons_mlp": Spec("moons", hidden=(32, 32), lr=5e-3, batch=32, epochs=30),
    "circles_mlp": Spec("circles", hidden=(16, 16), lr=1e-2, batch=32, epochs=30),
    "sequences_cnn": Spec("sequences", hidden=(8,), conv=True, lr=5e-3, batch=32, epochs=30),
    "diabetes_mlp": Spec("diabetes", hidden=(32,), lr=3e-3, batch=32, epochs=40),
}


@dataclass(frozen=True)
class Fault:
    """A seeded fault: how it changes the control, and the contract cause it maps to."""

    name: str
    causes: tuple[str, ...]
    apply: object  # Callable[[Spec], Spec]
    families: tuple[str, ...]
    loss_comparable: bool = True
    metric_only: bool = False
    note: str = ""


ALL = tuple(FAMILIES)
CLASSIFIERS = tuple(f for f, s in FAMILIES.items() if s.task != "regression")
MULTICLASS = tuple(f for f, s in FAMILIES.items() if s.task == "multiclass")
BINARY = tuple(f for f, s in FAMILIES.items() if s.task == "binary")
SMALL = ("iris_mlp", "wine_mlp", "cancer_mlp", "diabetes_mlp")
DENSE = tuple(f for f in ALL if not FAMILIES[f].conv)


def _few_epochs(s: Spec) -> Spec:
    return replace(s, epochs=max(4, s.epochs // 6), lr=s.lr / 3)


FAULTS: tuple[Fault, ...] = (
    Fault("lr_x10", ("lr_too_high",), lambda s: replace(s, lr=s.lr * 10), ALL),
    Fault("lr_x100", ("lr_too_high",), lambda s: replace(s, lr=s.lr * 100), ALL),
    Fault("lr_x1000", ("lr_too_high",), lambda s: replace(s, lr=s.lr * 1000), ALL),
    Fault("sgd_lr_x1000", ("lr_too_high",),
          lambda s: replace(s, optimizer="sgd", lr=s.lr * 1000), ("digits_mlp", "diabetes_mlp", "cancer_mlp")),
    Fault("lr_div1000", ("lr_too_low",), lambda s: replace(s, lr=s.lr / 1000), ALL),
    Fault("batch_full", ("lr_too_low",), lambda s: replace(s, batch=4096), ALL,
          note="whole training set per step at an unchanged learning rate (linear scaling rule)"),
    Fault("batch_1", ("batch_too_small",), lambda s: replace(s, batch=1),
          ("iris_mlp", "wine_mlp", "diabetes_mlp")),
    Fault("inputs_x100", ("data_problem",), lambda s: replace(s, input_scale=100.0), ALL),
    Fault("sorted_split", ("data_problem",), lambda s: replace(s, labels="sorted"), ALL,
          note="samples sorted by target before validation_split"),
    Fault("shuffled_labels", ("data_problem",), lambda s: replace(s, labels="shuffled"), ALL),
    Fault("noisy_labels", ("data_problem",), lambda s: replace(s, labels="noisy"), CLASSIFIERS,
          note="40% of labels replaced by random classes"),
    Fault("mse_loss", ("loss_activation_mismatch",),
          lambda s: replace(s, loss="mse", one_hot=True), MULTICLASS, loss_comparable=False,
          note="mean squared error on one-hot targets behind a softmax"),
    Fault("bce_softmax", ("loss_activation_mismatch",),
          lambda s: replace(s, loss="binary_crossentropy", one_hot=s.task == "multiclass",
                            out_activation="softmax"),
          CLASSIFIERS, loss_comparable=False,
          note="binary cross-entropy behind a softmax (a 1-unit softmax for binary tasks)"),
    Fault("linear_output", ("loss_activation_mismatch",),
          lambda s: replace(s, out_activation="linear"), CLASSIFIERS,
          note="cross-entropy expecting probabilities on a linear last layer"),
    Fault("sigmoid_regression", ("loss_activation_mismatch",),
          lambda s: replace(s, out_activation="sigmoid"), ("diabetes_mlp",),
          note="sigmoid last activation on a standardised regression target"),
    Fault("accuracy_on_regression", ("metric_mismatch",),
          lambda s: replace(s, metrics=("accuracy",)), ("diabetes_mlp",), metric_only=True),
    Fault("accuracy_and_mae_on_regression", ("metric_mismatch",),
          lambda s: replace(s, metrics=("mae", "accuracy")), ("diabetes_mlp",), metric_only=True),
    Fault("too_few_epochs", ("too_few_epochs",), _few_epochs, ALL,
          note="a sixth of the epochs (at least 4) at a third of the learning rate"),
    Fault("too_many_epochs", ("needs_regularization",),
          lambda s: replace(s, epochs=s.epochs * 3, hidden=tuple(4 * h for h in s.hidden)), SMALL),
    Fault("tiny_data_big_model", ("needs_regularization",),
          lambda s: replace(s, n_train=60, hidden=(256, 256), dropout=0.0, epochs=min(60, 2 * s.epochs)),
          DENSE),
    Fault("no_regularization", ("needs_regularization",),
          lambda s: replace(s, dropout=0.0, hidden=tuple(4 * h for h in s.hidden), epochs=2 * s.epochs),
          ("digits_mlp", "blobs_mlp"), note="dropout removed from a model that had it"),
    Fault("model_too_small", ("model_too_small",), lambda s: replace(s, hidden=(1,)), ALL),
    Fault("linear_model", ("model_too_small",), lambda s: replace(s, hidden=()),
          ("moons_mlp", "circles_mlp", "digits_mlp")),
    Fault("dead_relu", (), lambda s: replace(s, bias_init=-10.0), DENSE,
          note="hidden biases initialised at -10: every ReLU dead from the start"),
    Fault("deep_sigmoid", (),
          lambda s: replace(s, hidden=(32,) * 10, activation="sigmoid", optimizer="sgd", lr=0.05),
          DENSE, note="ten sigmoid layers trained with plain SGD (vanishing gradients)"),
)


@dataclass(frozen=True)
class Job:
    """One run to train: its id, configuration and fully resolved spec."""

    run_id: str
    family: str
    fault: str  # "control" for the healthy control
    seed: int
    spec: Spec
    verbose1: bool


def jobs() -> list[Job]:
    """Every run of the corpus, in a fixed order."""
    out = []
    for family, base in FAMILIES.items():
        configs = [("control", base, CONTROL_SEEDS)]
        configs += [(f.name, f.apply(base), FAULT_SEEDS) for f in FAULTS if family in f.families]
        for fault, spec, seeds in configs:
            spec = spec.resolved()
            for seed in seeds:
                verbose1 = seed == 0 and spec.batch >= 16 and family in VERBOSE1_FAMILIES
                out.append(Job(f"{family}__{fault}__s{seed}", family, fault, seed, spec, verbose1))
    return out


def fault(name: str) -> Fault | None:
    return next((f for f in FAULTS if f.name == name), None)
