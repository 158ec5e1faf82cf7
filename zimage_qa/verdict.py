"""One verdict type for every gate check: a status, a sentence, the measured values and the artefacts.

The judging code of each family (latency budgets and baselines, memory ceilings, golden comparison,
glyph reading) returns a `Verdict`; the pytest layer maps it onto an outcome in one place
(`zimage_qa.gate.outcome`). Nothing here imports pytest.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from zimage_qa.values import FamilyValues


class Status(enum.Enum):
    """What a check concluded. Only PASSED is green; the rest fail under --qa-strict."""

    PASSED = "passed"
    FAILED = "failed"
    UNSTABLE = "unstable"  # ran, but too noisy to judge even after re-measuring: never a pass
    NOT_RUN = "not run"  # could not run here (no GPU, no budget, no golden set, no OCR engine...)


@dataclass(frozen=True)
class Verdict:
    """A check's conclusion. `values` are JSON-able measurements; `artefacts` name files (role -> path)."""

    status: Status
    message: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    artefacts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def passed(cls, message: str = "", **values: Any) -> Verdict:
        return cls(Status.PASSED, message, values)

    @classmethod
    def failed(cls, message: str, **values: Any) -> Verdict:
        return cls(Status.FAILED, message, values)

    @classmethod
    def unstable(cls, message: str, **values: Any) -> Verdict:
        return cls(Status.UNSTABLE, message, values)

    @classmethod
    def not_run(cls, reason: str, **values: Any) -> Verdict:
        return cls(Status.NOT_RUN, reason, values)

    @cached_property
    def typed(self) -> FamilyValues:
        """`values` read as each family's dataclasses; `values` stays the flat form results.json holds."""
        return FamilyValues.read(self.values)

    @property
    def ok(self) -> bool:
        return self.status is Status.PASSED

    def with_values(self, **values: Any) -> Verdict:
        return replace(self, values={**self.values, **values})

    def with_artefacts(self, **artefacts: str) -> Verdict:
        return replace(self, artefacts={**self.artefacts, **artefacts})

    def with_message(self, message: str) -> Verdict:
        return replace(self, message=message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "message": self.message,
            "values": dict(self.values),
            "artifacts": dict(self.artefacts),  # the key results.json uses
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(
            Status(data["status"]),
            str(data.get("message", "")),
            dict(data.get("values", {})),
            dict(data.get("artifacts", data.get("artefacts", {}))),
        )


def worst(*verdicts: Verdict) -> Verdict:
    """The verdict that decides a check made of parts: FAILED over UNSTABLE over NOT_RUN over PASSED;
    values of all parts are kept, messages of the deciding status joined."""
    order = (Status.FAILED, Status.UNSTABLE, Status.NOT_RUN, Status.PASSED)
    status = next(s for s in order if any(v.status is s for v in verdicts))
    message = "; ".join(v.message for v in verdicts if v.status is status and v.message)
    values: dict[str, Any] = {}
    artefacts: dict[str, str] = {}
    for verdict in verdicts:
        values.update(verdict.values)
        artefacts.update(verdict.artefacts)
    return Verdict(status, message, values, artefacts)
