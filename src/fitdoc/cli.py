"""The ``fitdoc`` command line: a thin shell over readers, engine and renderers.

Exit codes: 0 done (no finding at or above ``--fail-on``), 1 findings at or above
``--fail-on``, 2 unreadable input or bad usage (one line on stderr, no traceback).
"""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path

import click

from . import advice
from .errors import FitdocError
from .options import CONFIG, FORMAT, LANG, MONITOR

# numpy, the readers, the rules and the engine load inside the commands that use them:
# ``fitdoc --help`` starts in a tenth of a second


def _safe_streams() -> None:
    """Never crash on a console that cannot encode a character (GBK, a pipe)."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def _console(stderr: bool = False):
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False)


def _fail(message: str) -> None:
    click.echo(f"fitdoc: error: {message}", err=True)
    sys.exit(2)


class _Group(click.Group):
    def invoke(self, ctx):
        _safe_streams()
        try:
            return super().invoke(ctx)
        except FitdocError as exc:
            _fail(str(exc))


@click.group(cls=_Group)
@click.version_option(package_name="fitdoc")
def main() -> None:
    """Diagnose neural-network training runs from their logs."""




def _paths(patterns: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for p in patterns:
        if any(ch in p for ch in "*?[") and not Path(p).exists():
            matches = sorted(str(m) for m in Path().glob(p))
            if not matches:
                raise FitdocError(p, "no file matches this pattern")
            out.extend(matches)
        else:
            out.append(p)
    return out


@main.command("diagnose")
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
    """Diagnose the training record(s) at PATHS (files, run directories or globs)."""
    from . import config as config_mod
    from .engine import SEVERITY_ORDER, diagnose
    from .readers import empty_folder, folder_records

    cfg = config_mod.load(Path(config_path) if config_path else None)
    cfg.select = list(select) or cfg.select
    cfg.ignore = list(ignore) + cfg.ignore
    targets = []  # (record path, the folder it was found in or None)
    for path in _paths(paths):
        inside = None if reader else folder_records(path)
        targets += [(path, None)] if inside is None else [(child, path) for child in inside] or [(path, None)]
    reports, found_in = [], {}
    work = partial(_read_and_diagnose, reader=reader, diagnose_one=partial(diagnose, config=cfg, lang=lang, monitor=monitor))
    with _progress(len(targets)) as advance:
        for (path, folder), (found, skips) in zip(targets, _mapped(work, targets)):
            for exc in skips:
                click.echo(f"fitdoc: skipped {exc}", err=True)
            reports += found
            if folder is not None:
                found_in[folder] = found_in.get(folder, 0) + len(found)
            advance()
    for folder, count in found_in.items():
        if not count:
            raise empty_folder(Path(folder))
    if plot_path and len(reports) != 1:
        raise FitdocError(plot_path, f"--plot draws one run; {len(reports)} were read")
    if fmt == "json":
        from .output import jsonout

        click.echo(jsonout.render(reports))
    elif fmt == "markdown":
        from .output import markdown

        click.echo(markdown.render(reports))
    else:
        from .output import terminal

        console = _console()
        for report in reports:
            terminal.render(report, console, verbose)
    if plot_path:
        from .output.plot import plot_run

        used = plot_run(reports[0], plot_path)
        if used != reports[0].lang:
            click.echo("fitdoc: note: no CJK font installed (apt-get install fonts-wqy-microhei); plot labels in English", err=True)
    worst = max((SEVERITY_ORDER[f.severity] for r in reports for f in r.findings), default=0)
    if fail_on != "never" and worst >= SEVERITY_ORDER[fail_on]:
        sys.exit(1)


POOL_MIN_RUNS = 16  # fewer records are read in this process: starting workers costs more


def _read_and_diagnose(target, reader, diagnose_one) -> tuple[list, list[FitdocError]]:
    """(reports, skipped errors) of one record; only a record inside a folder is skipped."""
    from .readers import read_runs

    path, folder = target
    skips: list[FitdocError] = []
    try:
        runs = read_runs(path, reader, on_skip=skips.append)
    except FitdocError as exc:
        if folder is None:
            raise
        return [], [exc]
    return [diagnose_one(run) for run in runs], skips


def _mapped(work, items: list):
    """``work`` of each item, in order; many items are spread over one process per core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if len(items) < POOL_MIN_RUNS or cores < 2:
        yield from map(work, items)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(cores, len(items) // POOL_MIN_RUNS + 1)) as pool:
        yield from pool.map(work, items, chunksize=max(1, len(items) // (8 * cores)))


class _progress:
    """A progress bar when many runs are diagnosed and stderr is a terminal; nothing otherwise."""

    def __init__(self, total: int):
        self.shown = total >= 5 and sys.stderr.isatty()

    def __enter__(self):
        if not self.shown:
            return lambda: None
        from rich.progress import Progress

        self._bar = Progress(console=_console(stderr=True), transient=True)
        self._bar.start()
        task = self._bar.add_task("diagnosing", total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc):
        if self.shown:
            self._bar.stop()


@main.command("explain")
@click.argument("code")
@LANG
def explain_cmd(code, lang):
    """Print the documentation page of rule CODE (e.g. FD101)."""
    from .rules import all_rules

    rules = all_rules()
    cls = rules.get(code.upper())
    if cls is None:
        raise FitdocError(code, f"no such rule; known: {', '.join(rules)}")
    from .output.rulepages import page

    click.echo(page(cls, lang or advice.default_lang()))


@main.command("rules")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print every rule's page as Markdown (docs/rules*.md).")
@LANG
def rules_cmd(as_markdown, lang):
    """List the rules with their codes and names."""
    from .rules import all_rules

    lang = lang or advice.default_lang()
    if as_markdown:
        from .output.rulepages import markdown

        click.echo(markdown(lang), nl=False)
        return
    for code, cls in all_rules().items():
        click.echo(f"{code}  {cls.name:<28} {cls.severity:<8} {advice.kind_title(cls.kind, lang)}")


def _register_workflow() -> None:
    from .workflow.commands import compare_cmd, report_cmd, sweep_cmd

    for command in (compare_cmd, report_cmd, sweep_cmd):
        main.add_command(command)


_register_workflow()

if __name__ == "__main__":
    main()
