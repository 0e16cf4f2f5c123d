"""Pictures: findings told apart, gaps left open, one style for train and validation."""

import re

import matplotlib
import numpy as np
import pytest

from conftest import DATA, ROOT

import fitdoc
from fitdoc.output import plot
from fitdoc.workflow import compare

EXAMPLE = ROOT / "examples" / "keras2_loss_rises_again.txt"


@pytest.fixture
def svg_text(monkeypatch):
    monkeypatch.setitem(matplotlib.rcParams, "svg.fonttype", "none")  # keep text as text

    def read(path):
        return path.read_text(encoding="utf-8")
    return read


def test_open_gaps_breaks_the_line_where_the_record_skips():
    x, y = plot.open_gaps([1, 2, 3, 65, 66], [1.0, 0.9, 0.8, 0.7, 0.6])
    assert np.isnan(y[3]) and list(x[:3]) == [1, 2, 3] and x[4] == 65


def test_each_finding_has_its_own_legend_entry_and_the_run_is_named(tmp_path, svg_text):
    report = fitdoc.diagnose(EXAMPLE, lang="en")
    out = tmp_path / "run.svg"
    assert plot.plot_run(report, out) == "en"
    text = svg_text(out)
    codes = [f.code for f in report.findings if f.epoch is not None]
    assert len(codes) >= 3
    for finding in report.findings:
        assert f"{finding.code} " in text
    assert "keras2_loss_rises_again.txt" in text and "LR change" in text and "Best epoch: 67" in text
    assert text.count("FD104 (epochs 1-9)") == 1  # the shaded window is labelled once, in one legend
    assert text.count("Loss rises after falling") == 1
    # each finding's marker has its own colour
    colours = {plot.FINDING_STYLES[k][0] for k in range(len(codes))}
    assert len(colours) == len(codes)


def test_nan_epochs_are_labelled(tmp_path, svg_text):
    out = tmp_path / "nan.svg"
    plot.plot_run(fitdoc.diagnose(DATA / "cases" / "nan.csv", lang="en"), out)
    assert "NaN epochs" in svg_text(out)


def test_compare_overlay_uses_the_diagnose_styles_and_leaves_gaps_open(tmp_path, svg_text):
    c = compare([DATA / "cases" / "overfit.csv", EXAMPLE], lang="en")
    out = tmp_path / "cmp.svg"
    c.plot(out)
    text = svg_text(out)
    assert "train" in text and "validation" in text and "Loss" in text
    # the example's val_loss line (dashed) is drawn in two pieces, not across epochs 11-64
    dashed = re.findall(r'<path d="([^"]+)"[^>]*stroke-dasharray', text)
    assert dashed, "validation is dashed"
    assert plot.style("val_loss") == plot.VALIDATION and plot.style("loss") == plot.TRAIN


def test_a_sweep_overlay_colours_by_variant(tmp_path, svg_text):
    datas = [fitdoc.diagnose(DATA / "cases" / "overfit.csv").to_dict() for _ in range(6)]
    out = tmp_path / "sweep.svg"
    plot.overlay(datas, [f"v{i // 3} seed {i % 3}" for i in range(6)], out, groups=["a"] * 3 + ["b"] * 3)
    text = svg_text(out)
    assert ">a<" in text and ">b<" in text and "seed" not in text  # one legend entry per variant
