"""The one entry point a notebook, the CLI or a test calls: paths in, a judged history out.

Example: `analyse([".benchmarks"]).report.open_regressions` is the list of open `Change` records.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from zimage_qa.errors import QAUsageError
from zimage_qa.history.detector import judge
from zimage_qa.history.events import find_events, judge_at_events, restate
from zimage_qa.history.files import load_runs
from zimage_qa.history.metrics import PRIMARY, MetricPolicy
from zimage_qa.history.records import Change, HistoryReport, SeriesVerdict
from zimage_qa.history.series import Series, build_series


@dataclass(frozen=True)
class Analysis:
    """The report (records only, what every output renders) and the series behind it (for plots)."""

    report: HistoryReport
    series: tuple[Series, ...]

    def pairs(self) -> Iterator[tuple[Series, SeriesVerdict]]:
        return zip(self.series, self.report.verdicts, strict=True)


def analyse(paths: Sequence[str | Path], policy: MetricPolicy | None = None) -> Analysis:
    """Read the saved runs under `paths`, build every series, judge each one."""
    policy = policy or MetricPolicy()
    loaded = load_runs(paths, policy)
    built = build_series(loaded.runs)
    series = built.series
    if not series:
        wanted = ", ".join(policy.include) or "any metric"
        raise QAUsageError(f"no metric matching {wanted} in {loaded.files} saved run file(s); check --metric")
    events = {group: find_events(group, timeline) for group, timeline in built.software.items()}
    base = [judge(s, policy) for s in series]
    judged = [
        judge_at_events(s, v, events.get(s.group.id, []), policy) for s, v in zip(series, base, strict=True)
    ]
    moved = {(c.group, c.benchmark, c.run.index) for v in judged for c in v.changes if c.metric == PRIMARY}
    verdicts = [
        restate(first, [c for c in v.changes if _stands(c, moved)])
        for first, v in zip(base, judged, strict=True)
    ]
    report = HistoryReport(
        verdicts=tuple(verdicts),
        groups=tuple(built.groups),
        files=loaded.files,
        runs=len(loaded.runs),
        skipped=loaded.skipped,
        duplicates=loaded.duplicates,
        settings=policy.settings(),
        events=tuple(e for found in events.values() for e in found),
    )
    return Analysis(report, tuple(series))


def _stands(change: Change, moved: set[tuple[str, str, int]]) -> bool:
    """Whether a change stands: a stage time that moved across a short stretch (no rounds, no noise
    estimate) counts only where its benchmark's median, judged on rounds, moved too: one run's stage
    medians jitter by more than 5 %."""
    timed = change.metric.endswith("_ms") or "_ms." in change.metric or change.metric.startswith("ms.")
    short = change.method == "levels" and change.z != change.z  # found by events.py on a short stretch
    return not (timed and short) or (change.group, change.benchmark, change.run.index) in moved
