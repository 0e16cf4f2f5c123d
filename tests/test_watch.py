"""``fitdoc watch``: a record followed while a test appends to it."""

import os
import subprocess
import sys
import time
from importlib.util import find_spec

import pytest
from conftest import DATA

from fitdoc.watch import EXIT_FOUND, Follower, complete_part

NAN_CSV = (DATA / "cases" / "nan.csv").read_text().splitlines(keepends=True)


def test_an_unterminated_last_line_is_never_read():
    assert complete_part(b"epoch,loss\n0,1.5\n1,0.9", json_record=False) == b"epoch,loss\n0,1.5\n"
    assert complete_part(b"epoch,loss", json_record=False) is None
    assert complete_part(b'{"log_history": [', json_record=True) is None
    assert complete_part(b'{"a": 1}', json_record=True) == b'{"a": 1}'
    events = b"\x18\0\0\0\0\0\0\0\xa3\x7f\x4b\x22\n\x0e"  # a TensorBoard record, cut short
    assert complete_part(events, json_record=False) == events


def test_follower_reports_each_epoch_once_and_each_finding_once(tmp_path):
    log = tmp_path / "train.csv"
    follower = Follower(log, lang="en")
    try:
        assert follower.poll() is None  # no file yet
        log.write_text("".join(NAN_CSV[:5]))
        report = follower.poll()
        assert report is not None and follower.epochs == 4
        assert follower.poll() is None  # nothing new
        with log.open("a") as f:
            f.write("4,1.045230,0.641842,1.136175,0.607114\n5,na")  # the NaN row is half written
        report = follower.poll()
        assert "FD201" not in {f.code for f in report.findings} and follower.epochs == 5
        first = {f.code for f, _ in follower.new_findings(report)}
        with log.open("a") as f:
            f.write("n,0.100000,nan,0.100000\n")
        report = follower.poll()
        fresh = [f for f, _ in follower.new_findings(report)]
        assert [f.code for f in fresh if f.severity == "error"] == ["FD201"] and fresh[0].epoch == 5
        assert not first & {f.code for f in fresh}  # nothing printed twice
    finally:
        follower.close()


def test_a_log_started_again_is_followed_from_its_new_start(tmp_path):
    log = tmp_path / "train.csv"
    follower = Follower(log, lang="en")
    try:
        log.write_text("".join(NAN_CSV[:8]))
        report = follower.poll()
        assert "FD201" in {f.code for f, _ in follower.new_findings(report)}
        log.write_text("".join(NAN_CSV[:3]))  # a new run overwrote the log
        assert follower.poll() is not None and follower.epochs == 2 and not follower.reported
    finally:
        follower.close()


def test_a_trainer_state_json_is_read_once_it_parses(tmp_path):
    state = (DATA / "hf" / "trainer_state.json").read_bytes()
    path = tmp_path / "trainer_state.json"
    follower = Follower(path, lang="en")
    try:
        path.write_bytes(state[: len(state) // 2])
        assert follower.poll() is None
        path.write_bytes(state)
        assert follower.poll() is not None and follower.epochs > 0
    finally:
        follower.close()


def test_watch_names_a_nan_within_two_seconds_and_exits_with_its_code(tmp_path):
    log = tmp_path / "train.log.csv"
    hook_out = tmp_path / "hook.txt"
    log.write_text("".join(NAN_CSV[:4]))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "100"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fitdoc.cli", "watch", str(log), "--interval", "0.2", "--exit-on", "error",
         "--on-error", f'echo "$FITDOC_CODE $FITDOC_EPOCH" > {hook_out}', "--lang", "en"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        time.sleep(3)  # start-up, first diagnosis
        assert proc.poll() is None
        with log.open("a") as f:
            f.write("".join(NAN_CSV[4:6]))
        time.sleep(1)
        with log.open("a") as f:
            f.write(NAN_CSV[6])  # epoch 5: loss nan
        landed = time.monotonic()
        proc.wait(timeout=10)
        elapsed = time.monotonic() - landed
    finally:
        proc.kill()
    out = proc.stdout.read().decode()
    assert proc.returncode == EXIT_FOUND, proc.stderr.read().decode()
    assert elapsed < 2.0, elapsed
    assert "FD201 NaN loss · error · from epoch 5" in out and out.count("FD201") == 1
    assert "epoch 4  loss 1.045" in out
    for _ in range(20):  # the hook runs in the background
        if hook_out.exists() and hook_out.read_text():
            break
        time.sleep(0.1)
    assert hook_out.read_text().split() == ["FD201", "5"]


def test_a_keras_stdout_log_followed_line_by_line_ends_as_the_whole_record(tmp_path):
    from fitdoc.readers import read_runs

    source = DATA / "keras_runs" / "overfit_tiny_data.txt"
    path = tmp_path / "train.log"
    follower = Follower(path, lang="en")
    seen = []
    try:
        with path.open("wb") as f:
            for line in source.read_bytes().splitlines(keepends=True):
                f.write(line[: len(line) // 2])  # each line lands in two writes
                f.flush()
                follower.poll()
                f.write(line[len(line) // 2:])
                f.flush()
                if follower.poll() is not None:
                    seen.append(follower.epochs)
    finally:
        follower.close()
    assert seen == sorted(set(seen)) and seen[-1] == len(read_runs(source)[-1])


TRAIN = """
import os, sys, time
os.environ["KERAS_BACKEND"] = "torch"
import numpy as np, keras
rng = np.random.default_rng(0)
x = rng.normal(size=(256, 8)).astype("float32")
y = (x[:, 0] > 0).astype("int32")
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

class Poison(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.3)
        if epoch == 3:  # from epoch 4 on, the loss is NaN
            w = self.model.layers[0].kernel
            w.assign(np.full(w.shape, np.nan, dtype="float32"))

model.fit(x, y, epochs=8, batch_size=64, validation_split=0.25, verbose=0,
          callbacks=[Poison(), keras.callbacks.CSVLogger(sys.argv[1])])
"""


@pytest.mark.training
@pytest.mark.skipif(find_spec("keras") is None or find_spec("torch") is None, reason="needs the keras extra")
def test_watch_follows_a_real_keras_fit(tmp_path):
    log = tmp_path / "history.csv"
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "100", "OMP_NUM_THREADS": "1"}
    watch = subprocess.Popen([sys.executable, "-m", "fitdoc.cli", "watch", str(log), "--interval", "0.2",
                              "--exit-on", "error", "--lang", "en"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    train = subprocess.Popen([sys.executable, str(script), str(log)], env=env)
    try:
        assert watch.wait(timeout=120) == EXIT_FOUND, watch.stderr.read().decode()
    finally:
        watch.kill()
        train.kill()
    out = watch.stdout.read().decode()
    assert "FD201 NaN loss · error · from epoch 4" in out and "epoch 3  " in out
