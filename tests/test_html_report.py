import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from fitdoc.output import html
from fitdoc.workflow import compare
from fitdoc.workflow.commands import report_cmd

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)"
)

# Put first in <head>: records uncaught errors and console.error calls, then drives the
# first chart (wheel zoom, hover) and writes what it saw into the DOM for --dump-dom.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
window.addEventListener('unhandledrejection', function (e) { window.__errors.push(String(e.reason)); });
var __ce = console.error;
console.error = function () { window.__errors.push(Array.from(arguments).join(' ')); __ce.apply(console, arguments); };
window.addEventListener('load', function () {
  var out = {};
  try {
    var plot = document.querySelector('svg.plot'), r = plot.getBoundingClientRect();
    var labels = function () { return Array.from(plot.querySelectorAll('.grid text')).map(function (t) { return t.textContent; }).join('|'); };
    var before = labels();
    plot.dispatchEvent(new WheelEvent('wheel', {deltaY: -600, clientX: r.left + r.width / 2, clientY: r.top + 100, bubbles: true, cancelable: true}));
    out.zoomed = labels() !== before;
    plot.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width / 2, clientY: r.top + 100, bubbles: true}));
    var tip = plot.parentNode.querySelector('.tooltip');
    out.tooltip = tip.style.display === 'block' ? tip.textContent : '';
  } catch (e) { window.__errors.push('probe: ' + e); }
  out.errors = window.__errors;
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp / 'profile'}", "--window-size=1200,1600", "--virtual-time-budget=5000"]
    return subprocess.run([str(CHROMIUM), *flags, *extra, page.as_uri()], capture_output=True, text=True, timeout=180)


def _report(fixtures, cases, lang):
    return compare([fixtures / "keras3_fit_verbose2.txt", fixtures / "keras3_csvlogger.csv", cases / "diverge.csv"],
                   lang=lang).to_html()


def test_page_is_self_contained(fixtures, cases):
    page = _report(fixtures, cases, "en").html
    assert "<script src" not in page and "<link" not in page and "url(http" not in page
    assert re.findall(r"https?://[^\s'\"]+", page) == ["http://www.w3.org/2000/svg"]  # the SVG namespace only
    data = json.loads(re.search(r'id="fitdoc-data">(.*?)</script>', page, re.S).group(1))
    assert len(data["runs"]) == 3 and data["runs"][0]["groups"][0][0] == "loss"
    assert 'data-code="FD202"' in page  # diverge.csv's divergence, with evidence and fixes
    assert "Evidence" in page and "What to do" in page


def test_notebook_repr_is_an_isolated_iframe(fixtures, cases):
    frame = _report(fixtures, cases, "en")._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "<script>" not in frame and "&lt;script&gt;" in frame


def test_metric_groups():
    assert html.metric_groups(["lr", "val_accuracy", "val_loss", "accuracy", "loss", "auc"]) == [
        ("loss", ["loss", "val_loss"]), ("accuracy", ["accuracy", "val_accuracy"]), ("auc", ["auc"]), ("lr", ["lr"])]


