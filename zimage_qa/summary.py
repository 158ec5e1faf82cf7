"""The run's check records, gathered from test reports, and the end-of-run lines a person reads."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from zimage_qa.records import CheckRecord, Family, summarise
from zimage_qa.verdict import Status

RECORD_PROP = "zqa_record"


@dataclass
class GateResults:
    """Every gate test contributes exactly one record: its own verdict, or one derived from its report."""

    records: list[CheckRecord] = field(default_factory=list)

    def add(
        self, nodeid: str, family: Family, outcome: str, properties: Iterable[tuple[str, object]], text: str
    ) -> CheckRecord:
        """`outcome` is pytest's ('passed', 'failed', 'skipped'); `text` the failure or skip reason."""
        own = [CheckRecord.from_dict(json.loads(str(v))) for k, v in properties if k == RECORD_PROP]
        record = own[-1] if own else None
        if outcome == "failed" and (record is None or record.outcome is not Status.FAILED):
            case = record.case if record else nodeid.rsplit("[", 1)[-1].rstrip("]")
            record = CheckRecord(
                family, nodeid, case, Status.FAILED, _last_line(text), dict(record.values) if record else {}
            )
        elif record is None:
            status = Status.NOT_RUN if outcome == "skipped" else Status.PASSED
            reason = _skip_reason(text) if outcome == "skipped" else ""
            record = CheckRecord(family, nodeid, nodeid.rsplit("[", 1)[-1].rstrip("]"), status, reason)
        self.records = [r for r in self.records if r.test_id != nodeid] + [record]
        return record

    def summary_lines(self, cwd: Path | None = None) -> list[str]:
        """Per family its counts, what did not run and what stayed unstable; under the golden line, each
        record an update wrote (relative to `cwd`, the current folder by default, when it lies inside)."""
        lines = []
        for summary in summarise(self.records):
            if not any(summary.counts.values()):
                continue
            lines.append(summary.line())
            lines.extend(f"    not run: {reason}" for reason in summary.not_run_reasons)
            lines.extend(f"    unstable: {entry}" for entry in summary.unstable)
            if summary.family is Family.GOLDEN:
                lines.extend(f"    wrote: {path}" for path in self.golden_written(cwd))
        return lines

    def golden_written(self, cwd: Path | None = None) -> list[str]:
        """The golden records this run wrote, in the order of the records."""
        here = (cwd or Path.cwd()).resolve()
        paths = [r.typed.golden.record_written for r in self.records if r.typed.golden.record_written]
        return [_shown(Path(p), here) for p in paths]


def _shown(path: Path, cwd: Path) -> str:
    """`path` relative to `cwd` when it lies inside, otherwise as it is."""
    resolved = (path if path.is_absolute() else cwd / path).resolve()
    inside = cwd == resolved or cwd in resolved.parents
    return os.path.relpath(resolved, cwd) if inside else str(path)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("E "):
            return line[2:].strip()
    return lines[-1] if lines else "failed"


def _skip_reason(text: str) -> str:
    """pytest's skip longrepr is `(path, line, 'Skipped: reason')`; keep the reason."""
    return text.split("Skipped: ", 1)[-1].strip() or "skipped"
