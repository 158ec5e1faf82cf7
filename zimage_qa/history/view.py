"""What a person reads, derived once from the report: which rows to show, in what order, formatted how.

The terminal table and the HTML page both render this view, so they always agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from zimage_qa.history.metrics import PRIMARY
from zimage_qa.history.records import Blip, Change, ChangePoint, HistoryReport, SeriesVerdict, Status

_SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Row:
    verdict: SeriesVerdict
    status: str
    baseline: str
    latest: str
    change: str
    arrow: str
    spark: str

    @property
    def worse(self) -> bool:
        return self.verdict.status in (Status.REGRESSED, Status.PENDING)


def rows(
    report: HistoryReport, *, everything: bool = False, values: dict[tuple[str, str, str], list[float]]
) -> list[Row]:
    """Rows for the median of every benchmark (every metric with `everything`); what else moved is
    listed once per change point, not as a row per metric."""
    shown = [v for v in report.verdicts if everything or v.metric == PRIMARY]
    shown.sort(key=lambda v: (v.status.rank, v.group, v.benchmark, v.metric != PRIMARY, v.metric))
    return [_row(v, values.get(v.key, [])) for v in shown]


def _row(verdict: SeriesVerdict, values: list[float]) -> Row:
    status = verdict.status.value.upper() if verdict.status is Status.REGRESSED else verdict.status.value
    return Row(
        verdict=verdict,
        status=status,
        baseline=fmt_value(verdict.metric, verdict.baseline),
        latest=fmt_value(verdict.metric, verdict.latest),
        change=fmt_change(verdict.change),
        arrow=arrow(verdict),
        spark=sparkline(values),
    )


def arrow(verdict: SeriesVerdict) -> str:
    """Up or down when the latest level is off the baseline by half the threshold, flat otherwise."""
    change = verdict.change
    if verdict.status is Status.SHORT or not abs(change) >= verdict.threshold / 2:
        return "→"
    return "↑" if change > 0 else "↓"


def sparkline(values: list[float], width: int = 24) -> str:
    tail = values[-width:]
    if not tail:
        return ""
    low, high = min(tail), max(tail)
    if high - low <= 1e-12 * max(abs(high), 1.0):
        return _SPARK[3] * len(tail)
    return "".join(_SPARK[min(7, int((v - low) / (high - low) * 8))] for v in tail)


def fmt_value(metric: str, value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    name = metric.lower()
    if metric == PRIMARY:
        return _seconds(value)
    if name.endswith("_ms") or "_ms." in name or name.startswith("ms."):
        return f"{value:.4g} ms"
    if "gib" in name:
        return f"{value:.4g} GiB"
    return f"{value:.4g}"


def fmt_change(change: float) -> str:
    return f"{change * 100:+.1f}%" if math.isfinite(change) else "n/a"


def _seconds(value: float) -> str:
    if abs(value) >= 1:
        return f"{value:.4g} s"
    if abs(value) >= 1e-3:
        return f"{value * 1e3:.4g} ms"
    return f"{value * 1e6:.4g} µs"


def change_line(change: Change) -> str:
    state = "open" if change.open else "recovered" if change.kind.value == "regression" else "lasting"
    gradual = ", gradual" if change.gradual else ""
    return (
        f"{change.kind.value.upper()} ({state}{gradual}) {change.benchmark} [{change.metric}] "
        f"{fmt_change(change.change)}: {fmt_value(change.metric, change.before)} -> "
        f"{fmt_value(change.metric, change.after)} from {change.run.label}, {change.run.file}; "
        f"{change.runs_at_level} runs at that level, p={change.p_value:.1e}"
    )


def blip_line(blip: Blip, kind: str) -> str:
    runs = "run" if blip.runs == 1 else f"{blip.runs} runs"
    return (
        f"{kind} {blip.benchmark} [{blip.metric}] {fmt_change(blip.change)} for {runs} "
        f"({fmt_value(blip.metric, blip.value)} vs level {fmt_value(blip.metric, blip.level)}) "
        f"at {blip.run.label}, {blip.run.file}"
    )


def short_name(benchmark: str) -> str:
    """'zimage_qa/gate/test_latency.py::test_latency[1024-simple]' -> 'test_latency[1024-simple]'."""
    return benchmark.rpartition("::")[2] or benchmark


def moved_lines(point: ChangePoint) -> list[str]:
    """One line per benchmark: everything the change point moved there, median first."""
    by_bench: dict[str, list[Change]] = {}
    for change in point.changes:
        by_bench.setdefault(change.benchmark, []).append(change)
    lines = []
    for bench, changes in by_bench.items():
        parts = []
        for c in changes:
            back = f" at run {c.recovered_at.index + 1}" if c.recovered_at else ""
            state = "" if c.kind.value == "improvement" else " open" if c.open else f" recovered{back}"
            interval = f" [{fmt_change(c.ci_low)}, {fmt_change(c.ci_high)}]" if c.method == "rounds" else ""
            parts.append(
                f"{c.metric} {fmt_change(c.change)}{interval} ({fmt_value(c.metric, c.before)} -> "
                f"{fmt_value(c.metric, c.after)}{state})"
            )
        lines.append(f"{short_name(bench)}: " + ", ".join(parts))
    return lines
