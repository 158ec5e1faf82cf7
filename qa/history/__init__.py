"""Benchmark histories: read pytest-benchmark saved runs, find lasting changes, show them.

Light on import (records only); numpy loads with `qa.history.analysis`, matplotlib only when plotting.
Entry point: `qa.history.analysis.analyse(paths, policy) -> Analysis`; CLI: `zqa history`.
"""

from qa.history.records import (
    Blip,
    Change,
    ChangeKind,
    Direction,
    Fingerprint,
    GroupInfo,
    HistoryReport,
    Level,
    RunRef,
    SeriesVerdict,
    Skipped,
    Status,
)

__all__ = [
    "Blip",
    "Change",
    "ChangeKind",
    "Direction",
    "Fingerprint",
    "GroupInfo",
    "HistoryReport",
    "Level",
    "RunRef",
    "SeriesVerdict",
    "Skipped",
    "Status",
]
