"""The rule catalogue. Codes are stable: a code is never reused for another check.

FD1xx fit (train vs validation), FD2xx stability, FD3xx data and wiring,
FD4xx pre-flight checks and FD5xx runtime probes (used by the training callbacks).
"""

from __future__ import annotations

import importlib

from .base import Cause, Finding, Rule

RULE_MODULES = ["fit", "stability", "data", "preflight", "probes"]


def all_rules() -> dict[str, type[Rule]]:
    """``{code: rule class}`` for every registered rule, in code order."""
    found: dict[str, type[Rule]] = {}
    for name in RULE_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__:
                found[obj.code] = obj
    return dict(sorted(found.items()))


__all__ = ["Cause", "Finding", "Rule", "all_rules"]
