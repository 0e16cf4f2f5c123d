"""The ``fitdoc`` command line: a thin shell over readers, engine and renderers.

Exit codes: 0 done (no finding at or above ``--fail-on``), 1 findings at or above
``--fail-on``, 2 unreadable input or bad usage (one line on stderr, no traceback),
3 an unexpected internal error (one line; ``fitdoc --debug ...`` shows the traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import advice, config as config_mod
from .engine import SEVERITY_ORDER, diagnose
from .errors import FitdocError, InternalError
from .options import CONFIG, FORMAT, LANG, MONITOR
from .readers import read_runs
from .readers.textio import printable
from .rules import all_rules


def _safe_streams() -> None:
    """Never crash on a console that cannot encode a character (GBK, a pipe)."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def _console(stderr: bool = False):
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"fitdoc: error: {printable(message)}", err=True)
    sys.exit(code)


class _Group(click.Group):
    def invoke(self, ctx):
        _safe_streams()
        try:
            return super().invoke(ctx)
        except FitdocError as exc:
            _fail(str(exc))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            internal = exc if isinstance(exc, InternalError) else InternalError("fitdoc", exc)
            _fail(f"internal error: {internal} (a bug in fitdoc, or in code a sweep spec runs; "
                  "'fitdoc --debug ...' shows the traceback)", 3)


@click.group(cls=_Group)
@click.version_option(package_name="fitdoc")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error (exit code 3).")
def main(debug) -> None:
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
    cfg = config_mod.load(Path(config_path) if config_path else None)
    cfg.select = list(select) or cfg.select
    cfg.ignore = list(ignore) + cfg.ignore
    runs = []
    def skipped(exc: FitdocError) -> None:
        click.echo(f"fitdoc: skipped {exc}", err=True)

    for path in _paths(paths):
        runs.extend(read_runs(path, reader, on_skip=skipped))
    if plot_path and len(runs) != 1:
        raise FitdocError(plot_path, f"--plot draws one run; {len(runs)} were read")
    reports = []
    with _progress(len(runs)) as advance:
        for run in runs:
            try:
                reports.append(diagnose(run, cfg, lang, monitor=monitor))
            except FitdocError:
                raise
            except Exception as exc:
                raise InternalError(run.source, exc) from exc
            advance()
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


class _progress:
    """A progress bar on stderr when many runs are diagnosed; nothing for a few."""

    def __init__(self, total: int):
        self.total = total

    def __enter__(self):
        if self.total < 5:
            return lambda: None
        from rich.progress import Progress

        self._bar = Progress(console=_console(stderr=True), transient=True)
        self._bar.start()
        task = self._bar.add_task("diagnosing", total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc):
        if self.total >= 5:
            self._bar.stop()


@main.command("explain")
@click.argument("code")
@LANG
def explain_cmd(code, lang):
    """Print the documentation page of rule CODE (e.g. FD101)."""
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
