"""The live doctor never costs the user a training run: an error inside fitdoc is said
once and training goes on; a bad report_path or plot_path fails at construction."""

import os

import numpy as np
import pytest

from fitdoc.integrations.live import LiveDoctor
from fitdoc.rules import all_rules


@pytest.fixture
def broken_rule(monkeypatch):
    """FD101's check raises, as a bug in a rule would."""

    def explode(self, ctx):
        raise RuntimeError("rule exploded")

    monkeypatch.setattr(all_rules()["FD101"], "check", explode)


def test_a_raising_rule_stops_the_doctor_once_and_not_the_loop(broken_rule, capsys):
    doctor = LiveDoctor(probes=None, max_overhead=None, verbose=0)
    results = [doctor.epoch_end(epoch, {"loss": 1.0 / epoch, "val_loss": 1.0}) for epoch in range(1, 5)]
    assert [r.should_stop for r in results] == [False] * 4
    assert isinstance(doctor.error, RuntimeError) and doctor.end() is None
    said = capsys.readouterr().err.splitlines()
    assert said == ["fitdoc: the training doctor stopped after an internal error (RuntimeError: rule exploded); "
                    "training goes on without it"]


@pytest.mark.parametrize("kwargs, words", [
    ({"report_path": "no/such/folder/report.json"}, "does not exist"),
    ({"plot_path": "."}, "is a directory"),
])
def test_bad_output_paths_fail_before_training(kwargs, words):
    with pytest.raises(ValueError, match=words):
        LiveDoctor(**kwargs)


def test_report_written_at_the_end(tmp_path):
    path = tmp_path / "report.json"
    doctor = LiveDoctor(probes=None, verbose=0, report_path=path)
    for epoch in range(1, 4):
        doctor.epoch_end(epoch, {"loss": 1.0 / epoch})
    doctor.end()
    assert '"verdict"' in path.read_text(encoding="utf-8") and os.listdir(tmp_path) == ["report.json"]


@pytest.mark.training
def test_keras_fit_with_a_raising_rule_finishes_all_epochs(broken_rule, capsys, tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    from fitdoc.keras import Doctor

    rng = np.random.default_rng(0)
    x = rng.random((128, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    doctor = Doctor(sample=(x, y), max_overhead=None, verbose=0, report_path=tmp_path / "r.json")
    history = model.fit(x, y, epochs=3, validation_split=0.25, batch_size=32, verbose=0, callbacks=[doctor])
    assert len(history.history["loss"]) == 3
    assert isinstance(doctor.error, RuntimeError)
    assert capsys.readouterr().err.count("the training doctor stopped") == 1
    assert not (tmp_path / "r.json").exists()
