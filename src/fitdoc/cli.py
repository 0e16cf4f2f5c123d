"""The ``fitdoc`` command line: a thin shell over readers, engine and renderers.

Exit codes: 0 done (no finding at or above ``--fail-on``), 1 findings at or above
``--fail-on``, 2 unreadable input or bad usage (one line on stderr, no traceback),
3 an unexpected internal error (one line; ``fitdoc --debug ...`` shows the traceback).
Plumbing shared by the command modules lives in :mod:`fitdoc.commandline`.
"""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path
from typing import NamedTuple

# fitdoc multiplies no large matrices: one OpenBLAS thread spares every command the
# threads OpenBLAS starts per core when numpy is imported (a third of the CPU time of
# a short diagnosis). Torch, for `fitdoc repair`, keeps its own thread settings.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click  # noqa: E402

from .commandline import CONFIG, FORMAT, LANG, MONITOR, Group, console, expand_paths, load_config, plotted, progress, writable
from .errors import FitdocError, InternalError, printable


@click.group(cls=Group)
@click.version_option(package_name="fitdoc")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error (exit code 3).")
def main(debug) -> None:
    """Diagnose neural-network training runs from their logs."""


@main.command("diagnose", short_help="Diagnose training records: files, run folders or globs.")
@click.argument("paths", nargs=-1, required=True)
@FORMAT
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG of the curves (one run).")
@click.option("--reader", type=str, default=None, help="Force a reader instead of detecting the format.")
@MONITOR
@click.option("--fail-on", type=click.Choice(["warning", "error", "never"]), default="never", show_default=True,
              help="Exit 1 when a finding of this severity or worse is found.")
@click.option("--select", multiple=True, help="Run only rules whose code starts with this (repeatable).")
@click.option("--ignore", multiple=True, help="Skip rules whose code starts with this (repeatable).")
@CONFIG
@click.option("-v", "--verbose", is_flag=True, help="Show code snippets.")
@LANG
def diagnose_cmd(paths, fmt, plot_path, reader, monitor, fail_on, select, ignore, config_path, verbose, lang):
    """Diagnose the training record(s) at PATHS (files, run directories or globs; - reads stdin)."""
    from .engine import SEVERITY_ORDER, diagnose
    from .readers import empty_folder, folder_records

    cfg = load_config(config_path, select, ignore)
    if plot_path:
        writable(plot_path)
    targets = []  # (record path, the folder it was found in or None)
    for path in expand_paths(paths):
        inside = None if reader else folder_records(path)
        targets += [(path, None)] if not inside else [(child, path) for child in inside]
    reports, pieces, worst, found_in = [], [], 0, {}
    work = partial(_read_and_diagnose, reader=reader, diagnose_one=partial(diagnose, config=cfg, lang=lang, monitor=monitor),
                   fmt=fmt, verbose=verbose, keep=bool(plot_path))
    with progress(len(targets)) as advance:
        for (path, folder), done in zip(targets, _mapped(work, targets)):
            for exc in done.skips:
                click.echo(f"fitdoc: skipped {printable(str(exc))}", err=True)
            reports += done.reports
            pieces += done.pieces
            worst = max(worst, done.worst)
            if folder is not None:
                found_in[folder] = found_in.get(folder, 0) + len(done.pieces)
            advance()
    for folder, count in found_in.items():
        if not count:
            raise empty_folder(Path(folder))
    if plot_path and len(pieces) != 1:
        raise FitdocError(plot_path, f"--plot draws one run; {len(pieces)} were read")
    if fmt == "json":
        from .output import jsonout

        click.echo(jsonout.join(pieces))
    elif fmt == "markdown":
        from .output import markdown

        click.echo(markdown.join(pieces))
    else:
        out = console()
        out.file.write("".join(pieces))
        out.file.flush()
    if plot_path:
        from .output.plot import plot_run

        plotted(plot_run(reports[0], plot_path), reports[0].lang)
    if fail_on != "never" and worst >= SEVERITY_ORDER[fail_on]:
        sys.exit(1)


