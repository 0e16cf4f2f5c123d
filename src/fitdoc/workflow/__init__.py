"""Workflows over several runs: compare records, sweep model variants."""

from .compare import Comparison, compare

__all__ = ["Comparison", "compare"]
