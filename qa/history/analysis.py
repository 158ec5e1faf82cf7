"""The one entry point a notebook, the CLI or a test calls: paths in, a judged history out.

Example: `analyse([".benchmarks"]).report.open_regressions` is the list of open `Change` records.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAUsageError
from qa.history.detector import judge_all
from qa.history.files import load_runs
from qa.history.metrics import MetricPolicy
from qa.history.records import HistoryReport, SeriesVerdict
from qa.history.series import Series, build_series


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
    series, groups = build_series(loaded.runs)
    if not series:
        wanted = ", ".join(policy.include) or "any metric"
        raise QAUsageError(f"no metric matching {wanted} in {loaded.files} saved run file(s); check --metric")
    report = HistoryReport(
        verdicts=tuple(judge_all(series, policy)),
        groups=tuple(groups),
        files=loaded.files,
        runs=len(loaded.runs),
        skipped=loaded.skipped,
        duplicates=loaded.duplicates,
        settings=policy.settings(),
    )
    return Analysis(report, tuple(series))