POOL_MIN_RUNS = 16  # fewer records are read in this process: starting workers costs more


class Diagnosed(NamedTuple):
    """What a worker sends back for one record: small, since pickling is the pool's cost."""

    reports: list  # kept only when the parent needs them (--plot)
    pieces: list[str]  # each report rendered in the output format
    skips: list[FitdocError]
    worst: int  # the worst finding's SEVERITY_ORDER, 0 for none


def _read_and_diagnose(target, reader, diagnose_one, fmt: str, verbose: bool, keep: bool) -> Diagnosed:
    """One record read, diagnosed and rendered here, in the worker: for small runs the
    rendering is most of the work. Only a record inside a folder is skipped."""
    path, folder = target
    skips: list[FitdocError] = []
    try:
        from .readers import read_runs

        runs = read_runs(path, reader, on_skip=skips.append)
    except FitdocError as exc:
        if folder is None:
            raise
        return Diagnosed([], [], [exc], 0)
    reports = []
    for run in runs:
        try:
            reports.append(diagnose_one(run))
        except FitdocError:
            raise
        except Exception as exc:
            raise InternalError(run.source, exc) from exc
    worst = max((r.worst for r in reports), default=0)
    return Diagnosed(reports if keep else [], [_rendered(r, fmt, verbose) for r in reports], skips, worst)


def _rendered(report, fmt: str, verbose: bool) -> str:
    if fmt == "json":
        from .output import jsonout

        return jsonout.render_one(report)
    if fmt == "markdown":
        from .output import markdown

        return markdown.render_one(report)
    from .output import terminal

    out = console()
    with out.capture() as captured:
        terminal.render(report, out, verbose)
    return captured.get()


def _mapped(work, items: list):
    """``work`` of each item, in order; many items are spread over one process per core.
    The first item is done here before the workers start, so that forked workers
    inherit the modules and catalogues it loaded instead of each loading them again."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if len(items) < POOL_MIN_RUNS or cores < 2:
        yield from map(work, items)
        return
    from concurrent.futures import ProcessPoolExecutor

    yield work(items[0])
    rest = items[1:]
    with ProcessPoolExecutor(min(cores, len(rest) // POOL_MIN_RUNS + 1)) as pool:
        yield from pool.map(work, rest, chunksize=max(1, len(rest) // (8 * cores)))


@main.command("explain", short_help="Print the page of one rule, by code or name (FD101, overfitting).")
@click.argument("code")
@LANG
def explain_cmd(code, lang):
    """Print the documentation page of the rule CODE, given by code (FD101) or name (overfitting)."""
    from .commandline import resolve_lang
    from .output.rulepages import find_rule, page, styled

    out = console()
    out.print(styled(page(find_rule(code), resolve_lang(lang), min(out.width, 100))), no_wrap=True, crop=False)


@main.command("rules", short_help="List the rules: code, name, default severity, title.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print every rule's page as Markdown (docs/rules*.md).")
@LANG
def rules_cmd(as_markdown, lang):
    """List the rules with their codes, names, default severities and titles."""
    from .commandline import resolve_lang
    from .output import rulepages

    lang = resolve_lang(lang)
    if as_markdown:
        click.echo(rulepages.markdown(lang), nl=False)
        return
    console().print(rulepages.listing(lang))


@main.command("formats")
def formats_cmd():
    """List the shapes of training record fitdoc reads, with an example of each."""
    from .readers.shapes import SHAPES

    for shape in SHAPES:
        click.echo(f"{shape.name} [{shape.reader}]\n    {shape.example}")


def _register() -> None:
    from .watch import watch_cmd
    from .workflow.commands import compare_cmd, report_cmd, sweep_cmd
    from .workflow.repairing import repair_cmd
    from .workflow.triage_command import triage_cmd

    for command in (compare_cmd, report_cmd, sweep_cmd, triage_cmd, watch_cmd, repair_cmd):
        main.add_command(command)


_register()

if __name__ == "__main__":
    main()
