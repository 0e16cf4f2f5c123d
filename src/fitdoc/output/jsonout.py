"""``--format json``: the report contract, one object per run (a list for several)."""

from __future__ import annotations

import json


def render_one(report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def join(pieces: list[str]) -> str:
    """The output of the reports rendered by :func:`render_one`: the object of one, or
    the list of several, exactly as ``json.dumps(list, indent=2)`` writes it (a JSON
    text holds no raw newline inside a string, so indenting its lines is safe)."""
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return "[]"
    return "[\n" + ",\n".join("  " + piece.replace("\n", "\n  ") for piece in pieces) + "\n]"


def render(reports) -> str:
    return join([render_one(r) for r in reports])
