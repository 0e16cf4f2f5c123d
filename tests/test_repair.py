"""The repair loop through its protocol, on a softmax regression written in numpy (real
training in milliseconds, no framework), and on a plain PyTorch loop."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fitdoc.output import repair as out
from fitdoc.repair import Budget, Split, changes_of, matching_pair, repair

SETTINGS = {"learning_rate": 0.1, "batch_size": 32, "epochs": 20, "optimizer": "sgd"}
ROOMY = Budget(seconds=120)  # these models train faster than a diagnosis runs: budget in epochs only


class Softmax:
    """Softmax regression; weights through get_weights/set_weights like a Keras model."""

    def __init__(self, n_in, n_out):
        self.w, self.b = np.zeros((n_in, n_out)), np.zeros(n_out)

    def get_weights(self):
        return [self.w.copy(), self.b.copy()]

    def set_weights(self, weights):
        self.w, self.b = (a.copy() for a in weights)

    def probs(self, x):
        z = x @ self.w + self.b
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


def build(settings, data):
    return Softmax(data.x_train.shape[1], int(data.y_train.max()) + 1)


def train(model, settings, epochs, data):
    rng = np.random.default_rng(len(data.x_train))
    out = {k: [] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    lr, bs = settings["learning_rate"], settings["batch_size"]
    for _ in range(epochs):
        order = rng.permutation(len(data.x_train))
        for i in range(0, len(order), bs):
            xb, yb = data.x_train[order[i:i + bs]], data.y_train[order[i:i + bs]]
            g = model.probs(xb)
            g[np.arange(len(yb)), yb] -= 1
            model.w -= lr * xb.T @ g / len(yb)
            model.b -= lr * g.mean(0)
        for prefix, x, y in (("", data.x_train, data.y_train), ("val_", data.x_val, data.y_val)):
            p = model.probs(x)
            out[prefix + "loss"].append(float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1)).mean()))
            out[prefix + "accuracy"].append(float((p.argmax(1) == y).mean()))
    return out


def blobs(n=600, scale=1.0, sort=False):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    x = np.array([[0, 0], [2.5, 0], [0, 2.5]])[y] + rng.normal(0, 1.0, (n, 2))
    if sort:
        order = np.argsort(y, kind="stable")
        x, y = x[order], y[order]
    return x * scale, y


def check_rule(result):
    """Each attempt was kept exactly when it beat its base by more than the noise margin."""
    for a in result.attempts[1:]:
        assert a.kept == (a.score > a.base_score + a.margin)


def test_healthy_run_makes_no_attempt():
    result = repair(build, train, blobs(), SETTINGS, validation_split=0.25, budget=ROOMY)
    assert result.attempts[0].verdict == "healthy"
    assert len(result.attempts) == 1 and not result.changed
    assert result.diff() == "" and result.settings == SETTINGS
    assert "no attempt made: the run is healthy" in out.table(result).notes


def test_unnormalised_inputs_are_normalised_and_the_users_data_left_alone():
    x, y = blobs(scale=1000.0)
    before = x.copy()
    result = repair(build, train, (x, y), SETTINGS, validation_split=0.25, budget=ROOMY)
    assert "FD401" in result.attempts[0].codes
    assert result.changes() == {"normalise_inputs": True}
    assert result.score_of(result.final) > result.score_of(result.attempts[0]) + 0.05
    assert np.array_equal(x, before)
    assert result.final.length == SETTINGS["epochs"]  # the kept trial was trained on to the planned epochs
    check_rule(result)


def test_unshuffled_split_is_shuffled():
    result = repair(build, train, blobs(sort=True), SETTINGS, validation_split=0.25, budget=ROOMY)
    assert result.attempts[1].finding == "FD402"
    assert result.changes() == {"shuffle_split": True}
    assert "x, y shuffled before the validation split" in result.diff()


def test_learning_rate_lowered_as_the_report_says_and_unhelpful_changes_rejected():
    settings = {**SETTINGS, "learning_rate": 30.0}
    result = repair(build, train, blobs(), settings, validation_split=0.25, budget=ROOMY)
    first = result.attempts[1]
    assert first.finding == "FD407" and first.action["param"] == "learning_rate"
    assert first.settings["learning_rate"] == first.action["to"] < settings["learning_rate"]
    assert any(not a.kept for a in result.attempts[1:])
    check_rule(result)
    assert result.epochs_trained <= 3 * settings["epochs"]
    assert f"+ learning_rate = {result.settings['learning_rate']}" in result.diff()


def test_budget_limits_attempts_and_epochs():
    settings = {**SETTINGS, "learning_rate": 30.0}
    one = repair(build, train, blobs(), settings, validation_split=0.25, budget=Budget(attempts=1, seconds=120))
    assert [a.kind for a in one.attempts] == ["run", "trial", "finish"]  # a kept trial is trained on
    none = repair(build, train, blobs(), settings, validation_split=0.25,
                  budget=Budget(epochs=settings["epochs"], seconds=120))
    assert len(none.attempts) == 1 and none.epochs_trained == settings["epochs"]


def overfitting_data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    x = rng.normal(0, 1, (400, 60))
    x[:, 0] += 1.5 * y
    return x[:40], y[:40], x[200:], y[200:]


def test_early_stopping_is_read_off_the_record_without_training():
    settings = {**SETTINGS, "learning_rate": 0.5, "batch_size": 8, "epochs": 30, "dropout": 0.0, "weight_decay": 0.0}
    result = repair(build, train, overfitting_data(), settings, budget=ROOMY)
    replay = next(a for a in result.attempts if a.kind == "replay")
    assert replay.finding == "FD101" and replay.epochs == 0 and replay.restored_epoch is not None
    regularise = next(a for a in result.attempts if "weight_decay" in a.change)
    assert not regularise.kept  # this model ignores dropout and weight decay: no better, not kept
    check_rule(result)


def test_actions_need_the_settings_the_functions_read():
    data = Split.of(blobs(), 0.25)
    regularise = {"model": "add_regularisation", "dropout": 0.4, "weight_decay": 1e-4}
    assert changes_of(regularise, SETTINGS, data) == []
    assert changes_of(regularise, {**SETTINGS, "dropout": 0.1, "weight_decay": None}, data) == [
        {"dropout": 0.4, "weight_decay": 1e-4}]
    assert changes_of({"check": "label_range"}, SETTINGS, data) == []
    assert changes_of({"param": "learning_rate", "scale": 0.3333}, SETTINGS, data) == [
        {"learning_rate": 0.0333}, {"learning_rate": 0.01}]
    assert changes_of({"param": "batch_size", "from": 32, "to": 128}, SETTINGS, data) == [{"batch_size": 128}]
    stop = {"callback": "EarlyStopping", "monitor": "val_loss", "patience": 3, "restore_best_weights": True}
    assert changes_of(stop, SETTINGS, data) == [
        {"callbacks": {"EarlyStopping": {"monitor": "val_loss", "patience": 3, "restore_best_weights": True}}}]


def test_matching_pair_follows_the_labels():
    assert matching_pair(np.array([0, 2, 1, 1])) == ("sparse_categorical_crossentropy", "softmax")
    assert matching_pair(np.eye(3)[[0, 1, 2]]) == ("categorical_crossentropy", "softmax")
    assert matching_pair(np.linspace(-1, 1, 50)) == ("mse", "linear")


def test_a_nan_loss_ends_an_attempt():
    def exploding(model, settings, epochs, data):
        history = train(model, settings, epochs, data)
        if settings["learning_rate"] > 1:  # diverges above 1
            history["loss"][-1] = history["val_loss"][-1] = float("nan")
        return history

    result = repair(build, exploding, blobs(), {**SETTINGS, "learning_rate": 30.0}, validation_split=0.25, budget=ROOMY)
    first = result.attempts[0]
    assert first.stopped == "nan" and first.length == 1
    assert result.changed and result.settings["learning_rate"] <= 1


def test_report_json_and_html_section():
    result = repair(build, train, blobs(scale=100.0), SETTINGS, validation_split=0.25, budget=ROOMY)
    d = json.loads(json.dumps(result.to_dict()))
    assert d["changed"] and d["changes"] == {"normalise_inputs": True}
    assert [a["kind"] for a in d["attempts"]][:3] == ["run", "trial", "finish"]
    kept = d["attempts"][1]
    assert kept["finding"] == "FD401" and kept["action"] == {"data": "normalise_inputs"} and kept["kept"]
    assert kept["score"] > kept["compared_score"] + kept["margin"]
    assert d["report"]["findings"][0]["code"] == "FD401"
    page = out.Section(result).to_html()
    assert "<table" in page and "FD401" in page and '<pre class="diff">' in page


def test_bad_data_is_one_clear_error():
    with pytest.raises(ValueError, match="validation_split"):
        repair(build, train, blobs(), SETTINGS)
    with pytest.raises(ValueError, match="epochs"):
        repair(build, train, blobs(), {"learning_rate": 0.1}, validation_split=0.2)


def test_plain_pytorch_loop_through_the_protocol():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from torch import nn

    def build_torch(settings, data):
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(data.x_train.shape[1], 16), nn.ReLU(), nn.Linear(16, 3))

    def train_torch(model, settings, epochs, data):
        if not hasattr(model, "opt"):
            model.opt = torch.optim.SGD(model.parameters(), lr=settings["learning_rate"])
        for g in model.opt.param_groups:
            g["lr"] = settings["learning_rate"]
        x, y = torch.tensor(data.x_train, dtype=torch.float32), torch.tensor(data.y_train)
        xv, yv = torch.tensor(data.x_val, dtype=torch.float32), torch.tensor(data.y_val)
        history = {"loss": [], "val_loss": [], "val_accuracy": []}
        gen = torch.Generator().manual_seed(0)
        for _ in range(epochs):
            model.train()
            for idx in torch.randperm(len(x), generator=gen).split(settings["batch_size"]):
                loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
                model.opt.zero_grad()
                loss.backward()
                model.opt.step()
            model.eval()
            with torch.no_grad():
                out_val = model(xv)
                history["loss"].append(float(nn.functional.cross_entropy(model(x), y)))
                history["val_loss"].append(float(nn.functional.cross_entropy(out_val, yv)))
                history["val_accuracy"].append(float((out_val.argmax(1) == yv).float().mean()))
        return history

    x, y = blobs(scale=1000.0)
    result = repair(build_torch, train_torch, (x, y), {**SETTINGS, "learning_rate": 0.01, "epochs": 15},
                    validation_split=0.25, budget=ROOMY)
    first, final = result.score_of(result.attempts[0]), result.score_of(result.final)
    assert result.changed and result.changes().get("normalise_inputs")
    assert final is not None and (first is None or final > first)  # None: the first run broke down
    assert isinstance(result.model, nn.Module)
