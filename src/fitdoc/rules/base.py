"""What a rule is and what it reports.

A rule is a dataclass whose fields are its thresholds (tunable from
``[tool.fitdoc.rules.FD101]``); ``check`` looks at a :class:`~fitdoc.analysis.Context`
and yields :class:`Finding` objects. The rule's docstring is its documentation page
(``fitdoc explain FD101``): *What it detects*, *Why it matters*, *Example*,
*Known false alarms*; the thresholds are listed from the dataclass fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, Iterable

from ..run import epoch_value

SEVERITIES = ("info", "warning", "error")


@dataclass
class Cause:
    cause: str  # vocabulary of the report contract: lr_too_high, data_problem, ...
    confidence: float

    def to_dict(self) -> dict:
        return {"cause": self.cause, "confidence": round(self.confidence, 2)}


@dataclass
class Finding:
    """One symptom seen in the run, with the numbers that show it.

    ``facts`` holds the numbers the evidence and the fixes are written from (metric
    names, values, epochs); the words live in the advice catalogue, so one finding
    renders in any language.
    """

    code: str
    name: str
    kind: str
    severity: str
    epoch: int | None  # onset, in the record's numbering
    end_epoch: int | None = None
    facts: dict = field(default_factory=dict)
    causes: list[Cause] = field(default_factory=list)
    variant: str = ""  # selects the evidence text when a rule has several shapes
    supersedes: tuple[str, ...] = ()  # codes of findings this one makes redundant

    @property
    def message_id(self) -> str:
        return f"{self.code}.{self.variant}" if self.variant else self.code


class Rule:
    """Base class of the curve rules. Subclasses are dataclasses of thresholds."""

    code: ClassVar[str]
    name: ClassVar[str]
    kind: ClassVar[str]
    severity: ClassVar[str] = "warning"
    # codes of rules whose findings this rule's finding makes redundant
    supersedes: ClassVar[tuple[str, ...]] = ()

    def check(self, ctx) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(
        self, epoch, *, end_epoch=None, causes=(), variant="", severity=None, supersedes=(), kind=None, **facts
    ) -> Finding:
        return Finding(
            code=self.code,
            name=self.name,
            kind=kind or self.kind,
            severity=severity or self.severity,
            epoch=None if epoch is None else epoch_value(epoch),
            end_epoch=None if end_epoch is None else epoch_value(end_epoch),
            facts=facts,
            causes=[Cause(c, p) for c, p in causes],
            variant=variant,
            supersedes=tuple(self.supersedes) + tuple(supersedes),
        )

    @classmethod
    def thresholds(cls) -> dict:
        """Threshold names and their defaults."""
        return {f.name: f.default for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}

    @classmethod
    def doc(cls) -> str:
        return (cls.__doc__ or "").strip()
