import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from fitdoc.errors import FitdocError
from fitdoc.workflow import sweep as sweep_mod
from fitdoc.workflow.commands import sweep_cmd
from fitdoc.workflow.sweep import load_spec, mean_std, mlp, retrain_length

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # from keras's torch backend

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sweep_reuters_like.py"

DATA = """
import numpy as np

def load_data():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 10)) * 1.2
    y = rng.integers(0, 3, 700)
    x = (centers[y] + rng.normal(size=(700, 10))).astype("float32")
    return (x[:500], y[:500]), (x[500:], y[500:])
"""

SPEC = """
name: tiny
data: tiny_data.py:load_data
validation: 100
base: {units: 8, layers: 1, epochs: 6, batch_size: 32, learning_rate: 0.01}
variants:
  - {name: relu}
  - {name: tanh mse, activation: tanh, loss: mse}
"""


@pytest.fixture
def spec_path(tmp_path) -> Path:
    (tmp_path / "tiny_data.py").write_text(DATA, encoding="utf-8")
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_yaml_spec(spec_path):
    spec = load_spec(spec_path)
    assert spec.name == "tiny" and spec.build_model is mlp and spec.validation == 100
    params = spec.params(spec.variants[1])
    assert params["activation"] == "tanh" and params["loss"] == "mse" and params["units"] == 8
    assert params["optimizer"] == "rmsprop"  # a default the spec did not override


def test_python_spec_example():
    spec = load_spec(EXAMPLE)
    assert [v["name"] for v in spec.variants] == ["64 units (book)", "32 units", "128 units", "mse loss", "tanh"]
    assert spec.validation == 1000 and spec.params(spec.variants[1])["units"] == 32


def test_spec_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("variants: [{name: a}, {name: a}]\ndata: x.py:f\n", encoding="utf-8")
    (tmp_path / "x.py").write_text("def f():\n    pass\n", encoding="utf-8")
    with pytest.raises(FitdocError, match="distinct"):
        load_spec(bad)
    (tmp_path / "s.txt").write_text("", encoding="utf-8")
    with pytest.raises(FitdocError, match="py or .yaml"):
        load_spec(tmp_path / "s.txt")


def test_retrain_length_and_stats():
    assert retrain_length({"recommended_epochs": 8}, 20, 16, 18, "epochs") == 8
    assert retrain_length({"recommended_epochs": 9}, 20, 16, 18, "updates") == 8  # 9 * 16 / 18
    assert retrain_length({"recommended_epochs": None}, 20, 16, 18, "epochs") == 20  # still improving
    assert mean_std([1.0, 3.0]) == "2 ± 1.4" and mean_std([None, 0.5]) == "0.5" and mean_std([]) == "—"


def _train_quietly():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    import torch

    torch.set_num_threads(1)


@pytest.mark.training
def test_sweep_end_to_end(spec_path, tmp_path):
    _train_quietly()
    work = tmp_path / "work"
    args = [str(spec_path), "--work-dir", str(work), "--seeds", "2", "--format", "json", "--lang", "en"]
    result = CliRunner().invoke(sweep_cmd, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sorted(data["ranked"]) == ["relu", "tanh mse"] and len(data["results"]) == 4
    for r in data["results"]:
        assert 1 <= r["retrain_epochs"] <= 6 and 0 <= r["test"]["accuracy"] <= 1
        assert r["samples"] == {"train": 400, "val": 100, "test": 200}
    md = (work / "results.md").read_text(encoding="utf-8")
    assert " ± " in md and "Caveat" in md and "train+validation" in md
    page = (work / "report.html").read_text(encoding="utf-8")
    assert "relu · seed 1" in page and "Retrain epochs" in page
    if Path("/usr/bin/chromium").exists():
        from test_html_report import browser_check

        dom, probe = browser_check(page, tmp_path)
        assert probe["errors"] == [] and 'class="fd-line raw"' in dom and probe["zoomed"]

    again = CliRunner().invoke(sweep_cmd, args)
    assert again.exit_code == 0 and again.stderr.count("skip ") == 4
    assert json.loads(again.stdout)["results"] == data["results"]


@pytest.mark.training
def test_sweep_resumes_after_interrupt_and_reproduces(spec_path, tmp_path, monkeypatch):
    _train_quietly()
    work = tmp_path / "work"
    args = [str(spec_path), "--work-dir", str(work), "--format", "json"]
    phase = sweep_mod.Reporter.phase

    def interrupt_tanh(self, label, total):
        if label.startswith("fit tanh"):
            raise KeyboardInterrupt
        return phase(self, label, total)

    monkeypatch.setattr(sweep_mod.Reporter, "phase", interrupt_tanh)
    stopped = CliRunner().invoke(sweep_cmd, args)
    assert stopped.exit_code == 130 and "resume" in stopped.stderr
    relu = work / "relu" / "seed0" / "result.json"
    first = json.loads(relu.read_text(encoding="utf-8"))
    assert not (work / "tanh-mse" / "seed0" / "result.json").exists()

    monkeypatch.setattr(sweep_mod.Reporter, "phase", phase)
    resumed = CliRunner().invoke(sweep_cmd, args)
    assert resumed.exit_code == 0 and "skip relu" in resumed.stderr
    assert (work / "tanh-mse" / "seed0" / "result.json").exists()

    relu.unlink()  # the same seed trains the same model again
    redone = CliRunner().invoke(sweep_cmd, args)
    assert redone.exit_code == 0 and "skip tanh mse" in redone.stderr
    second = json.loads(relu.read_text(encoding="utf-8"))
    assert second["best_epoch"] == first["best_epoch"] and second["retrain_epochs"] == first["retrain_epochs"]
    assert second["test"] == pytest.approx(first["test"], rel=1e-5)
