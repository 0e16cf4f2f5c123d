"""fitdoc: diagnose a neural-network training run from its record."""

from .errors import FitdocError

__all__ = ["FitdocError", "Event", "Run", "Series", "read", "read_runs", "Report", "diagnose"]
__version__ = "0.1.0"

# The rest loads on first use (``fitdoc.diagnose``, ``from fitdoc import read``): the
# command line imports this package and starts without numpy or the engine.
_HOMES = {"Event": "run", "Run": "run", "Series": "run", "read": "readers", "read_runs": "readers",
          "Report": "engine", "diagnose": "engine"}


def __getattr__(name: str):
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'fitdoc' has no attribute {name!r}")
