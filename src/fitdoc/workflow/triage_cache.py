"""The per-run cache of ``fitdoc triage``: one SQLite file mapping a unit's key (source
kind, locator, run id, and the options that shape a row) to the stamp it had when it
was diagnosed and its rows. A unit whose stamp is unchanged is neither fetched nor
diagnosed again; a unit without a stamp (a running trial) is never cached."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path


def default_path() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fitdoc" / "triage.sqlite"


class Cache:
    def __init__(self, path: str | Path, fingerprint: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fingerprint = fingerprint
        self.db = sqlite3.connect(self.path)
        self.db.execute("CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, stamp TEXT, rows TEXT)")

    def _key(self, key: str) -> str:
        return f"{self.fingerprint}|{key}"

    def lookup(self, units) -> dict[str, list[dict]]:
        """Rows of the units whose stamp matches the cached one, by unit key."""
        wanted = {self._key(u.key): u for u in units if u.stamp is not None}
        found: dict[str, list[dict]] = {}
        names = list(wanted)
        for i in range(0, len(names), 500):
            chunk = names[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for key, stamp, rows in self.db.execute(f"SELECT key, stamp, rows FROM rows WHERE key IN ({marks})", chunk):
                unit = wanted[key]
                if stamp == unit.stamp:
                    found[unit.key] = json.loads(rows)
        return found

    def store(self, outcomes) -> None:
        self.db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?)",
                            [(self._key(o.key), o.stamp, json.dumps(o.rows, default=str)) for o in outcomes
                             if o.stamp is not None])
        self.db.commit()

    def close(self) -> None:
        self.db.close()
