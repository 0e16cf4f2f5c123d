"""fitdoc: diagnose a neural-network training run from its record."""

from .errors import FitdocError
from .readers import read, read_runs
from .run import Event, Run, Series

__all__ = ["FitdocError", "Event", "Run", "Series", "read", "read_runs"]
__version__ = "0.1.0"

from .engine import Report, diagnose  # noqa: E402

__all__ += ["Report", "diagnose"]
