"""The Keras Doctor on real (small) training runs with seeded faults.

Each fault must be named by the Doctor within 3 epochs of its appearance; a
healthy run must get no warning.
"""

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from sklearn.datasets import load_digits  # noqa: E402

from fitdoc.keras import Doctor, preflight  # noqa: E402

pytestmark = pytest.mark.training
WITHIN = 3  # epochs between a fault's appearance and the Doctor naming it


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))[:900]
    return (x[order] / 16).astype("float32"), y[order]


def mlp(hidden=(32,), activation="relu", output="softmax", units=10):
    layers = [keras.layers.Dense(h, activation=activation) for h in hidden]
    return keras.Sequential([keras.Input((64,)), *layers, keras.layers.Dense(units, activation=output)])


def train(model, x, y, *, loss="sparse_categorical_crossentropy", optimizer=None, epochs=6, check=False, **doctor_args):
    keras.utils.set_random_seed(0)
    model.compile(optimizer=optimizer or keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    doctor = Doctor(sample=(x, y), **{"verbose": 0, **doctor_args})
    if check:
        doctor.check(model, x, y, validation_split=0.2)
    history = model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=0, callbacks=[doctor])
    return doctor, history


def named_at(doctor, code):
    """The epoch at which the Doctor first said ``code`` (0: before training)."""
    return next(n.at_epoch for n in doctor.notices if n.finding.code == code)


def test_healthy_run_gets_no_warning(digits):
    doctor, _ = train(mlp(), *digits, epochs=10)
    assert [n.finding.code for n in doctor.notices if n.finding.severity != "info"] == []
    assert doctor.report.verdict == "healthy"


def test_learning_rate_10(digits):
    doctor, _ = train(mlp(), *digits, optimizer=keras.optimizers.Adam(10.0))
    assert named_at(doctor, "FD407") == 0
    # the run breaks in epoch 1: ReLUs die and accuracy freezes at chance
    assert named_at(doctor, "FD504") <= 1 + WITHIN
    assert "lr_too_high" in doctor.report.likely_causes


def test_inputs_times_1000(digits):
    x, y = digits
    doctor, _ = train(mlp(), x * 1000, y)
    assert named_at(doctor, "FD401") == 0
    finding = next(f for f in doctor.findings if f.code == "FD401")
    assert finding.facts["mean"] > 10


def test_sorted_labels_with_validation_split(digits):
    x, y = digits
    order = np.argsort(y, kind="stable")
    doctor, history = train(mlp(), x[order], y[order], check=True)
    assert named_at(doctor, "FD402") == 0
    assert next(f for f in doctor.findings if f.code == "FD402").variant == "missing"
    # val_accuracy is ≈0 from epoch 1 on
    assert max(history.history["val_accuracy"]) < 0.05
    assert named_at(doctor, "FD302") <= 1 + WITHIN


def test_softmax_with_binary_loss(digits):
    x, y = digits
    doctor, _ = train(mlp(), x, keras.utils.to_categorical(y, 10), loss="binary_crossentropy", epochs=3)
    finding = next(f for f in doctor.findings if f.code == "FD403")
    assert (finding.variant, named_at(doctor, "FD403")) == ("softmax_binary", 0)
    assert finding.causes[0].cause == "loss_activation_mismatch"


def test_deep_sigmoid_mlp_vanishing_gradients(digits):
    doctor, _ = train(mlp(hidden=(32,) * 50, activation="sigmoid"), *digits, epochs=3)
    assert named_at(doctor, "FD502") == 1
    assert next(f for f in doctor.findings if f.code == "FD502").facts["ratio"] < 1e-3


def test_nan_stops_training_and_restores_best_weights(digits):
    x, y = digits
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(1)])
    doctor, history = train(model, x * 1000, y.astype("float32"), loss="mse",
                            optimizer=keras.optimizers.SGD(0.1), epochs=10, restore_best_weights=True)
    assert len(history.history["loss"]) < 10
    assert doctor.stop_reason and any(n.finding.kind == "nan_loss" and n.at_epoch <= 1 for n in doctor.notices)
    assert all(np.isfinite(w).all() for w in model.get_weights()) == (doctor.best_epoch is not None)


def test_restore_best_weights_without_early_stop(digits):
    x, y = digits
    doctor, history = train(mlp(), x, y, optimizer=keras.optimizers.Adam(0.05), epochs=8, restore_best_weights=True)
    best = doctor.best_epoch
    restored = [e for e in doctor.report.run.events if e.type == "restore_best"]
    assert len(history.history["loss"]) == 8
    if best == 8:
        assert restored == []
    else:
        assert restored[0].epoch == best
        model = doctor.handle.model
        val_loss = model.evaluate(x[-180:], y[-180:], verbose=0)[0]
        assert val_loss == pytest.approx(history.history["val_loss"][best - 1], rel=1e-3)


def test_preflight_before_fit_and_report_files(digits, tmp_path):
    x, y = digits
    model = mlp()
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])
    stopper = keras.callbacks.EarlyStopping(monitor="accuracy")
    report = preflight(model, x, y + 0.5, callbacks=[stopper], verbose=0)
    assert {f.code for f in report.findings} >= {"FD404", "FD405"}
    doctor, _ = train(mlp(), *digits, epochs=2, report_path=tmp_path / "r.json", plot_path=tmp_path / "r.png")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["epochs"] == [1, 2] and data["verdict"] == doctor.report.verdict
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
