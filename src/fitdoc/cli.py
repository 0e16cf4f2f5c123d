"""The ``fitdoc`` command line: a thin shell over readers, engine and renderers.

Exit codes: 0 done (no finding at or above ``--fail-on``), 1 findings at or above
``--fail-on``, 2 unreadable input or bad usage (one line on stderr, no traceback).
Plumbing shared by the command modules lives in :mod:`fitdoc.commandline`.
"""

from __future__ import annotations

import sys

import click

from .commandline import CONFIG, FORMAT, LANG, MONITOR, Group, console, expand_paths, load_config, plotted, progress, writable
from .errors import FitdocError


@click.group(cls=Group)
@click.version_option(package_name="fitdoc")
def main() -> None:
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
    """Diagnose the training record(s) at PATHS (files, run directories or globs)."""
    from .engine import SEVERITY_ORDER, diagnose
    from .readers import read_runs

    cfg = load_config(config_path, select, ignore)
    if plot_path:
        writable(plot_path)
    runs = []

    def skipped(exc: FitdocError) -> None:
        click.echo(f"fitdoc: skipped {exc}", err=True)

    for path in expand_paths(paths):
        runs.extend(read_runs(path, reader, on_skip=skipped))
    if plot_path and len(runs) != 1:
        raise FitdocError(plot_path, f"--plot draws one run; {len(runs)} were read")
    reports = []
    with progress(len(runs)) as advance:
        for run in runs:
            reports.append(diagnose(run, cfg, lang, monitor=monitor))
            advance()
    if fmt == "json":
        from .output import jsonout

        click.echo(jsonout.render(reports))
    elif fmt == "markdown":
        from .output import markdown

        click.echo(markdown.render(reports))
    else:
        from .output import terminal

        out = console()
        for report in reports:
            terminal.render(report, out, verbose)
    if plot_path:
        from .output.plot import plot_run

        plotted(plot_run(reports[0], plot_path), reports[0].lang)
    worst = max((SEVERITY_ORDER[f.severity] for r in reports for f in r.findings), default=0)
    if fail_on != "never" and worst >= SEVERITY_ORDER[fail_on]:
        sys.exit(1)


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

    for command in (compare_cmd, report_cmd, sweep_cmd, watch_cmd, repair_cmd):
        main.add_command(command)


_register()

if __name__ == "__main__":
    main()
