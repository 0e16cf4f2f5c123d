"""Plumbing shared by every ``fitdoc`` command module: the console, error exits, path and
glob expansion, output-path checks and the options several commands take.

Command modules (``cli``, ``workflow.commands``, ``watch``) import from here and never
from one another. Heavy libraries (rich, the engine) are imported inside the functions."""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

import click

from .advice import LANGS
from .errors import FitdocError, InternalError, printable

LANG = click.option("--lang", type=click.Choice(LANGS), default=None, help="Output language (default: from the locale).")
MONITOR = click.option("--monitor", type=str, default=None, help="Metric that picks the best epoch (default val_loss).")
CONFIG = click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
                      help="pyproject.toml to read [tool.fitdoc] from.")
FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)

NO_CJK_FONT = "no CJK font installed (apt-get install fonts-wqy-microhei); plot labels in English"


def safe_streams() -> None:
    """Never crash on a console that cannot encode a character (GBK, a pipe)."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def console(stderr: bool = False):
    """A rich console that honours NO_COLOR and never soft-wraps (tables fit themselves)."""
    from rich.console import Console

    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=False)


def fail(message: str, code: int = 2):
    """One line on stderr (control characters escaped), then exit (2: bad input or usage)."""
    click.echo(f"fitdoc: error: {printable(message)}", err=True)
    sys.exit(code)


def note(message: str) -> None:
    click.echo(f"fitdoc: note: {message}", err=True)


class Group(click.Group):
    """The ``fitdoc`` group: safe streams; a :class:`FitdocError` becomes one line, exit 2;
    any other error one line naming the file where known, exit 3 (``--debug``: raised)."""

    def invoke(self, ctx):
        safe_streams()
        try:
            return super().invoke(ctx)
        except FitdocError as exc:
            fail(str(exc))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            internal = exc if isinstance(exc, InternalError) else InternalError("fitdoc", exc)
            fail(f"internal error: {internal} (a bug in fitdoc, or in code a sweep spec runs; "
                 "'fitdoc --debug ...' shows the traceback)", 3)


def expand_paths(patterns) -> list[str]:
    """Each argument as given, or the sorted files a glob matches (relative or absolute, ``**`` too)."""
    out: list[str] = []
    for p in patterns:
        if any(ch in p for ch in "*?[") and not Path(p).exists():
            matches = sorted(glob.glob(os.path.expanduser(p), recursive=True))
            if not matches:
                raise FitdocError(p, "no file matches this pattern")
            out.extend(matches)
        else:
            out.append(p)
    return out


def writable(path) -> Path:
    """``path`` as a :class:`Path` once its folder exists; else a one-line error before any work."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FitdocError(str(path), f"folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise FitdocError(str(path), f"folder {folder} is not writable")
    return path


def needs_extra(module: str, extra: str, command: str) -> None:
    """A one-line error naming the extra to install when ``module`` cannot be imported."""
    from importlib.util import find_spec

    if find_spec(module) is None:
        raise FitdocError(command, f"needs {module}: pip install 'fitdoc[{extra}]'")


def load_config(config_path, select=(), ignore=()):
    """``[tool.fitdoc]`` from ``--config`` or the nearest pyproject.toml, with --select/--ignore applied."""
    from . import config as config_mod

    cfg = config_mod.load(Path(config_path) if config_path else None)
    cfg.select = list(select) or cfg.select
    cfg.ignore = list(ignore) + cfg.ignore
    return cfg


def resolve_lang(lang, cfg=None) -> str:
    """``--lang``, else the configured language, else the locale's."""
    from . import advice

    return lang or (cfg.lang if cfg is not None else None) or advice.default_lang()


def plotted(used_lang: str, wanted_lang: str) -> None:
    """Say so when a plot fell back to English labels for want of a CJK font."""
    if used_lang != wanted_lang:
        note(NO_CJK_FONT)


class progress:
    """A progress bar when many runs are diagnosed and stderr is a terminal; nothing otherwise."""

    def __init__(self, total: int):
        self.total = total
        self.shown = total >= 5 and sys.stderr.isatty()

    def __enter__(self):
        if not self.shown:
            return lambda: None
        from rich.progress import Progress

        self._bar = Progress(console=console(stderr=True), transient=True)
        self._bar.start()
        task = self._bar.add_task("diagnosing", total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc):
        if self.shown:
            self._bar.stop()
