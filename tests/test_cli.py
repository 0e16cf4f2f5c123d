"""The command line as a user runs it: formats, languages, plots, exit codes, errors."""

import json
import re
import os
import subprocess
import sys

import pytest

from conftest import DATA, ROOT

EXAMPLE = ROOT / "examples" / "keras2_loss_rises_again.txt"


def fitdoc(*args, env=None, encoding="utf-8"):
    full_env = {**os.environ, "PYTHONIOENCODING": encoding, **(env or {})}
    return subprocess.run([sys.executable, "-m", "fitdoc.cli", *map(str, args)], capture_output=True, env=full_env)


def test_json_report_follows_the_contract(fixtures):
    out = fitdoc("diagnose", fixtures / "keras3_fit_nan_verbose2.txt", "--format", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    for key in ("source", "format", "epochs", "series", "events", "verdict", "findings", "likely_causes",
                "best_epoch", "best_epoch_metric", "recommended_epochs"):
        assert key in report
    assert report["series"]["loss"] == [None] and report["verdict"] == "error"
    finding = report["findings"][0]
    assert finding["kind"] == "nan_loss" and finding["epoch"] == 1
    assert set(finding) >= {"code", "kind", "epoch", "end_epoch", "severity", "evidence", "causes", "fixes"}
    assert {e["type"] for e in report["events"]} >= {"terminate_on_nan"}


def test_text_report_in_chinese_on_a_gbk_pipe_without_colour():
    out = fitdoc("diagnose", EXAMPLE, "--lang", "zh", env={"NO_COLOR": "1"}, encoding="gbk")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode("gbk")
    assert "下降后又上升" in text and "第 68 轮" in text
    assert "记录中缺少第 11-64 轮" in text  # reader notes are translated too
    assert "\x1b[" not in text


def test_markdown_and_fail_on(cases):
    out = fitdoc("diagnose", cases / "overfit.csv", "--format", "markdown", "--fail-on", "warning")
    assert out.returncode == 1
    assert out.stdout.decode().startswith("### fitdoc diagnosis") and b"FD101" in out.stdout
    assert fitdoc("diagnose", cases / "overfit.csv", "--fail-on", "error").returncode == 0


def test_plot_writes_a_png(tmp_path, cases):
    png = tmp_path / "curves.png"
    out = fitdoc("diagnose", cases / "nan.csv", "--plot", png, "--lang", "zh")
    assert out.returncode == 0, out.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_many_runs_at_once(cases):
    out = fitdoc("diagnose", cases / "overfit.csv", cases / "spike.json", "--format", "json")
    reports = json.loads(out.stdout)
    assert [r["format"] for r in reports] == ["keras-csv", "keras-history"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("diagnose", "/no/such/file.log"), "no such file"),
        (("explain", "FD999"), "no such rule"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args, message):
    out = fitdoc(*args)
    assert out.returncode == 2
    err = out.stderr.decode()
    assert err.startswith("fitdoc: error:") and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_folder_of_records_gives_one_report_per_run(tmp_path):
    for name in ("healthy", "sorted_split"):
        (tmp_path / f"{name}.txt").write_bytes((DATA / "keras_runs" / f"{name}.txt").read_bytes())
    (tmp_path / "notes.txt").write_text("not a log")
    out = fitdoc("diagnose", tmp_path, "--format", "json")
    assert out.returncode == 0
    assert [r["verdict"] for r in json.loads(out.stdout)] == ["healthy", "error"]
    assert b"skipped" in out.stderr and b"notes.txt" in out.stderr


def test_a_folder_without_records_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not a log")
    out = fitdoc("diagnose", tmp_path)
    assert out.returncode == 2 and b"no readable training record" in out.stderr


def test_missing_monitor_lists_the_metrics(fixtures):
    out = fitdoc("diagnose", fixtures / "keras3_csvlogger.csv", "--monitor", "val_auc")
    assert out.returncode == 2 and b"available: accuracy, loss, lr, val_accuracy, val_loss" in out.stderr


def test_explain_prints_the_rule_page_and_thresholds():
    out = fitdoc("explain", "FD101")
    text = out.stdout.decode()
    assert out.returncode == 0 and "What it detects" in text and "min_rise = 0.1" in text
    assert "``" not in text and "\nWhy it matters\n" in text  # one heading style, code rendered


@pytest.mark.parametrize("lang, words", [("en", ("FD101 Overfitting", "default severity: warning", "Thresholds")),
                                         ("zh", ("FD101 过拟合", "默认级别：警告", "阈值"))])
def test_explain_finds_a_rule_by_its_name(lang, words):
    out = fitdoc("explain", "overfitting", "--lang", lang, env={"COLUMNS": "80"})
    text = out.stdout.decode()
    assert out.returncode == 0 and all(w in text for w in words), text
    assert max(len(line) for line in text.splitlines()) <= 80
    if lang == "zh":
        assert "Thresholds" not in text and "default severity" not in text


def test_rules_has_a_header_and_each_rules_own_title():
    lines = fitdoc("rules", env={"COLUMNS": "80"}).stdout.decode().splitlines()
    assert lines[0].split() == ["Code", "Name", "Severity", "Title"]
    assert any(line.startswith("FD401") and line.rstrip().endswith("Unnormalised inputs") for line in lines)
    assert max(len(line.rstrip()) for line in lines) <= 80


def test_every_rule_has_a_chinese_page():
    from fitdoc.advice import catalog
    from fitdoc.rules import all_rules

    pages = catalog()["pages"]
    core = [code for code in all_rules() if code < "FD400"]
    assert all("检测内容" in pages[code]["zh"] and "怎么做" in pages[code]["zh"] for code in core)
    out = fitdoc("explain", "FD203", "--lang", "zh")
    assert "下降后又上升" in out.stdout.decode() and "min_rise" in out.stdout.decode()


def test_pyproject_configuration_is_read(tmp_path, cases):
    (tmp_path / "pyproject.toml").write_text('[tool.fitdoc]\nignore = ["FD101"]\n')
    out = subprocess.run([sys.executable, "-m", "fitdoc.cli", "diagnose", str(cases / "overfit.csv"), "--format", "json"],
                         capture_output=True, cwd=tmp_path)
    assert out.returncode == 0 and json.loads(out.stdout)["findings"] == []


@pytest.mark.parametrize("lang, name", [("en", "rules.md"), ("zh", "rules.zh.md")])
def test_rule_docs_are_generated_from_the_rules(lang, name):
    from fitdoc.output.rulepages import markdown

    assert (ROOT / "docs" / name).read_text(encoding="utf-8") == markdown(lang), "regenerate: fitdoc rules --markdown"


def test_help_summaries_are_whole_sentences():
    out = fitdoc("--help", env={"COLUMNS": "80"}).stdout.decode()
    commands = out.split("Commands:")[1].strip().splitlines()
    assert {line.split()[0] for line in commands} >= {"compare", "diagnose", "explain", "report", "rules", "sweep", "watch"}
    assert all(line.rstrip().endswith((".", ")")) for line in commands), commands


def test_absolute_globs_are_expanded(tmp_path):
    for name in ("healthy", "sorted_split"):
        (tmp_path / f"{name}.csv").write_bytes((DATA / "keras_runs" / f"{name}.csv").read_bytes())
    out = fitdoc("diagnose", str(tmp_path / "*.csv"), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)) == 2


