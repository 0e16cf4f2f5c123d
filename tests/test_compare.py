import json

from click.testing import CliRunner

from fitdoc.workflow import compare
from fitdoc.workflow.commands import compare_cmd
from fitdoc.workflow.compare import best_value, final_gap


def test_compare_two_formats_ranks_and_tabulates(fixtures, cases):
    sources = [fixtures / "keras3_fit_verbose2.txt", fixtures / "keras3_csvlogger.csv", cases / "diverge.csv"]
    c = compare(sources, lang="en")
    rows = c.rows()
    assert c.metric == "val_loss"
    assert {r["format"] for r in rows} >= {"keras-text", "keras-csv"}
    values = [r["value"] for r in rows]
    assert values == sorted(values)  # val_loss: lower ranks first
    text_run = next(r for r in rows if r["format"] == "keras-text")
    assert text_run["best_epoch"] == 6  # "Restoring model weights from the end of the best epoch: 6."
    assert abs(text_run["final_gap"] - (0.4355 - 0.2475)) < 0.01
    diverge = next(r for r in rows if r["label"] == "diverge")
    assert {"code": "FD202", "kind": "divergence"} in diverge["findings"]
    md = c.to_markdown()
    assert "| keras3_fit_verbose2 |" in md and "Best val_loss" in md


def test_best_value_falls_back_to_best_evaluation():
    d = {"epochs": [1, 2, 3], "series": {"loss": [3.0, 2.0, 1.0], "val_loss": [2.0, 1.5, None]}, "best_epoch": None}
    assert best_value(d, "val_loss") == 1.5
    assert final_gap(d) == -0.5
    assert best_value({**d, "best_epoch": 1}, "val_loss") == 2.0


def test_compare_cli_json_plot_and_chinese(fixtures, tmp_path):
    png = tmp_path / "cmp.png"
    runner = CliRunner()
    args = [str(fixtures / "keras3_fit_verbose2.txt"), str(fixtures / "keras3_history.json")]
    result = runner.invoke(compare_cmd, [*args, "--format", "json", "--plot", str(png), "--lang", "en"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["rank"] for r in data["runs"]] == [1, 2]
    assert data["runs"][0]["report"]["series"]["val_loss"]
    assert png.stat().st_size > 10_000
    zh = runner.invoke(compare_cmd, [*args, "--format", "markdown", "--lang", "zh"])
    assert zh.exit_code == 0 and "最佳轮次" in zh.stdout


def _compare_text(columns: int, *extra: str) -> list[str]:
    import os
    import subprocess
    import sys

    from conftest import DATA, ROOT

    paths = [DATA / "cases" / "overfit.csv", DATA / "cases" / "nan.csv", ROOT / "examples" / "keras2_loss_rises_again.txt"]
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run([sys.executable, "-m", "fitdoc.cli", "compare", *map(str, paths), *extra],
                         capture_output=True, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.decode().splitlines()


def test_compare_fits_80_columns_with_every_number_whole():
    lines = _compare_text(80, "--lang", "en")
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    for number in ("0.5821", "0.752", "1.121", "0.5317", "-0.0067", "1.136", "0.6071", "0.09094", "2.098"):
        assert any(number in line.split() for line in lines), number
    assert "FD101 Overfitting" in text and "FD201 NaN loss" in text  # findings by title


def test_compare_narrower_still_keeps_numbers_whole_in_chinese():
    from fitdoc.output.text import cell_len

    for columns in (60, 40):
        lines = _compare_text(columns, "--lang", "zh")
        assert max(cell_len(line) for line in lines) <= columns
        words = " ".join(lines).split()
        assert "0.5821" in words and "-0.0067" in words and "0.09094" in words
