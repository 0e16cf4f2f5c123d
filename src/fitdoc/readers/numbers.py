"""Numbers as training logs spell them: ``6.3949e-04``, ``nan``, ``NaN``, ``inf``,
``-inf``, ``NA``, empty cells, numbers quoted as strings; and epoch or step numbers,
which must be whole and in range."""

from __future__ import annotations

import math
import re

MISSING = {"", "na", "n/a", "none", "null", "-"}  # lower case
# One way only to split a digit run (``\d+(?:\.\d*)?``, not ``\d+\.?\d*``): no backtracking
# that grows with the square of a long number's length.
NUMBER_PATTERN = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|NaN|NAN|inf|Inf|INF|infinity|Infinity)"
_PLAIN_DECIMAL = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
MAX_INDEX = 2**53  # epochs and steps above this are not exact as floats: not a real count


def is_number(value) -> bool:
    """An int or a float as JSON or Python gives it; a bool is not a number here."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_number(text) -> float | None:
    """A float, NaN/Inf included; ``None`` for a missing cell. Raises ValueError otherwise.
    An integer too large for a float is +/-inf."""
    if text is None:
        return None
    if is_number(text):
        try:
            return float(text)
        except OverflowError:  # an int beyond 1.8e308
            return math.inf if text > 0 else -math.inf
    s = str(text).strip().strip("'\"")
    if s.lower() in MISSING:
        return None
    return float(s)  # float() accepts nan, inf, infinity in any case, and any number of digits


def plain_number(value) -> float | None:
    """A JSON value as a number: a number, or a string holding a plain decimal number
    (fairseq's ``"loss": "3.180"``); None otherwise (``"100%"``, ``"nan"``, text)."""
    if isinstance(value, str):
        return float(value) if _PLAIN_DECIMAL.fullmatch(value) else None
    return parse_number(value) if is_number(value) else None


def parse_index(text) -> int:
    """A whole epoch or step number within +/-``MAX_INDEX`` (``3``, ``"3"``, ``3.0``,
    ``"1e3"``). Raises ValueError otherwise (NaN, Inf, ``1.5``, ``1e30``, missing)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        number = parse_number(text)
        if number is None or not math.isfinite(number) or not number.is_integer():
            raise ValueError("not a whole number")
        value = int(number)
    if abs(value) > MAX_INDEX:
        raise ValueError("out of range for an epoch or step")
    return value


def index_or_none(text) -> int | None:
    """:func:`parse_index`, or None where the text is not such a number."""
    try:
        return parse_index(text)
    except (TypeError, ValueError):
        return None
