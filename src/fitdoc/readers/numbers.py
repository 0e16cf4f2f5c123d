"""Numbers as training logs spell them: ``6.3949e-04``, ``nan``, ``NaN``, ``inf``,
``-inf``, ``NA``, empty cells, numbers quoted as strings."""

from __future__ import annotations

_MISSING = {"", "na", "n/a", "none", "null", "-"}
NUMBER_PATTERN = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|NaN|NAN|inf|Inf|INF|infinity|Infinity)"


def parse_number(text) -> float | None:
    """A float, NaN/Inf included; ``None`` for a missing cell. Raises ValueError otherwise."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip().strip("'\"")
    if s.lower() in _MISSING:
        return None
    return float(s)  # float() accepts nan, inf, infinity in any case
