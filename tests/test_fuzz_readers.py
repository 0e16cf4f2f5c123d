"""Fuzzing every reader with mutations of real records (hypothesis, a fixed budget):
no exception other than fitdoc's own one-line error, no hang, and a cut record never
reports a value that the whole record does not have unless a note says it is cut.

The mutations and checks are those of ``bench/fuzz.py``, which runs a longer campaign.
"""

import importlib.util
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("bench_fuzz", ROOT / "bench" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

# One small seed per reader for the cut at every offset; the mutations use every seed.
SMALL = {
    "keras-csv": "fixtures/keras3_csvlogger_validation_freq2.csv",
    "keras-history": "cases/spike.json",
    "keras-text": "fixtures/keras3_fit_nan_verbose2.txt",
    "text-log": "text-log/tabs.txt",
    "hf-trainer": "fixtures/hf_trainer_stdout_dict_lines.txt",
    "lightning-csv": "fixtures/lightning_csvlogger_metrics.csv",
    "mlflow": "mlflow/mlruns",
    "tensorboard": "tensorboard/keras_fit/validation/events.out.tfevents.1795426062.vm.9735.1.v2",
}
HANG_S = 10


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("fuzz")
    return [fuzz.Seed(reader, record, inner, scratch) for reader, record, inner in fuzz.SEEDS]


def _no_hang(signum, frame):
    raise AssertionError(f"an execution ran past {HANG_S} s")


def run(seed, data: bytes, cut: bool, render: bool = False):
    """The outcome of one mutated record: 'ok' or 'error'; a traceback, a hang or a
    silent change fails the test."""
    old = signal.signal(signal.SIGALRM, _no_hang)
    signal.alarm(HANG_S)
    try:
        outcome, detail = seed.run(data, cut, render)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert outcome != "silent", f"{seed.name}: cut record changed values without a note: {detail}"
    return outcome


@pytest.mark.parametrize("reader", sorted(SMALL))
def test_a_cut_at_every_offset(seeds, reader):
    seed = next(s for s in seeds if s.name.startswith(SMALL[reader]))
    stride = max(1, len(seed.original) // 400)  # about 400 cuts per reader
    outcomes = [run(seed, seed.original[:n], cut=True) for n in [*range(0, len(seed.original), stride), len(seed.original)]]
    assert outcomes[-1] == "ok"


@st.composite
def mutations(draw, data: bytes) -> bytes:
    """Byte flips, inserts, deletes, special numbers, odd names, repeated or dropped lines."""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "number", "name", "line"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data = data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 16)) :]
        elif kind == "number":
            spans = fuzz._number_spans(data)
            if spans:
                a, b = draw(st.sampled_from(spans))
                data = data[:a] + draw(st.sampled_from(fuzz.SPECIAL)) + data[b:]
        elif kind == "name":
            data = data[:at] + draw(st.sampled_from(fuzz.NAMES)) + data[at:]
        else:
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i:i] = [lines[i]] if draw(st.booleans()) else [b"a" * 200_000]
            data = b"\n".join(lines)
    return data


READERS = sorted({reader for reader, _, _ in fuzz.SEEDS})


@pytest.mark.parametrize("reader", READERS)
@settings(max_examples=50, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_records(seeds, reader, data):
    seed = data.draw(st.sampled_from([s for s in seeds if s.reader == reader]))
    run(seed, data.draw(mutations(seed.original)), cut=False, render=True)
