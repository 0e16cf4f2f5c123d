"""The run model: what every reader produces and every rule consumes.

A :class:`Run` holds one training record: the epoch numbers exactly as the record
prints them, one :class:`Series` per metric aligned to those epochs, optional
per-step series kept at full resolution, and the :class:`Event` list (LR changes,
early stopping, restored weights, resumes...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def epoch_value(epoch) -> int | float:
    """An epoch number as the record prints it: an int, or a float for the fractional
    epochs of a Trainer evaluated mid-epoch (``2.07``)."""
    value = float(epoch)
    return int(value) if value.is_integer() else round(value, 6)


def _epoch_array(epochs) -> np.ndarray:
    arr = np.asarray(epochs, dtype=float)
    if np.all(np.mod(arr, 1.0) == 0) and np.all(np.abs(arr) < 2**62):
        return arr.astype(np.int64)
    return arr


@dataclass(frozen=True)
class Event:
    """Something the record says happened at an epoch (record numbering)."""

    epoch: int | None
    type: str  # lr_change, early_stopping, restore_best, terminate_on_nan, checkpoint, resume
    value: float | None = None
    message: str = ""

    def to_dict(self) -> dict:
        finite = self.value is not None and math.isfinite(self.value)
        out = {"epoch": self.epoch, "type": self.type, "value": self.value if finite else None}
        if self.message:
            out["message"] = self.message
        return out


@dataclass
class Series:
    """One metric aligned to :attr:`Run.epochs`.

    ``values`` is a float array; ``present`` marks the epochs where the record wrote a
    value. A present NaN/Inf is a real non-finite value (a NaN loss); an absent one is
    an epoch without that metric (validation every N epochs, a sparse row).
    """

    values: np.ndarray
    present: np.ndarray

    @classmethod
    def from_list(cls, values: list[float | None]) -> Series:
        present = np.array([v is not None for v in values], dtype=bool)
        arr = np.array([np.nan if v is None else v for v in values], dtype=float)
        return cls(arr, present)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def finite(self) -> np.ndarray:
        """Mask of evaluations holding a finite number."""
        return self.present & np.isfinite(self.values)

    @property
    def nonfinite(self) -> np.ndarray:
        """Mask of evaluations holding NaN or Inf."""
        return self.present & ~np.isfinite(self.values)


@dataclass
class StepSeries:
    """A metric logged at training steps, kept at full resolution; ``epochs`` gives
    the record's epoch of each step when the record says it."""

    steps: np.ndarray
    values: np.ndarray
    epochs: np.ndarray | None = None


@dataclass
class Run:
    """One training record, independent of the format it was read from."""

    epochs: np.ndarray  # ints, or floats when the record prints fractional epochs
    series: dict[str, Series]
    events: list[Event] = field(default_factory=list)
    source: str = ""
    format: str = ""
    planned_epochs: int | None = None  # "Epoch 3/20" -> 20
    step_series: dict[str, StepSeries] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # reader remarks shown to the user
    info: dict = field(default_factory=dict)  # e.g. train/val sample counts

    def __post_init__(self) -> None:
        self.epochs = _epoch_array(self.epochs)
        for name, s in self.series.items():
            if len(s) != len(self.epochs):
                raise ValueError(f"series {name!r} has {len(s)} values for {len(self.epochs)} epochs")

    def __len__(self) -> int:
        return len(self.epochs)

    @property
    def metrics(self) -> list[str]:
        return list(self.series)

    def has(self, name: str) -> bool:
        return name in self.series and bool(self.series[name].present.any())

    def get(self, name: str) -> Series:
        """The series for ``name`` (canonical or original spelling)."""
        from .errors import MissingMetric
        from .names import canonical

        key = name if name in self.series else canonical(name)
        if key not in self.series:
            available = ", ".join(sorted(self.series)) or "none"
            raise MissingMetric(self.source, f"metric {name!r} is not in this record; available: {available}")
        return self.series[key]

    def evaluated(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of the evaluations where ``name`` was written, NaN included."""
        s = self.get(name)
        return self.epochs[s.present], s.values[s.present]

    def events_of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.type == kind]


def build_run(
    rows: dict[int | float, dict[str, float]],
    *,
    source: str,
    format: str,
    events: list[Event] | None = None,
    **extra,
) -> Run:
    """Make a :class:`Run` from ``{epoch: {metric: value}}`` rows (any order).

    Metric names are mapped to canonical names; rows are sorted by epoch.
    """
    from .names import canonicalize_keys

    epochs = sorted(rows)
    per_epoch = [canonicalize_keys(rows[e]) for e in epochs]
    names: list[str] = []
    for row in per_epoch:
        names.extend(k for k in row if k not in names)
    series = {n: Series.from_list([row.get(n) for row in per_epoch]) for n in names}
    return Run(np.array(epochs, dtype=float), series, events or [], source=source, format=format, **extra)
