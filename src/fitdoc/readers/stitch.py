"""Stitching of resumed runs: when the record goes back to an epoch it had already
written, the run was resumed from there, so the rows from that epoch on are replaced
by what follows (the last write wins) and a ``resume`` event marks the restart."""

from __future__ import annotations

from ..run import Event


class EpochRows:
    """Collects ``{epoch: {metric: value}}`` rows in the order the record wrote them."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, float]] = {}
        self.events: list[Event] = []
        self._last: int | None = None

    def add(self, epoch: int, row: dict[str, float], *, merge: bool = False) -> None:
        """Record ``row`` for ``epoch``; an epoch at or before the last one is a resume.

        ``merge`` adds keys to the current epoch's row instead (sparse formats that
        write one row per metric).
        """
        if merge and epoch == self._last:
            self.rows[epoch].update(row)
            return
        if self._last is not None and epoch <= self._last:
            self.events.append(
                Event(epoch, "resume", None, f"record goes back from epoch {self._last} to {epoch}; later rows kept")
            )
            for stale in [e for e in self.rows if e >= epoch]:
                del self.rows[stale]  # the attempt that wrote them was abandoned
        self.rows[epoch] = dict(row)
        self._last = epoch

    def __len__(self) -> int:
        return len(self.rows)