def test_report_command_writes_the_file(fixtures, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(report_cmd, [str(fixtures / "keras3_csvlogger.csv"), "-o", str(out), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert "fitdoc 训练诊断报告" in out.read_text(encoding="utf-8")


def browser_check(page_html: str, tmp_path: Path) -> tuple[str, dict]:
    """Load ``page_html`` in headless Chromium; return the rendered DOM and the probe's findings."""
    page = tmp_path / "report.html"
    page.write_text(page_html.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    dom = _chromium(page, tmp_path, "--dump-dom").stdout
    probe = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert probe, "the page never finished loading"
    return dom, json.loads(probe.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


@needs_chromium
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_in_headless_chromium(fixtures, cases, tmp_path, lang):
    dom, probe = browser_check(_report(fixtures, cases, lang).html, tmp_path)
    assert probe["errors"] == []
    n_charts = int(re.search(r'data-rendered="(\d+)"', dom).group(1))
    assert n_charts >= 3 * 2 + 2  # loss and accuracy per run, plus the overlays
    assert dom.count('class="fd-line raw"') >= 2 * n_charts
    assert dom.count("<circle") > 50  # raw points drawn
    assert 'class="mark mark-best"' in dom and 'class="mark mark-finding"' in dom
    assert 'data-code="FD202"' in dom
    assert probe["zoomed"] and {"en": "epoch", "zh": "轮次"}[lang] in probe["tooltip"]
    shot = tmp_path / "shot.png"
    _chromium(tmp_path / "report.html", tmp_path, f"--screenshot={shot}")
    assert shot.stat().st_size > 20_000



EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "keras2_loss_rises_again.txt"


def test_findings_have_titles_and_causes_sorted_by_confidence():
    page = compare([EXAMPLE], lang="en").to_html().html
    assert "Stuck accuracy" in page and "stuck-accuracy" not in page.split('id="fitdoc-data"')[0]
    assert "20 epochs recorded (1-74)" in page
    for block in re.findall(r"Causes: ([^<]+)</div>", page):
        shares = [int(p) for p in re.findall(r"\((\d+)%\)", block)]
        assert shares == sorted(shares, reverse=True), block
    assert "Learning rate too high (" in page  # the terminal's cause titles


def test_chinese_page_has_chinese_titles_and_no_epoch_word():
    page = compare([EXAMPLE], lang="zh").to_html().html
    visible = page.split('<script type="application/json"')[0]
    assert "准确率卡住不动" in visible and "记录了 20 轮（第 1-74 轮）" in visible
    text = re.sub(r"<[^>]+>", "", visible)
    assert not re.search(r" epoch(?!s=)", text)  # 轮 everywhere; only code says epochs=
    assert "建议：" in text and "证据：" in text and "建议:" not in text  # full-width colons


def test_sweep_overlay_groups_seeds_by_variant(tmp_path):
    from fitdoc import diagnose

    reports = [diagnose(DATA_CASES / "overfit.csv") for _ in range(4)]
    page = html.render(reports, labels=[f"v{i // 2} · seed {i % 2}" for i in range(4)], groups=["a", "a", "b", "b"]).html
    data = json.loads(re.search(r'id="fitdoc-data">(.*?)</script>', page, re.S).group(1).replace("<\\/", "</"))
    assert [r["group"] for r in data["runs"]] == ["a", "a", "b", "b"]


DATA_CASES = Path(__file__).parent / "data" / "cases"


@needs_chromium
def test_markers_are_labelled_and_chinese_cells_wrap_by_phrase(tmp_path):
    page = compare([EXAMPLE, DATA_CASES / "overfit.csv"], lang="zh").to_html().html
    dom, probe = browser_check(page, tmp_path)
    assert probe["errors"] == []
    event_labels = re.findall(r'<g class="mark mark-event">.*?<text[^>]*>([^<]+)</text>', dom, re.S)
    assert event_labels and all(label.strip() for label in event_labels)  # the LR change is labelled
    assert re.search(r'<g class="mark mark-best">.*?<text[^>]*>最佳', dom, re.S)
    assert re.search(r'<g class="mark mark-finding">.*?<text[^>]*>FD\d{3}</text>', dom, re.S)


@needs_chromium
def test_sweep_page_draws_one_legend_entry_per_variant(tmp_path):
    from fitdoc import diagnose

    reports = [diagnose(DATA_CASES / name) for name in ("overfit.csv", "overfit.csv", "plateau.csv", "plateau.csv")]
    page = html.render(reports, labels=[f"v{i // 2} · seed {i % 2}" for i in range(4)], groups=["a", "a", "b", "b"]).html
    dom, probe = browser_check(page, tmp_path)
    assert probe["errors"] == []
    overlay = dom.split('data-charts="overlay"')[1].split('data-charts="0"')[0]
    first_legend = re.search(r'<div class="legend">(.*?)</div>', overlay, re.S).group(1)
    entries = re.findall(r'</span>([^<]+)</span>', first_legend)
    assert entries == ["a · loss", "a · val_loss", "b · loss", "b · val_loss"]
