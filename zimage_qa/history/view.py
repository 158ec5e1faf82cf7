"""What a person reads, derived once from the report: which rows to show, in what order, formatted how.

The terminal table and the HTML page both render this view, so they always agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from zimage_qa.history.metrics import stage_time
from zimage_qa.history.records import (
    Blip,
    Change,
    ChangePoint,
    HistoryReport,
    NotJudged,
    SeriesVerdict,
    Status,
)
from zimage_qa.measure.runs import PRIMARY

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
        return self.verdict.status in (Status.REGRESSED, Status.SUSPECTED, Status.PENDING)


def rows(
    report: HistoryReport, *, everything: bool = False, values: dict[tuple[str, str, str], list[float]]
) -> list[Row]:
    """Rows for the median of every benchmark (every metric with `everything`); what else moved is
    listed once per change point, not as a row per metric."""
    shown = [v for v in report.verdicts if everything or v.metric == PRIMARY]
    shown.sort(key=lambda v: (v.status.rank, v.group, v.benchmark, v.metric != PRIMARY, v.metric))
    return [_row(v, values.get(v.key, [])) for v in shown]


def _row(verdict: SeriesVerdict, values: list[float]) -> Row:
    return Row(
        verdict=verdict,
        status=verdict.status.label,
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
    if stage_time(name):
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
    """One line per benchmark: everything the change point moved there, median first, then what the rule
    could not judge there."""
    by_bench: dict[str, list[str]] = {}
    for change in point.changes:
        by_bench.setdefault(change.benchmark, []).append(moved_text(change))
    for item in point.not_judged:
        by_bench.setdefault(item.benchmark, []).append(not_judged_text(item))
    return [f"{short_name(bench)}: " + ", ".join(parts) for bench, parts in by_bench.items()]


def moved_text(c: Change) -> str:
    """'median +20.1% [-100.0%, +inf] (1.33 s -> 1.6 s open; suspected: 3 vs 3 rounds; ...)'."""
    back = f" at run {c.recovered_at.index + 1}" if c.recovered_at else ""
    state = "" if c.kind.value == "improvement" else " open" if c.open else f" recovered{back}"
    creep = f"creep over {c.runs_at_level} runs " if c.creep else ""
    suspected = f"; suspected: {c.undecided}" if not c.confirmed else ""
    return (
        f"{c.metric} {creep}{fmt_change(c.change)}{_interval(c.ci_low, c.ci_high)} "
        f"({fmt_value(c.metric, c.before)} -> {fmt_value(c.metric, c.after)}{state}{suspected})"
    )


def not_judged_text(item: NotJudged) -> str:
    """'median not judged +2.0% [-100.0%, +inf] (3 vs 3 rounds; ...; about 40 rounds a side would decide it)'."""
    return f"{item.metric} not judged {fmt_change(item.change)}{_interval(item.ci_low, item.ci_high)} ({item.undecided})"


def _interval(low: float, high: float) -> str:
    """' [+6.0%, +9.4%]'; nothing for no interval or one of no width (a count that moved exactly)."""
    if math.isnan(low) or math.isnan(high) or low == high:
        return ""
    return f" [{_bound(low)}, {_bound(high)}]"


def _bound(value: float) -> str:
    return fmt_change(value) if math.isfinite(value) else ("+inf" if value > 0 else "-inf")
