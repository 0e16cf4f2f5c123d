"""Workflows over several runs: compare records, sweep model variants."""

from .compare import Comparison, compare
from .sweep import SweepResult, load_spec, sweep

__all__ = ["Comparison", "SweepResult", "compare", "load_spec", "sweep"]
