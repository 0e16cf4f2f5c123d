"""Command-line options shared by the ``fitdoc`` commands."""

from __future__ import annotations

import click

from . import advice

LANG = click.option("--lang", type=click.Choice(advice.LANGS), default=None, help="Output language (default: from the locale).")
MONITOR = click.option("--monitor", type=str, default=None, help="Metric that picks the best epoch (default val_loss).")
CONFIG = click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
                      help="pyproject.toml to read [tool.fitdoc] from.")
FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
