"""Command-line entry points ``fitdoc compare``, ``fitdoc report`` and ``fitdoc sweep``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .. import atomic
from ..commandline import CONFIG, FORMAT, LANG, MONITOR, console, expand_paths, load_config, needs_extra, plotted, resolve_lang, writable


def _comparison(paths, monitor, config_path, lang):
    from .compare import compare

    return compare(expand_paths(paths), lang=lang, config=load_config(config_path), monitor=monitor)


def _show(table, data: dict, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif fmt == "markdown":
        click.echo(table.to_markdown())
    else:
        out = console()
        table.print(out)


@click.command("compare", short_help="Rank runs by their best validation value, side by side.")
@click.argument("paths", nargs=-1, required=True)
@FORMAT
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG with the curves overlaid.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Also write the interactive HTML report.")
@MONITOR
@CONFIG
@LANG
def compare_cmd(paths, fmt, plot_path, html_path, monitor, config_path, lang):
    """Rank the runs at PATHS (any readable records) by their best validation value."""
    for path in (plot_path, html_path):
        if path:
            writable(path)
    comparison = _comparison(paths, monitor, config_path, lang)
    _show(comparison.table(), comparison.to_dict(), fmt)
    if plot_path:
        plotted(comparison.plot(plot_path), comparison.lang)
    if html_path:
        comparison.to_html().save(html_path)
        click.echo(f"wrote {html_path}", err=True)


@click.command("report", short_help="Write one self-contained HTML report for the runs at PATHS.")
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="fitdoc-report.html", show_default=True)
@click.option("--title", type=str, default=None, help="Page title.")
@MONITOR
@CONFIG
@LANG
def report_cmd(paths, output, title, monitor, config_path, lang):
    """Write one self-contained HTML report (interactive curves, findings) for the runs at PATHS."""
    writable(output)
    _comparison(paths, monitor, config_path, lang).to_html(title).save(output)
    click.echo(f"wrote {output}", err=True)


def _work_dir(spec: str, output: str | None, work_dir: str | None) -> Path:
    """``--work-dir``; else SPEC_NAME-sweep beside ``-o``; else under the user's cache folder."""
    if work_dir:
        return Path(work_dir)
    name = f"{Path(spec).stem}-sweep"
    if output:
        return Path(output).resolve().parent / name
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fitdoc" / name


@click.command("sweep", short_help="Train a spec's variants, pick best epochs, retrain and test.")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="HTML report [default: WORK_DIR/report.html].")
@click.option("--work-dir", type=click.Path(file_okay=False), default=None,
              help="Where finished variants are kept; a rerun skips them "
                   "[default: SPEC_NAME-sweep beside -o, else ~/.cache/fitdoc/SPEC_NAME-sweep].")
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="Repeat each variant with seeds 0..N-1.")
@click.option("--match", type=click.Choice(["epochs", "updates"]), default="epochs", show_default=True,
              help="Retrain on train+validation for the best epoch count, or for the same number of updates.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="CPU threads for training [default: OMP_NUM_THREADS, else 1: small models train fastest on one].")
@FORMAT
@LANG
def sweep_cmd(spec, output, work_dir, seeds, match, threads, fmt, lang):
    """Train the variants of SPEC (a .py or .yaml file), pick each one's best epoch, retrain it
    on train+validation for that many epochs and test it."""
    needs_extra("keras", "keras", "fitdoc sweep")
    _set_threads(threads)
    from .. import config as config_mod
    from .sweep import Reporter, sweep

    lang = resolve_lang(lang, config_mod.load())
    if output:
        writable(output)
    work = _work_dir(spec, output, work_dir)
    click.echo(f"fitdoc: work folder {work}", err=True)
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


def _set_threads(threads: int | None) -> None:
    """Small models train fastest on few threads: many threads on a few cores thrash (10x here)."""
    threads = threads or int(os.environ.get("OMP_NUM_THREADS") or 1)
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
    from importlib.util import find_spec

    if find_spec("torch") is not None:
        import torch

        torch.set_num_threads(threads)
