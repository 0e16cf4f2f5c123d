"""``--format json``: the report contract, one object per run (a list for several)."""

from __future__ import annotations

import json


def render(reports) -> str:
    data = [r.to_dict() for r in reports]
    return json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2)
