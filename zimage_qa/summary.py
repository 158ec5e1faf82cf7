"""The run's check records, gathered from test reports, and the end-of-run lines a person reads: the
summary's lines and the report's header, from the records and the session."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from zimage_qa.measure.units import format_bytes
from zimage_qa.measure.warnings_log import WarningRecord, new_warnings
from zimage_qa.records import CheckRecord, Family, summarise
from zimage_qa.verdict import Status

if TYPE_CHECKING:
    from zimage_qa.session import GateSession

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


def session_lines(gate: GateSession, wall_s: float) -> list[str]:
    """The summary's lines on the session itself: checks not collected, library warnings, the device lock's
    wait and what the run cost."""
    lines = [f"{reason}; {n} checks not collected" for reason, n in gate.not_collected.items()]
    lines += _warning_lines(gate)
    lines += [gate.lock_wait_line] if gate.lock_wait_line else []
    cost = cost_line(gate, wall_s)
    return lines + ([cost] if cost else [])


def cost_line(gate: GateSession, wall_s: float) -> str | None:
    """What the run cost against the model work it did: wall vs load plus generations."""
    if not gate.loaded:
        return None
    model = gate.model()
    work = model.load_s + model.generation_s
    return (
        f"session: wall {wall_s:.1f} s; load {model.load_s:.1f} s + {model.generations} "
        f"generations {model.generation_s:.1f} s = {work:.1f} s (wall / work {wall_s / work:.2f})"
    )


def card_text(gate: GateSession) -> str | None:
    """--qa-card-memory as the header says it, None without it."""
    card = gate.options.card_memory_bytes
    return None if card is None else f"card {format_bytes(card)} (--qa-card-memory)"


def report_header(gate: GateSession, wall_s: float) -> dict[str, str]:
    """The report's header: what was judged, where, and what the run cost."""
    header = {
        "model": gate.spec.label,
        "profile": gate.spec.profile,
        "variant": gate.variant,
        "device": gate.device_name() if gate.loaded else gate.expected_device(),
        "config": str(gate.config.source),
        "session": (cost_line(gate, wall_s) or "").removeprefix("session: "),
    }
    card = card_text(gate)
    if card is not None:
        header["card"] = card.removeprefix("card ")
    identity = gate.model().identity if gate.loaded else None
    if identity is not None:
        header["weights"] = identity.text
    records = gate.warnings.records
    if records:
        new = _new_warnings(gate)
        shown = new if new is not None else records
        header["warnings"] = (
            f"{len(records)} library warnings recorded (not failures)"
            + (f", {len(new)} new since the baseline" if new is not None else "")
            + "".join(f"; {r.describe()}" for r in shown[:5])
        )
    return header


def _warning_lines(gate: GateSession) -> list[str]:
    """Library warnings: recorded, never failures; those new since the baseline named."""
    records = gate.warnings.records
    if not records:
        return []
    lines = [f"warnings: {len(records)} distinct library warnings recorded during model work (not failures)"]
    new = _new_warnings(gate)
    if new is not None:
        lines.append(f"    new since the baseline: {len(new)}")
        lines.extend(f"    new: {r.describe()}" for r in new[:5])
    else:
        lines.extend(f"    {r.describe()}" for r in records[:3])
    return lines


def _new_warnings(gate: GateSession) -> tuple[WarningRecord, ...] | None:
    """Warnings of this run that the --qa-baseline run did not record (None without a baseline)."""
    baseline = gate.baseline()
    return None if baseline is None else new_warnings(gate.warnings.records, baseline.warnings)


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
