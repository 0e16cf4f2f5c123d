"""Hostile and damaged input: every reproducer of a past crash or silent misread
(tests/data/repro, copied from the defect report) gives a read with a note or one line
naming the file; hostile files never give a traceback; an unexpected error exits 3;
names cannot inject into the terminal, Markdown or HTML; sweep folders and resumes."""

import json
import os
import stat
import struct

import pytest
from click.testing import CliRunner

import fitdoc
from fitdoc import cli
from fitdoc.errors import FitdocError
from fitdoc.readers import read_runs
from fitdoc.readers import tensorboard as tb

from conftest import DATA

REPRO = DATA / "repro"


def run_cli(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def one_line_error(result, name: str) -> bool:
    lines = result.stderr.strip().splitlines()
    return result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("fitdoc: error: ") and name in lines[0]


def report(path):
    result = run_cli("diagnose", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    return data if isinstance(data, dict) else data[0]


# --- every reproducer --------------------------------------------------------------

ERRORS = {  # reproducer -> words of its one-line error
    "csv_huge_epoch.csv": "epoch '1e30' is not a whole number",
    "csv_inf_epoch.csv": "epoch 'inf' is not a whole number",
    "history_bigint.json": None,  # read: the 400-digit integer is +inf
    "history_epoch_only.json": "no metric lists besides 'epoch'",
    "history_epoch_strings.json": "'epoch' holds a value that is not a whole epoch number",
    "history_valfreq_mismatch.json": "'val_loss' has 3 values but other lists have 5",
    "keras_text_huge_epoch.txt": "epoch number out of range",
    "lightning_inf_step.csv": None,  # read as a CSVLogger file, noting why Lightning's reader refused it
    "lightning_nan_epoch.csv": "line 2: an epoch or step that is not a whole number",
    "textlog_huge_epoch.log": "not a training record",  # its one other epoch line is too little
}


@pytest.mark.parametrize("name", sorted(p.name for p in REPRO.iterdir()))
def test_every_reproducer_reads_with_a_note_or_fails_in_one_line(name):
    result = run_cli("diagnose", REPRO / name, "--format", "json")
    if ERRORS.get(name):
        assert one_line_error(result, name), result.stderr
        assert ERRORS[name] in result.stderr
    else:
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)


def test_a_record_one_reader_refuses_is_read_by_the_next_with_a_note():
    lightning = report(REPRO / "lightning_inf_step.csv")  # step "inf": not a Lightning log
    assert lightning["format"] == "keras-csv" and lightning["series"]["loss"] == [0.5, 0.4]
    assert any("refused it" in n and "not a whole number" in n for n in lightning["notes"])


def test_cut_last_values_are_left_out_with_a_note():
    csv = report(REPRO / "csv_cut_mid_value.csv")  # ends in "0.905" of 0.905584
    assert len(csv["epochs"]) == 39 and "0.905" not in json.dumps(csv["series"]["val_accuracy"][-1:])
    assert any("does not end in a newline" in n for n in csv["notes"])
    text = report(REPRO / "keras_text_cut_last_value.txt")  # ends in "val_loss: 0.4" of 0.4123
    assert text["epochs"] == [1, 2] and any("incomplete" in n for n in text["notes"])


def test_unusual_cells_and_values_are_read():
    assert report(REPRO / "csv_empty_cell.csv")["series"]["val_loss"] == [None, 0.3]
    assert report(REPRO / "csv_dash_cell.csv")["epochs"]
    assert report(REPRO / "history_bigint.json")["series"]["loss"] == [1.0, None]  # 400 digits: +inf, null in JSON
    dup = report(REPRO / "history_dup_epochs.json")  # epochs [1, 1, 1]: a resumed run, said so
    assert [e["type"] for e in dup["events"]] == ["resume", "resume"]
    hf = report(REPRO / "hf_stdout_epoch_inf.txt")
    assert hf["epochs"] == [2] and any("could not be parsed" in n for n in hf["notes"])
    assert report(REPRO / "hf_state_best_metric_str.json")["epochs"]
    assert report(REPRO / "hf_state_num_epochs_str.json")["epochs"]
    assert report(REPRO / "mlflow_na_value")["series"]["loss"] == [0.5]  # the NA point is missing
    tbr = report(REPRO / "tb_huge_record_length.tfevents")  # a 2^35-byte record in a 2 kB file
    assert any("last record is incomplete" in n for n in tbr["notes"])


# --- hostile files -----------------------------------------------------------------

CLEAN_CSV = (DATA / "cases" / "clean.csv").read_bytes()
KERAS_LOG = (DATA / "fixtures" / "keras3_fit_verbose2.txt").read_bytes()


def _nul_inside(data: bytes) -> bytes:
    lines = data.split(b"\n")
    return b"\n".join(lines[:5]) + b"\n\x00\x00\x00" + b"\n".join(lines[5:])


HOSTILE = {
    "empty.txt": b"",
    "blank.txt": b" \n\n\t\n",
    "random.bin": bytes(range(256)) * 64,
    "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
    "prose.txt": b"It was a bright cold day in April, and the clocks were striking thirteen.\n" * 40,
    "cut.csv": CLEAN_CSV[: len(CLEAN_CSV) // 2],
    "cut.json": (DATA / "cases" / "clean.json").read_bytes()[:300],
    "history.pkl": b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x04loss\x94]\x94(G?\xe0\x00\x00\x00\x00\x00\x00e.",
    "utf16.txt": KERAS_LOG.decode().encode("utf-16"),
    "utf16-nobom.txt": KERAS_LOG.decode().encode("utf-16-le"),
    "gbk.txt": "训练日志\n".encode("gbk") + KERAS_LOG,
    "bom.csv": b"\xef\xbb\xbf" + CLEAN_CSV,
    "crlf.csv": CLEAN_CSV.replace(b"\n", b"\r\n"),
    "nul-inside.txt": _nul_inside(KERAS_LOG),
    "nul-padded.csv": CLEAN_CSV + b"\x00" * 8192,
    "only-nul.txt": b"\x00" * 70000,
    "deep.json": b'{"loss":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "wide.csv": ("epoch," + ",".join(f"m{i}" for i in range(20_000)) + "\n0," + ",".join(["0.5"] * 20_000) + "\n").encode(),
    "long-cell.csv": b"epoch,loss\n0,0.5\n1," + b"1" * 200_000 + b"\n",
    "dup-columns.csv": b"epoch,loss,loss\n0,0.5,0.4\n1,0.3,0.2\n",
    "long-line.txt": b"Epoch 1/3\n12/12 - 1s - loss: 0.5\nEpoch 2/3\n" + b"a" * (17 << 20),
}
MUST_READ = {"utf16.txt", "utf16-nobom.txt", "gbk.txt", "bom.csv", "crlf.csv", "nul-inside.txt", "nul-padded.csv",
             "wide.csv", "long-cell.csv", "cut.csv"}  # dup-columns: no reader guesses which 'loss' is meant


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_reads_or_fails_in_one_line(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(HOSTILE[name])
    result = run_cli("diagnose", path)
    if name in MUST_READ:
        assert result.exit_code == 0, result.stderr
        assert ("truncated" in result.stdout) == (name == "cut.csv")
    else:
        assert one_line_error(result, name), (result.exit_code, result.stderr[-500:])


def test_refusals_of_the_most_confident_reader_are_one_line(tmp_path):
    dup = tmp_path / "dup.csv"
    dup.write_bytes(HOSTILE["dup-columns.csv"])
    with pytest.raises(FitdocError, match="line 1: the header names the column 'loss' twice"):
        read_runs(dup, "keras-csv")
    with pytest.raises(FitdocError, match="line 3: an epoch or step that is not a whole number"):
        read_runs(REPRO / "lightning_inf_step.csv", "lightning-csv")


def test_nul_bytes_inside_a_log_are_dropped(tmp_path):
    path = tmp_path / "log.txt"
    path.write_bytes(_nul_inside(KERAS_LOG))
    assert fitdoc.read(path).get("loss").values.tolist() == fitdoc.read(DATA / "fixtures" / "keras3_fit_verbose2.txt").get("loss").values.tolist()


def test_fifo_and_devices_are_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert one_line_error(run_cli("diagnose", fifo), "not a regular file")
    assert one_line_error(run_cli("diagnose", "/dev/zero", "--reader", "keras-text"), "not a regular file")


def test_symlink_loop_in_a_folder_is_followed_once(tmp_path):
    folder = tmp_path / "loop"
    folder.mkdir()
    (folder / "self").symlink_to("../loop")
    (folder / "clean.csv").write_bytes(CLEAN_CSV)
    (folder / "a").symlink_to("b")
    (folder / "b").symlink_to("a")
    skipped = []
    runs = read_runs(folder, on_skip=skipped.append)
    assert [r.source for r in runs] == [str(folder / "clean.csv")]
    assert [e.reason for e in skipped] == ["symbolic link loop", "symbolic link loop"]


def test_tensorboard_record_length_beyond_the_file_is_not_allocated(tmp_path):
    good = (DATA / "tensorboard/keras_fit/train/events.out.tfevents.1795426061.vm.9735.0.v2").read_bytes()
    header = struct.pack("<Q", 1 << 62)
    path = tmp_path / "events.out.tfevents.1.x"
    path.write_bytes(good + header + struct.pack("<I", tb._masked_crc(header)) + b"\x00" * 64)
    run = fitdoc.read(path)
    assert len(run) and any("last record is incomplete" in n for n in run.notes)


# --- exit code 3 -------------------------------------------------------------------


def test_unexpected_error_is_one_line_with_exit_3_and_a_traceback_with_debug(monkeypatch):
    from fitdoc.readers import keras_csv

    def broken(source):
        raise RuntimeError("reader exploded\nsecond line")

    monkeypatch.setattr(keras_csv, "read", broken)
    path = DATA / "cases" / "clean.csv"
    result = run_cli("diagnose", path)
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines() == [
        f"fitdoc: error: internal error: {path}: RuntimeError: reader exploded (a bug in fitdoc, or in code a sweep "
        "spec runs; 'fitdoc --debug ...' shows the traceback)"]
    debug = run_cli("--debug", "diagnose", path)
    assert isinstance(debug.exception.__cause__, RuntimeError)


# --- nothing injected ----------------------------------------------------------------


def test_names_cannot_steer_the_terminal_or_break_markdown_and_html(tmp_path):
    names = REPRO / "csv_escape_and_pipe_names.csv"
    terminal = run_cli("diagnose", names).stdout
    assert "\x1b" not in terminal and "\x07" not in terminal and "x\\x1b]0;pwned\\x07y" in terminal
    rows = [line for line in run_cli("diagnose", names, "--format", "markdown").stdout.splitlines() if line.startswith("| ")]
    assert all(line.replace("\\|", "").count("|") == 5 for line in rows) and "| a\\|b |" in "\n".join(rows)
    label = tmp_path / "run<!--<script>.csv"
    label.write_bytes(CLEAN_CSV)
    page = tmp_path / "r.html"
    assert run_cli("report", label, "-o", page).exit_code == 0
    data = page.read_text(encoding="utf-8").split('id="fitdoc-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and "run\\u003c!--\\u003cscript>" in data


# --- sweep folders and resume --------------------------------------------------------


def test_sweep_variant_names_get_distinct_folders():
    from fitdoc.workflow.sweep import folder_names

    names = ["宽", "窄", "lr 1e-3", "lr/1e-3", "64 units", "A", "a"]
    folders = folder_names(names)
    assert len({f.lower() for f in folders.values()}) == len(names)
    assert folders["64 units"] == "64-units"


def test_sweep_reruns_a_variant_whose_result_is_cut(tmp_path):
    from fitdoc.workflow.sweep import _finished

    class Said:
        def __init__(self):
            self.lines = []

        def message(self, text):
            self.lines.append(text)

    (tmp_path / "history.json").write_text("{}")
    (tmp_path / "result.json").write_text(json.dumps({"key": "k", "variant": "v"})[:20])
    said = Said()
    assert _finished(tmp_path, "k", said) is None
    assert said.lines == [f"{tmp_path / 'result.json'} is cut or damaged: this variant runs again"]
    (tmp_path / "result.json").write_text(json.dumps({"key": "k"}))
    assert _finished(tmp_path, "k", said) == {"key": "k"}


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    from fitdoc import atomic

    target = tmp_path / "report.json"
    target.write_text("old")
    os.chmod(target, 0o640)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "fsync", full_disk)
        with pytest.raises(OSError):
            atomic.write_text(target, "new")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["report.json"]
    atomic.write_text(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640


# --- MLflow servers that hang or redirect ------------------------------------------


class _Server:
    """A loopback TCP server: ``answer`` is None (accept and never reply) or the bytes
    sent back to each request; ``connections`` counts who connected."""

    def __init__(self, answer: bytes | None = None):
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port, self.answer, self.connections, self.open = self.sock.getsockname()[1], answer, 0, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.open.append(conn)
            if self.answer is not None:
                conn.recv(65536)
                conn.sendall(self.answer)
                conn.close()

    def close(self):
        for conn in self.open:
            conn.close()
        self.sock.close()


def test_mlflow_server_that_never_answers_fails_within_the_timeout(monkeypatch):
    pytest.importorskip("mlflow")
    import time

    from fitdoc.readers import mlflow_store

    assert mlflow_store.CLIENT_LIMITS["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "10"
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")  # the user's setting wins
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    server = _Server()
    try:
        started = time.monotonic()
        with pytest.raises(FitdocError, match="MLflow server"):
            read_runs(f"mlflow://127.0.0.1:{server.port}/some-run")
        assert time.monotonic() - started < 15
    finally:
        server.close()
    assert "MLFLOW_ALLOW_HTTP_REDIRECTS" not in os.environ  # set only while reading


def test_mlflow_redirect_to_another_port_is_not_followed(monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    elsewhere = _Server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    redirect = _Server(f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{elsewhere.port}/x\r\n"
                       "Content-Length: 0\r\n\r\n".encode())
    try:
        with pytest.raises(FitdocError):
            read_runs(f"mlflow://127.0.0.1:{redirect.port}/some-run")
    finally:
        redirect.close()
        elsewhere.close()
    assert redirect.connections >= 1 and elsewhere.connections == 0


def test_mlflow_runs_ordered_by_start_time_as_numbers(tmp_path):
    import shutil

    store = tmp_path / "mlruns"
    shutil.copytree(REPRO / "mlflow_na_value", store)
    run = store / "0" / "r1"
    for name, start in (("r1", "999"), ("r2", "1000")):
        if name != "r1":
            shutil.copytree(run, store / "0" / name)
        meta = store / "0" / name / "meta.yaml"
        meta.write_text(meta.read_text().replace("r1", name) + f"start_time: {start}\n")
    assert [r.source for r in read_runs(store)] == [str(store / "0" / "r1"), str(store / "0" / "r2")]


def test_trainer_lines_with_lists_are_not_taken_for_keras_history(tmp_path):
    path = tmp_path / "stdout.txt"
    path.write_text("{'loss': [[0.5]], 'epoch': 1}\n{'loss': 0.4, 'epoch': 2}\n")
    assert fitdoc.read(path).format == "hf-trainer"


def test_a_number_of_200000_digits_is_read_in_linear_time(tmp_path):
    import time

    digits = "9" * 200_000
    path = tmp_path / "train.log"
    path.write_text(f"epoch 1 loss 0.5\nepoch 2 loss 0.4 acc {digits}\nepoch 3 loss 0.3\nloss{digits}x\n")
    started = time.monotonic()
    run = fitdoc.read(path)
    assert time.monotonic() - started < 10  # was quadratic: minutes
    assert run.get("loss").values.tolist() == [0.5, 0.4, 0.3] and run.get("accuracy").values[1] == float("inf")


def test_a_csv_header_longer_than_the_sniffed_head_is_read_whole(tmp_path):
    names = [f"m{i}" for i in range(20_000)]  # a 140 kB header: more than the 64 KiB head
    path = tmp_path / "wide.csv"
    path.write_text("epoch," + ",".join(names) + "\n0," + ",".join(["0.5"] * len(names)) + "\n")
    assert sorted(fitdoc.read(path).series) == sorted(names)


@pytest.mark.parametrize("rate", ["0", "5e-324", "inf", "nan", "-0.1"])
def test_a_learning_rate_with_nothing_to_move_to_is_diagnosed(tmp_path, rate):
    text = (DATA / "fixtures" / "lightning_csvlogger_metrics.csv").read_text()
    path = tmp_path / "metrics.csv"
    path.write_text(text.replace(",0.1,", f",{rate},"))
    result = run_cli("diagnose", path, "--format", "json")
    assert result.exit_code == 0, result.stderr


def test_curves_at_the_float_limits_diagnose_without_numpy_warnings(tmp_path):
    import warnings

    path = tmp_path / "big.csv"
    path.write_text("epoch,loss,val_loss\n0,1e308,1e308\n1,1.7e308,1.7e308\n2,1.7e308,1.7e308\n"
                    "3,1e-300,1.7e308\n4,1.7e308,1e308\n5,1.7e308,1.7e308\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would print on the user's terminal
        report = fitdoc.diagnose(path)
    assert report.verdict == "error"
    assert "infx" not in str(report.to_dict()) and "jumped to 1.7e+308 from its lowest value 1e-300" in str(report.to_dict())
