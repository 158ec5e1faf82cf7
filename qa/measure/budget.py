"""Budgets as objects: parsed once from strings ('p50:1.6s,max:2s,iqr:5%', 'reserved:24GiB'), then
`check(measured, context) -> failure sentence | None` and `evaluate(...) -> BudgetVerdict`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from qa.errors import QAUsageError
from qa.measure.memory import MemoryKind, PeakMemory
from qa.measure.stats import Summary
from qa.measure.units import (
    format_bytes,
    format_change,
    format_ms,
    format_seconds,
    parse_duration,
    parse_percent,
    parse_size,
    seconds_unit,
)

__all__ = [
    "BudgetContext",
    "BudgetStatus",
    "BudgetVerdict",
    "LatencyBudget",
    "MemoryCeiling",
    "MemoryKind",
    "PeakMemory",
    "parse_duration",
    "parse_size",
]


class BudgetStatus(Enum):
    PASS = "pass"
    FAIL = "fail"
    UNSTABLE = "unstable"  # spread too wide to judge: never reported as a pass
    NOT_RUN = "not run"  # the number the budget needs was not measured here (no CUDA, no NVML)


@dataclass(frozen=True)
class BudgetVerdict:
    status: BudgetStatus
    message: str | None = None  # a sentence for every status but PASS

    @property
    def passed(self) -> bool:
        return self.status is BudgetStatus.PASS


@dataclass(frozen=True)
class BudgetContext:
    """What a failure sentence names: the scenario, the device class, the stage medians (ms) now and,
    when known, in the baseline run, and a hint for the reader (report path, how to rebless)."""

    scenario: str
    device: str
    stages_ms: Mapping[str, float] | None = None
    baseline_stages_ms: Mapping[str, float] | None = None
    hint: str | None = None

    @property
    def where(self) -> str:
        return f"for {self.scenario} on {self.device}"

    def stage_note(self) -> str | None:
        """'denoise grew most: 1402 ms vs 1237 ms (+13.3 %)', or the stage split when no baseline."""
        now = self.stages_ms
        if not now:
            return None
        base = self.baseline_stages_ms
        if not base:
            return "stages " + ", ".join(f"{k} {format_ms(v)}" for k, v in now.items())
        growth = {k: now[k] - base[k] for k in now if k in base}
        if not growth or max(growth.values()) <= 0:
            return "no stage grew against the baseline"
        stage = max(growth, key=growth.__getitem__)
        change = f" ({format_change(now[stage] / base[stage] - 1)})" if base[stage] > 0 else ""
        return f"{stage} grew most: {format_ms(now[stage])} vs {format_ms(base[stage])}{change}"


def _join(*parts: str | None) -> str:
    return "; ".join(p for p in parts if p)


def _positive(value: float | None, what: str) -> None:
    if value is not None and not value > 0:
        raise QAUsageError(f"{what} {value} must be positive")


_LATENCY_KEYS = {"p50": "median_s", "median": "median_s", "max": "worst_s", "worst": "worst_s"}
_SPREAD_KEYS = ("iqr", "spread")


@dataclass(frozen=True)
class LatencyBudget:
    """Median and worst-round limits (seconds) and the widest relative IQR a run may have to be judged.

    Evaluation: a relative IQR above `max_rel_iqr` makes the run UNSTABLE, unless even its lower
    quartile misses the median budget (a clear FAIL whatever the noise); otherwise FAIL when the
    median or the worst round exceeds its budget, else PASS.
    """

    median_s: float | None = None
    worst_s: float | None = None
    max_rel_iqr: float | None = None

    def __post_init__(self) -> None:
        _positive(self.median_s, "median latency budget (s)")
        _positive(self.worst_s, "worst-round latency budget (s)")
        _positive(self.max_rel_iqr, "relative IQR limit")
        if self.median_s is None and self.worst_s is None:
            raise QAUsageError(
                "a latency budget needs a median or a worst-round limit, e.g. 'p50:1.6s,max:2s'"
            )

    @classmethod
    def parse(cls, text: str) -> LatencyBudget:
        """'p50:1.6s', 'p50:1.6s,max:2.0s', 'median:850ms,iqr:5%' (keys p50|median, max|worst, iqr|spread)."""
        fields: dict[str, float] = {}
        for item in str(text).split(","):
            key, sep, value = item.strip().partition(":")
            key = key.strip().lower()
            if not sep or (key not in _LATENCY_KEYS and key not in _SPREAD_KEYS):
                raise QAUsageError(
                    f"bad latency budget {text!r}: write KEY:VALUE pairs separated by commas, "
                    "e.g. 'p50:1.6s,max:2s,iqr:5%' (keys: p50, median, max, worst, iqr)"
                )
            if key in _SPREAD_KEYS:
                fields["max_rel_iqr"] = parse_percent(value)
            else:
                fields[_LATENCY_KEYS[key]] = parse_duration(value)
        return cls(**fields)

    def _misses(self, stats: Summary, where: str) -> list[str]:
        misses = []
        for label, measured, limit in (
            ("p50", stats.median, self.median_s),
            ("worst round", stats.max, self.worst_s),
        ):
            if limit is not None and measured > limit:
                unit = seconds_unit(measured, limit)
                misses.append(
                    f"{label} latency {format_seconds(measured, unit)} > "
                    f"budget {format_seconds(limit, unit)} "
                    f"({format_change(measured / limit - 1)}) {where}"
                )
        return misses

    def evaluate(self, stats: Summary, context: BudgetContext) -> BudgetVerdict:
        __tracebackhide__ = True
        misses = self._misses(stats, context.where)
        if self.max_rel_iqr is not None and stats.rel_iqr > self.max_rel_iqr:
            clear_miss = self.median_s is not None and stats.q1 > self.median_s
            if not clear_miss:
                unit = seconds_unit(stats.median)
                message = (
                    f"unstable: relative IQR {stats.rel_iqr * 100:.1f} % > "
                    f"limit {self.max_rel_iqr * 100:.1f} % "
                    f"over {stats.n} rounds (p50 {format_seconds(stats.median, unit)}, IQR "
                    f"{format_seconds(stats.iqr, unit)}) {context.where}; too noisy to judge: check the GPU "
                    "for throttling or other processes and rerun"
                )
                return BudgetVerdict(BudgetStatus.UNSTABLE, _join(message, context.hint))
        if not misses:
            return BudgetVerdict(BudgetStatus.PASS)
        return BudgetVerdict(BudgetStatus.FAIL, _join(*misses, context.stage_note(), context.hint))

    def check(self, stats: Summary, context: BudgetContext) -> str | None:
        """The sentence of a FAIL or UNSTABLE verdict (never silently green), None on PASS."""
        __tracebackhide__ = True
        return self.evaluate(stats, context).message

    def to_dict(self) -> dict[str, float | None]:
        return {"median_s": self.median_s, "worst_s": self.worst_s, "max_rel_iqr": self.max_rel_iqr}


@dataclass(frozen=True)
class MemoryCeiling:
    """A limit on one of the three memory numbers (see MemoryKind)."""

    limit_bytes: int
    kind: MemoryKind = field(default=MemoryKind.RESERVED)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, MemoryKind):
            raise QAUsageError(
                f"memory ceiling kind {self.kind!r} is not one of {[k.value for k in MemoryKind]}"
            )
        _positive(self.limit_bytes, "memory ceiling (bytes)")

    @classmethod
    def parse(cls, text: str) -> MemoryCeiling:
        """'reserved:24GiB', 'allocated:22GiB', 'nvml:26GiB'."""
        key, sep, value = str(text).partition(":")
        kinds = {k.value: k for k in MemoryKind}
        if not sep or key.strip().lower() not in kinds:
            raise QAUsageError(
                f"bad memory ceiling {text!r}: write KIND:SIZE, e.g. 'reserved:24GiB' "
                f"(kinds: {', '.join(kinds)})"
            )
        return cls(parse_size(value.strip()), kinds[key.strip().lower()])

    def evaluate(self, peaks: PeakMemory, context: BudgetContext) -> BudgetVerdict:
        __tracebackhide__ = True
        measured = peaks.get(self.kind)
        if measured is None:
            why = "no NVML here" if self.kind is MemoryKind.NVML else "no CUDA device"
            return BudgetVerdict(
                BudgetStatus.NOT_RUN,
                f"{self.kind.label} memory ceiling {format_bytes(self.limit_bytes)} "
                f"not checked {context.where}: {why}",
            )
        if measured <= self.limit_bytes:
            return BudgetVerdict(BudgetStatus.PASS)
        message = (
            f"{self.kind.label} memory {format_bytes(measured)} > ceiling {format_bytes(self.limit_bytes)} "
            f"({format_change(measured / self.limit_bytes - 1)}) {context.where} ({peaks.describe()})"
        )
        return BudgetVerdict(BudgetStatus.FAIL, _join(message, context.hint))

    def check(self, peaks: PeakMemory, context: BudgetContext) -> str | None:
        """The sentence of a FAIL or NOT_RUN verdict, None on PASS."""
        __tracebackhide__ = True
        return self.evaluate(peaks, context).message

    def to_dict(self) -> dict[str, object]:
        return {"limit_bytes": self.limit_bytes, "kind": self.kind.value}
