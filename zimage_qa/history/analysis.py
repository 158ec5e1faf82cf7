"""The one entry point a notebook, the CLI or a test calls: paths in, a judged history out.

Example: `analyse([".benchmarks"]).report.open_regressions` is the list of open `Change` records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from zimage_qa.errors import QAUsageError
from zimage_qa.history.creep import with_creep
from zimage_qa.history.detector import judge
from zimage_qa.history.events import Medians, find_events, judge_at_events
from zimage_qa.history.metrics import MetricPolicy
from zimage_qa.history.records import HistoryReport, SeriesVerdict
from zimage_qa.history.series import Series, build_series
from zimage_qa.measure.runs import PRIMARY, load_runs


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
    loaded = load_runs(paths, policy.tracks)
    built = build_series(loaded.runs)
    series = built.series
    if not series:
        wanted = ", ".join(policy.include) or "any metric"
        raise QAUsageError(f"no metric matching {wanted} in {loaded.files} saved run file(s); check --metric")
    events = {group: find_events(group, timeline) for group, timeline in built.software.items()}

    def judged(one: Series, medians: Medians) -> SeriesVerdict:
        return judge_at_events(one, judge(one, policy), events.get(one.group.id, []), policy, medians)

    first = {i: judged(s, {}) for i, s in enumerate(series) if s.metric == PRIMARY}  # the medians first
    medians = _medians(first.values())
    verdicts = []
    for i, s in enumerate(series):
        verdict = first[i] if i in first else judged(s, medians)
        verdicts.append(with_creep(s, verdict, policy))
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


def _medians(verdicts: Iterable[SeriesVerdict]) -> Medians:
    """What the rule made of each benchmark's median at each run it judged: 'moved' (a change, confirmed
    or suspected) or 'not judged'; a run it called the same is absent."""
    found: dict[tuple[str, str, int], str] = {}
    for v in verdicts:
        if v.metric == PRIMARY:
            found.update({(c.group, c.benchmark, c.run.index): "moved" for c in v.changes})
            found.update({(n.group, n.benchmark, n.run.index): "not judged" for n in v.not_judged})
    return found