@pytest.mark.parametrize("command", [("diagnose", str(EXAMPLE), "--plot"), ("compare", str(EXAMPLE), "--plot"),
                                     ("report", str(EXAMPLE), "-o")])
def test_an_output_in_a_missing_folder_is_one_line_before_any_work(tmp_path, command):
    out = fitdoc(*command, tmp_path / "nodir" / "out.png")
    err = out.stderr.decode()
    assert out.returncode == 2 and err.count("\n") == 1 and "does not exist" in err and "Traceback" not in err


def test_sweep_without_keras_names_the_extra(monkeypatch, tmp_path):
    import importlib.util

    from click.testing import CliRunner

    from fitdoc.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "keras" else real(name, *a))
    spec = tmp_path / "spec.py"
    spec.write_text("VARIANTS = []\n")
    result = CliRunner().invoke(main, ["sweep", str(spec)])
    assert result.exit_code == 2
    assert result.output.strip() == "fitdoc: error: fitdoc sweep: needs keras: pip install 'fitdoc[keras]'"


def test_chinese_run_header_and_singular_epoch(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("epoch,loss,val_loss\n0,1.0,1.1\n")
    assert "[keras-csv, 1 epoch (0)]" in fitdoc("diagnose", one).stdout.decode()
    zh = fitdoc("diagnose", EXAMPLE, "--lang", "zh", env={"COLUMNS": "100"}).stdout.decode()
    assert "[keras-text, 记录了 20 轮（第 1-74 轮）]" in zh
    assert "可能原因：" in zh and "可能原因:" not in zh  # full-width colon in Chinese labels


def test_snippets_are_labelled_and_never_wrapped():
    text = fitdoc("diagnose", EXAMPLE, "-v", env={"COLUMNS": "80"}).stdout.decode()
    assert "\n  Keras:\n" in text  # the run's framework, named
    line = "    callbacks=[keras.callbacks.ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience=2)]"
    assert f"\n{line}\n" in text and len(line) > 80  # whole, though wider than the terminal


def test_sparklines_fall_back_to_ascii():
    text = fitdoc("diagnose", EXAMPLE, encoding="ascii").stdout.decode("ascii")
    curve = next(line for line in text.splitlines() if line.startswith("loss "))
    assert "?" not in curve and re.search(r"[_.\-=+*#@]{10}", curve)


def test_a_record_piped_to_stdin():
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run([sys.executable, "-m", "fitdoc.cli", "diagnose", "-", "--format", "json"],
                         input=(DATA / "cases" / "overfit.csv").read_bytes(), capture_output=True, env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["source"] == "<stdin>" and report["format"] == "keras-csv" and report["best_epoch"] == 7
