"""``fitdoc triage --engine ray`` on a local Ray cluster the test starts: the same rows
as the process pool."""

import importlib.util
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from fitdoc.sources import units  # noqa: E402
from fitdoc.workflow import engines  # noqa: E402
from fitdoc.workflow.triage import Options, Triage  # noqa: E402

BENCH = Path(__file__).resolve().parents[1] / "bench"
_spec = importlib.util.spec_from_file_location("sweepgen", BENCH / "sweepgen.py")
sweepgen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sweepgen)


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_engine_gives_the_same_rows(cluster, tmp_path):
    store = sweepgen.write_mlruns(tmp_path / "mlruns", sweepgen.sweep(30, seed=5))
    found = units(str(store))
    local, _ = engines.run(found, Options(), jobs=1)
    on_ray, stats = engines.run(found, Options(), jobs=2, engine="ray", batch=4, max_in_flight=2)
    assert stats.diagnosed == 30 and stats.fetch_s > 0
    assert Triage(on_ray).rows == Triage(local).rows
