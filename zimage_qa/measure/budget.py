"""Budgets as objects, built once from the config: `evaluate(measured, context) -> Verdict`.

The outcome policy: a median or worst round over its budget FAILS, whatever the spread; a
run within budget whose spread is too wide is UNSTABLE (the gate re-measures with more rounds first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.memory import MemoryKind, PeakMemory
from zimage_qa.measure.stats import Summary
from zimage_qa.measure.units import format_bytes, format_change, format_ms, format_seconds, seconds_unit
from zimage_qa.verdict import Verdict


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


@dataclass(frozen=True)
class LatencyBudget:
    """Median and worst-round limits (seconds) and the widest relative IQR a run may have to be judged."""

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

    def evaluate(self, stats: Summary, context: BudgetContext) -> Verdict:
        """FAILED when the median or the worst round is over budget (whatever the spread); UNSTABLE when
        within budget but the spread is too wide to judge; else PASSED."""
        misses = self._misses(stats, context.where)
        if misses:
            return Verdict.failed(_join(*misses, context.stage_note(), context.hint))
        if self.max_rel_iqr is not None and stats.rel_iqr > self.max_rel_iqr:
            unit = seconds_unit(stats.median)
            return Verdict.unstable(
                _join(
                    f"relative IQR {stats.rel_iqr * 100:.1f} % > limit {self.max_rel_iqr * 100:.1f} % over "
                    f"{stats.n} rounds (p50 {format_seconds(stats.median, unit)}, IQR "
                    f"{format_seconds(stats.iqr, unit)}) {context.where}, within budget but too noisy to judge: "
                    f"check {'the host for other processes' if context.device == 'cpu' else 'the GPU for throttling or other processes'} "
                    "and rerun",
                    context.hint,
                )
            )
        return Verdict.passed(f"median {format_seconds(stats.median)} within budget")

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

    def evaluate(self, peaks: PeakMemory, context: BudgetContext) -> Verdict:
        measured = peaks.get(self.kind)
        if measured is None:
            why = "no NVML here" if self.kind is MemoryKind.NVML else "no CUDA device"
            return Verdict.not_run(
                f"{self.kind.label} memory ceiling {format_bytes(self.limit_bytes)} not checked {context.where}: {why}"
            )
        if measured <= self.limit_bytes:
            return Verdict.passed(
                f"{self.kind.label} {format_bytes(measured)} <= {format_bytes(self.limit_bytes)}"
            )
        message = (
            f"{self.kind.label} memory {format_bytes(measured)} > ceiling {format_bytes(self.limit_bytes)} "
            f"({format_change(measured / self.limit_bytes - 1)}) {context.where} ({peaks.describe()})"
        )
        return Verdict.failed(_join(message, context.hint))

    def to_dict(self) -> dict[str, object]:
        return {"limit_bytes": self.limit_bytes, "kind": self.kind.value}
