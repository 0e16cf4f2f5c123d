"""Command-line entry points ``fitdoc compare``, ``fitdoc report`` and ``fitdoc sweep``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import advice, atomic
from .. import config as config_mod

from ..options import CONFIG, FORMAT, LANG, MONITOR


def _comparison(paths, monitor, config_path, lang):
    from ..cli import _paths
    from .compare import compare

    cfg = config_mod.load(Path(config_path) if config_path else None)
    return compare(_paths(paths), lang=lang, config=cfg, monitor=monitor)


def _show(table, data: dict, fmt: str) -> None:
    from ..cli import _console

    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif fmt == "markdown":
        click.echo(table.to_markdown())
    else:
        _console().print(table.to_rich())


@click.command("compare")
@click.argument("paths", nargs=-1, required=True)
@FORMAT
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG with the curves overlaid.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Also write the interactive HTML report.")
@MONITOR
@CONFIG
@LANG
def compare_cmd(paths, fmt, plot_path, html_path, monitor, config_path, lang):
    """Rank the runs at PATHS (any readable records) by their best validation value."""
    comparison = _comparison(paths, monitor, config_path, lang)
    _show(comparison.table(), comparison.to_dict(), fmt)
    if plot_path and comparison.plot(plot_path) != comparison.lang:
        click.echo("fitdoc: note: no CJK font installed (apt-get install fonts-wqy-microhei); plot labels in English", err=True)
    if html_path:
        comparison.to_html().save(html_path)
        click.echo(f"wrote {html_path}", err=True)


@click.command("report")
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="fitdoc-report.html", show_default=True)
@click.option("--title", type=str, default=None, help="Page title.")
@MONITOR
@CONFIG
@LANG
def report_cmd(paths, output, title, monitor, config_path, lang):
    """Write one self-contained HTML report (interactive curves, findings) for the runs at PATHS."""
    _comparison(paths, monitor, config_path, lang).to_html(title).save(output)
    click.echo(f"wrote {output}", err=True)


@click.command("sweep")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="HTML report [default: WORK_DIR/report.html].")
@click.option("--work-dir", type=click.Path(file_okay=False), default=None,
              help="Where finished variants are kept; a rerun skips them [default: SPEC_NAME-sweep].")
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="Repeat each variant with seeds 0..N-1.")
@click.option("--match", type=click.Choice(["epochs", "updates"]), default="epochs", show_default=True,
              help="Retrain on train+validation for the best epoch count, or for the same number of updates.")
@FORMAT
@LANG
def sweep_cmd(spec, output, work_dir, seeds, match, fmt, lang):
    """Train the variants of SPEC (a .py or .yaml file), pick each one's best epoch, retrain it
    on train+validation for that many epochs and test it."""
    from .sweep import Reporter, sweep

    lang = lang or config_mod.load().lang or advice.default_lang()
    work = Path(work_dir or f"{Path(spec).stem}-sweep")
    try:
        result = sweep(spec, work, seeds=seeds, match=match, lang=lang, reporter=Reporter())
    except KeyboardInterrupt:
        click.echo(f"\nfitdoc: interrupted; finished variants are kept in {work}; run the same command to resume", err=True)
        sys.exit(130)
    table = result.table()
    atomic.write_text(work / "results.md", table.to_markdown())
    atomic.write_text(work / "results.json", json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    report = result.to_html().save(output or work / "report.html")
    _show(table, result.to_dict(), fmt)
    click.echo(f"wrote {report}, {work / 'results.md'}, {work / 'results.json'}", err=True)
