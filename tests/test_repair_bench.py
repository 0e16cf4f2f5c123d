"""A small subset of bench/repair.py: seeded faults of one corpus family, repaired to
within the noise of its healthy control, better than the generic recipe."""

import importlib.util
import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("keras")
pytest.importorskip("sklearn")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

BENCH = Path(__file__).resolve().parents[1] / "bench" / "repair.py"
CASES = (("lr_x1000", 100), ("inputs_x100", 101), ("linear_output", 100))


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_repair", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wine_faults_repaired_within_noise_of_the_control(bench):
    rows = [bench.run_config("wine_mlp", fault, seed) for fault, seed in ((None, 100), *CASES)]
    control = bench.controls(rows)["wine_mlp"]
    healthy, faulty = rows[0], rows[1:]
    assert healthy["attempts"] == 0 and not healthy["changes"]
    assert all(bench.within(r["repair"], control) for r in faulty), [(r["fault"], r["repair"]) for r in faulty]
    assert not any(bench.within(r["none"], control) for r in faulty)
    assert sum(bench.within(r["generic"], control) for r in faulty) < len(faulty)
    assert "normalise_inputs" in faulty[1]["changes"] and faulty[2]["changes"] == {"output_activation": "softmax"}
    assert sum(r["repair_seconds"] for r in rows) <= 3 * sum(r["plain_seconds"] for r in rows)
