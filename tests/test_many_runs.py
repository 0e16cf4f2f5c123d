"""Many records in one call: read and diagnosed over a process pool, reported in order."""

import json

from click.testing import CliRunner

import fitdoc
from fitdoc import cli
from fitdoc.cli import POOL_MIN_RUNS, main


def _folder(tmp_path):
    for i in range(POOL_MIN_RUNS + 4):
        rows = "".join(f"{e},{1.0 / (e + 1) + 0.01 * i},{1.2 / (e + 1) + 0.02 * e * i}\n" for e in range(12))
        (tmp_path / f"run{i:02d}.csv").write_text("epoch,loss,val_loss\n" + rows)
    (tmp_path / "notes.txt").write_text("nothing to read here\n")


def test_a_folder_of_many_records_reports_each_in_order(tmp_path):
    _folder(tmp_path)
    result = CliRunner().invoke(main, ["diagnose", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    expected = [fitdoc.diagnose(p).to_dict() for p in sorted(tmp_path.glob("*.csv"))]
    assert json.loads(result.stdout) == json.loads(json.dumps(expected))
    assert "skipped" in result.stderr and "notes.txt" in result.stderr


def test_a_folder_with_no_record_is_an_error(tmp_path):
    for i in range(POOL_MIN_RUNS + 1):
        (tmp_path / f"n{i}.txt").write_text("nothing\n")
    result = CliRunner().invoke(main, ["diagnose", str(tmp_path)])
    assert result.exit_code == 2 and "no readable training record" in result.stderr


def test_terminal_text_rendered_in_the_workers_is_what_one_process_prints(tmp_path, monkeypatch):
    _folder(tmp_path)
    pooled = CliRunner().invoke(main, ["diagnose", str(tmp_path), "-v"])
    monkeypatch.setattr(cli, "POOL_MIN_RUNS", 10**6)
    alone = CliRunner().invoke(main, ["diagnose", str(tmp_path), "-v"])
    assert pooled.exit_code == alone.exit_code == 0
    assert pooled.stdout == alone.stdout and pooled.stdout.count("run") >= POOL_MIN_RUNS + 4


def test_an_unexpected_error_in_a_worker_is_one_line_and_exit_code_3(tmp_path, monkeypatch):
    from fitdoc import engine

    _folder(tmp_path)

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(engine, "choose_best", broken)  # inside diagnose, in the forked workers too
    result = CliRunner().invoke(main, ["diagnose", str(tmp_path)])
    assert result.exit_code == 3 and "ValueError: boom" in result.stderr
