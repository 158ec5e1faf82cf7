"""Benchmark histories: read pytest-benchmark saved runs, find lasting changes, show them.

Light on import (records only); numpy loads with `zimage_qa.history.analysis`, matplotlib only when plotting.
Entry point: `zimage_qa.history.analysis.analyse(paths, policy) -> Analysis`; CLI: `zqa history`.
"""

from zimage_qa.history.records import (
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
    Status,
)
from zimage_qa.measure.runs import Skipped

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
