"""Command-line entry point ``fitdoc triage``."""

from __future__ import annotations

import os

import click

from ..commandline import MONITOR, console, expand_paths, writable

FORMATS = ("text", "markdown", "jsonl")


@click.command("triage", short_help="Rank a sweep's runs, count findings, find their hyperparameters.")
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--html", "html_path", type=click.Path(dir_okay=False),
              help="Also write the HTML report: the table, the sections, and the curves of the best run and of one run per finding.")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True, help="Runs shown in the table (0: all).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (or Ray tasks at once) [default: the CPU count].")
@click.option("--engine", type=click.Choice(["process", "ray"]), default="process", show_default=True,
              help="A process pool on this machine, or Ray tasks (fitdoc[ray]).")
@click.option("--ray-address", default=None, help="Ray cluster to join [default: RAY_ADDRESS, else a local one].")
@click.option("--cache", "cache_path", type=click.Path(dir_okay=False), default=None,
              help="Per-run cache [default: ~/.cache/fitdoc/triage.sqlite].")
@click.option("--no-cache", is_flag=True, help="Fetch and diagnose every run again, and keep nothing.")
@MONITOR
def triage_cmd(sources, fmt, html_path, top, jobs, engine, ray_address, cache_path, no_cache, monitor):
    """Diagnose every run of SOURCES — folders or globs of records, an MLflow store
    (mlruns/, mlflow.db, mlflow://HOST:PORT/EXPERIMENT/), an Optuna storage URL
    (sqlite:///study.db), a Ray Tune experiment or lightning_logs/ — rank them by
    their best-epoch value and name the hyperparameters that go with each finding."""
    from .. import sources as sources_mod
    from ..commandline import progress
    from . import engines
    from .triage import Options, Triage, example_reports
    from .triage_cache import Cache, default_path

    if html_path:
        writable(html_path)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    units = [u for spec in expand_paths(sources) for u in sources_mod.units(spec)]
    options = Options(monitor=monitor)
    cache = None if no_cache else Cache(cache_path or default_path(), options.fingerprint)
    with progress(len(units)) as advance:
        def advance_by(n: int) -> None:
            for _ in range(n):
                advance()

        rows, stats = engines.run(units, options, jobs=jobs or cores, engine=engine, cache=cache,
                                  on_progress=advance_by, **({"address": ray_address} if engine == "ray" else {}))
    if cache is not None:
        cache.close()
    result = Triage(rows, ", ".join(sources), stats)
    if fmt == "jsonl":
        click.echo(result.jsonl(), nl=False)
    elif fmt == "markdown":
        click.echo(result.to_markdown(top or None))
    else:
        result.print(console(), top or None)
    if html_path:
        reports, labels = example_reports(result, units, options)
        result.to_html(reports, labels, top or None).save(html_path)
        click.echo(f"wrote {html_path}", err=True)
    click.echo(f"fitdoc: {result.timing()}", err=True)

