"""What a golden comparison says, and what an update may write: typed records only (statuses and modes are
Enums, results frozen dataclasses)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class GoldenUpdate(enum.Enum):
    """What a golden check may write instead of comparing."""

    OFF = "off"
    CHANGED = "changed"  # write new and changed records; those tests still fail, naming what was written
    ALL = "all"  # rewrite every record; the run passes


class Likeness(enum.Enum):
    SAME = "same"
    REGRESSED = "regressed"
    INVALID = "invalid"  # the candidate fails on its own (non-finite, black, flat): nothing was compared


class Bound(enum.Enum):
    AT_MOST = "max"  # the measure passes when value <= threshold
    AT_LEAST = "min"  # the measure passes when value >= threshold


@dataclass(frozen=True)
class Measure:
    """One number the verdict looked at, the threshold it was held to, and whether it passed."""

    name: str
    value: float
    threshold: float
    passed: bool
    bound: Bound = Bound.AT_MOST
    what: str = ""  # what the value is, e.g. "mean Lab Delta E" (used in the reason sentence)

    def reason(self) -> str:
        """A sentence for a report, e.g. "colour shift: mean Lab ΔE 14.2 > 6"."""
        sign = ">" if self.bound is Bound.AT_MOST else "<"
        return f"{self.name}: {self.what} {_fmt(self.value)} {sign} {_fmt(self.threshold)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": _json_number(self.value),
            "threshold": _json_number(self.threshold),
            "bound": self.bound.value,
            "passed": self.passed,
            "what": self.what,
        }


def measure(name: str, value: float, threshold: float, what: str, bound: Bound = Bound.AT_MOST) -> Measure:
    """Build a Measure, deciding `passed` from the bound."""
    passed = value <= threshold if bound is Bound.AT_MOST else value >= threshold
    return Measure(name, value, threshold, bool(passed), bound, what)


@dataclass(frozen=True)
class Comparison:
    """`same` is True only for Likeness.SAME; `reasons` has one sentence per failed measure."""

    same: bool
    status: Likeness
    measures: tuple[Measure, ...]
    reasons: tuple[str, ...]

    @classmethod
    def of(cls, measures: tuple[Measure, ...], status_if_failed: Likeness = Likeness.REGRESSED) -> Comparison:
        reasons = tuple(m.reason() for m in measures if not m.passed)
        status = status_if_failed if reasons else Likeness.SAME
        return cls(same=status is Likeness.SAME, status=status, measures=measures, reasons=reasons)

    def get(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)

    def summary(self) -> str:
        """One line: "same" or "regressed: <reason>; <reason>"."""
        return self.status.value + (": " + "; ".join(self.reasons) if self.reasons else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "same": self.same,
            "status": self.status.value,
            "reasons": list(self.reasons),
            "measures": [m.to_dict() for m in self.measures],
        }


def _fmt(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def _json_number(value: float) -> float | int:
    if isinstance(value, int):
        return value
    return round(float(value), 4)
