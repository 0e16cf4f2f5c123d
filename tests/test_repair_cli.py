"""``fitdoc repair SPEC``: the loop on a sweep-style spec with Keras 3 (torch backend)."""

import json
import os

import pytest
from click.testing import CliRunner

from fitdoc.cli import main

os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # from keras's torch backend

SPEC = """
import numpy as np

VALIDATION = 0.25
BASE = {"units": 8, "layers": 1, "loss": "sparse_categorical_crossentropy", "optimizer": "adam",
        "learning_rate": 1e-2, "batch_size": 32, "epochs": 10}

def load_data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    x = np.array([[0, 0], [2.5, 0], [0, 2.5]])[y] + rng.normal(0, 1.0, (400, 2))
    return (x * SCALE).astype("float32"), y
"""


def write(tmp_path, scale):
    path = tmp_path / "spec.py"
    path.write_text(SPEC.replace("SCALE", str(scale)), encoding="utf-8")
    return path


def test_repair_spec_json_html_and_the_users_file_untouched(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    spec = write(tmp_path, 1000)
    before = spec.read_bytes()
    html = tmp_path / "repair.html"
    result = CliRunner().invoke(main, ["repair", str(spec), "--format", "json", "--html", str(html)])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["changed"] and d["changes"] == {"normalise_inputs": True}
    assert d["final_score"] > d["initial_score"]
    assert d["attempts"][1]["finding"] == "FD401" and d["attempts"][1]["kept"]
    assert "Normalization layer" in d["diff"]
    page = html.read_text(encoding="utf-8")
    assert "Repair" in page and "FD401" in page
    assert spec.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["repair.html", "spec.py"]


def test_healthy_spec_is_left_as_it_is(tmp_path):
    result = CliRunner().invoke(main, ["repair", str(write(tmp_path, 1)), "--attempts", "3"])
    assert result.exit_code == 0, result.output
    assert "no attempt made: the run is healthy" in result.stdout
    assert "Change to make" not in result.stdout


def test_bad_spec_is_one_line_exit_2(tmp_path):
    spec = tmp_path / "spec.py"
    spec.write_text("BASE = {}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["repair", str(spec)])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "no data loader" in result.stderr
