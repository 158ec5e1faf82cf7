"""What each gate check produced: one typed record per check, rendered by the summary, JSON and HTML alike."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from zimage_qa.values import FamilyValues
from zimage_qa.verdict import Status


class Family(enum.Enum):
    """The check families; each has a pytest marker of the same name."""

    GUARD = "guard"
    LATENCY = "latency"
    VRAM = "vram"
    GOLDEN = "golden"
    GLYPH = "glyph"
    UPGRADE = "upgrade"  # --qa-candidate: the candidate against the model, A/B in one process


@dataclass(frozen=True)
class CheckRecord:
    """One check's result: its family, case, outcome, a sentence, and the measured values."""

    family: Family
    test_id: str
    case: str
    outcome: Status
    message: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    artifacts: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def typed(self) -> FamilyValues:
        """`values` read as each family's dataclasses (timing, memory, golden, glyph, placement, budget)."""
        return FamilyValues.read(self.values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family.value,
            "test_id": self.test_id,
            "case": self.case,
            "outcome": self.outcome.value,
            "message": self.message,
            "values": dict(self.values),
            "artifacts": dict(self.artifacts),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckRecord:
        return cls(
            Family(data["family"]),
            str(data["test_id"]),
            str(data["case"]),
            Status(data["outcome"]),
            str(data.get("message", "")),
            dict(data.get("values", {})),
            dict(data.get("artifacts", {})),
        )


@dataclass(frozen=True)
class FamilySummary:
    family: Family
    counts: Mapping[Status, int]
    not_run_reasons: tuple[str, ...]
    unstable: tuple[str, ...] = ()  # "case: reason" of each check that stayed unstable

    def line(self) -> str:
        parts = [
            f"{self.counts.get(o, 0)} {o.value}"
            for o in Status
            if self.counts.get(o, 0) or o in (Status.PASSED, Status.FAILED)
        ]
        return f"{self.family.value}: " + ", ".join(parts)


def summarise(records: Iterable[CheckRecord]) -> list[FamilySummary]:
    """Per family, in a fixed order: outcome counts and the distinct reasons for what did not run."""
    by_family: dict[Family, list[CheckRecord]] = {f: [] for f in Family}
    for record in records:
        by_family[record.family].append(record)
    summaries = []
    for family, items in by_family.items():
        counts = {o: sum(1 for r in items if r.outcome is o) for o in Status}
        reasons = tuple(dict.fromkeys(r.message for r in items if r.outcome is Status.NOT_RUN))
        unstable = tuple(f"{r.case}: {r.message}" for r in items if r.outcome is Status.UNSTABLE)
        summaries.append(FamilySummary(family, counts, reasons, unstable))
    return summaries
