"""The typed records a history analysis produces: runs, groups, changes, verdicts, the report.

Every output (terminal table, JSON, plots, HTML page) renders these same records. This module imports
nothing heavy, so `import zimage_qa.history` stays fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from zimage_qa.measure.runs import Skipped


class Direction(Enum):
    """Which way a metric gets worse."""

    LOWER_IS_BETTER = "lower_is_better"
    HIGHER_IS_BETTER = "higher_is_better"

    def worse(self, change: float) -> bool:
        """Whether a signed relative `change` (after/before - 1) is a change for the worse."""
        return change > 0 if self is Direction.LOWER_IS_BETTER else change < 0


class ChangeKind(Enum):
    REGRESSION = "regression"
    IMPROVEMENT = "improvement"


class Status(Enum):
    """Where a series stands at its latest run, in the order a reviewer should read them."""

    REGRESSED = "regressed"  # an open regression the rule confirmed: the latest runs are at the worse level
    SUSPECTED = (
        "suspected"  # worse by the threshold at the latest runs, not yet confirmed (open all the same)
    )
    PENDING = "pending"  # the latest run(s) moved, too few runs yet to call it lasting
    NOT_JUDGED = (
        "not_judged"  # the latest upgrade could not be judged (too few runs or rounds), nothing worse seen
    )
    RECOVERED = "recovered"  # regressed once, back within the threshold since
    IMPROVED = "improved"  # a lasting improvement, nothing open
    OK = "ok"  # no lasting change beyond the threshold
    SHORT = "short"  # too few runs to judge

    @property
    def rank(self) -> int:
        return list(Status).index(self)

    @property
    def label(self) -> str:
        """As the table and page print it."""
        return _STATUS_LABELS.get(self, self.value)


_STATUS_LABELS = {
    Status.REGRESSED: "REGRESSED",
    Status.SUSPECTED: "suspected (unconfirmed)",
    Status.NOT_JUDGED: "not judged",
}


@dataclass(frozen=True)
class RunRef:
    """One saved run as a reviewer finds it: position in its group, file, commit and date."""

    index: int
    file: str
    commit: str | None
    date: str | None

    @property
    def label(self) -> str:
        commit = (self.commit or "unknown commit")[:12]
        date = (self.date or "no date")[:19].replace("T", " ")
        return f"run {self.index + 1} ({commit}, {date})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,  # 0-based position among its group's runs, oldest first
            "number": self.index + 1,  # as the table and page say it: "run 20"
            "file": self.file,
            "commit": self.commit,
            "date": self.date,
        }


@dataclass(frozen=True)
class Fingerprint:
    """What must match for two runs to be compared: hardware, driver, CUDA, model, device."""

    fields: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        text = "\n".join(f"{k}={v}" for k, v in self.fields)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]

    @property
    def label(self) -> str:
        return " | ".join(f"{k} {v}" for k, v in self.fields) or "unknown machine"

    def to_dict(self) -> dict[str, str]:
        return dict(self.fields)


@dataclass(frozen=True)
class Level:
    """A stretch of runs `[start, stop)` (series positions) at one level (the median)."""

    start: int
    stop: int
    value: float


@dataclass(frozen=True)
class Change:
    """A change of a metric: first run at the new level, signed relative size, open or not.

    `confirmed`: the rule (`zimage_qa.history.rule`) decided it; otherwise it is *suspected*: worse by the
    threshold or more, not yet decided, with `undecided` saying why and what would decide it. `method` says
    what was compared: "levels" (run values at two levels), "runs" (run values either side of an upgrade),
    "rounds" (the rounds of the runs either side of an upgrade) or "trend" (a creep over the runs since the
    last change: Theil-Sen, first to last). `ci_low`/`ci_high` are the rule's interval of the change.
    """

    benchmark: str
    metric: str
    group: str
    kind: ChangeKind
    run: RunRef
    change: float
    before: float
    after: float
    latest: float
    open: bool
    runs_at_level: int
    z: float
    gradual: bool
    direction: Direction
    threshold: float
    recovered_at: RunRef | None = None
    attribution: str | None = None  # the upgrade at this run: 'diffusers 0.42.1 → 0.43.0, torch ...'
    method: str = "levels"
    ci_low: float = math.nan
    ci_high: float = math.nan
    confirmed: bool = True
    undecided: str | None = None  # unconfirmed: '8 vs 3 runs; about 4 runs at the new level would decide it'
    needed: int | None = None  # unconfirmed: the runs (or rounds a side) that would decide it, where known

    @property
    def suspected(self) -> bool:
        return not self.confirmed

    @property
    def creep(self) -> bool:
        return self.method == "trend"

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self, creep=self.creep)


@dataclass(frozen=True)
class NotJudged:
    """A comparison the rule could not decide and that does not point worse by the threshold: the runs
    from `run` on against those before an upgrade (or a short series' latest run against the runs before
    it), with what would decide it.

    `current`: nothing was judged after it in this series, so it stands at the latest run (a failure
    under `zqa history --strict`)."""

    benchmark: str
    metric: str
    group: str
    run: RunRef
    change: float
    ci_low: float
    ci_high: float
    n_before: int
    n_after: int
    unit: str  # "rounds" or "runs"
    undecided: str  # 'too few rounds for a bounded interval; about 9 rounds a side would decide it'
    needed: int | None
    current: bool
    attribution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self)


@dataclass(frozen=True)
class Upgrade:
    """One software field that changed between two runs of a group: 'diffusers 0.42.1 → 0.43.0'."""

    name: str
    before: str | None
    after: str | None

    @property
    def text(self) -> str:
        return f"{self.name} {self.before or 'none'} → {self.after or 'none'}"


@dataclass(frozen=True)
class Event:
    """An upgrade on a group's timeline: the first run with the new software, and what changed."""

    group: str
    run: RunRef
    upgrades: tuple[Upgrade, ...]

    @property
    def attribution(self) -> str:
        return ", ".join(u.text for u in self.upgrades)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "run": self.run.to_dict(),
            "upgrades": [{"name": u.name, "before": u.before, "after": u.after} for u in self.upgrades],
            "attribution": self.attribution,
        }


@dataclass(frozen=True)
class ChangePoint:
    """One run where things moved, or software changed: everything it moved, and what could not be judged
    there, every benchmark and metric."""

    group: str
    run: RunRef
    event: Event | None
    changes: tuple[Change, ...]
    not_judged: tuple[NotJudged, ...] = ()

    @property
    def open(self) -> bool:
        return any(c.open and c.kind is ChangeKind.REGRESSION for c in self.changes)

    @property
    def headline(self) -> str:
        """'at run 7: diffusers 0.42.1 → 0.43.0, torch 2.11.0 → 2.12.0: +12.0% median' and the like; what
        the rule could not decide says so: 'not judged: median +2.0% [-100.0%, +inf] (3 vs 3 rounds; ...)'."""
        cause = self.event.attribution if self.event else "no software change recorded"
        parts = []
        confirmed = [c for c in self.changes if c.confirmed]
        primary = [c.change for c in confirmed if c.metric == "median"]
        if primary:
            creep = " (creep)" if any(c.creep for c in confirmed if c.metric == "median") else ""
            parts.append(f"{_span(primary)} median{creep}")
        elif confirmed:
            parts.append(", ".join(sorted({f"{c.metric} {_pct(c.change)}" for c in confirmed})))
        suspected = [c for c in self.changes if not c.confirmed]
        if suspected and not primary:
            parts.append(_undecided("suspected", suspected, self.event is not None))
        if self.not_judged and not primary and not suspected:
            parts.append(_undecided("not judged", list(self.not_judged), True))
        moved = "; ".join(parts) or "no lasting change"
        state = " (open)" if self.open else ""
        return f"at run {self.run.index + 1}: {cause}: {moved}{state}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "run": self.run.to_dict(),
            "attribution": self.event.attribution if self.event else None,
            "upgrades": self.event.to_dict()["upgrades"] if self.event else [],
            "headline": self.headline,
            "open": self.open,
            "moved": [
                {
                    "benchmark": c.benchmark,
                    "metric": c.metric,
                    "kind": c.kind.value,
                    "change": _json_float(c.change),
                    "before": _json_float(c.before),
                    "after": _json_float(c.after),
                    "open": c.open,
                    "confirmed": c.confirmed,
                    "method": c.method,
                }
                for c in self.changes
            ],
            "not_judged": [n.to_dict() for n in self.not_judged],
        }


def _undecided(label: str, found: Sequence[Change | NotJudged], at_event: bool) -> str:
    """'suspected median +13.9% [-100.0%, +inf] (8 vs 3 runs; ...)' for one finding (the median's where
    there is one); for several, the range of their changes and the longest of what would decide them."""
    primary = [f for f in found if f.metric == "median"] or list(found)
    shown = max(primary, key=lambda f: (f.needed or 0, abs(f.change)))
    what = ", ".join(sorted({f.metric for f in primary}))
    if len(primary) == 1:
        size = f"{_pct(shown.change)} [{_pct(shown.ci_low)}, {_pct(shown.ci_high)}]"
    else:
        size = _span([f.change for f in primary])
    prefix = "not judged: " if at_event and label == "suspected" else ""
    return f"{prefix}{label} {what} {size} ({shown.undecided})"


@dataclass(frozen=True)
class Blip:
    """Runs off their level that do not make a lasting change: a spike, or the latest run(s) (pending)."""

    benchmark: str
    metric: str
    group: str
    run: RunRef
    runs: int
    change: float
    value: float
    level: float
    worse: bool

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self)


@dataclass(frozen=True)
class SeriesVerdict:
    """One benchmark x group x metric over its runs: levels, lasting changes, spikes, status."""

    benchmark: str
    metric: str
    group: str
    direction: Direction
    threshold: float
    status: Status
    runs: int
    baseline: float
    latest: float
    latest_value: float
    noise: float
    levels: tuple[Level, ...] = ()
    changes: tuple[Change, ...] = ()
    spikes: tuple[Blip, ...] = ()
    pending: Blip | None = None
    not_judged: tuple[NotJudged, ...] = ()

    @property
    def change(self) -> float:
        return relative_change(self.latest, self.baseline)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.group, self.benchmark, self.metric)

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "metric": self.metric,
            "group": self.group,
            "status": self.status.value,
            "runs": self.runs,
            "baseline": _json_float(self.baseline),
            "latest": _json_float(self.latest),
            "latest_value": _json_float(self.latest_value),
            "change": _json_float(self.change),
            "noise": _json_float(self.noise),
            "direction": self.direction.value,
            "threshold": self.threshold,
            "levels": [{"start": lv.start, "stop": lv.stop, "value": lv.value} for lv in self.levels],
        }


@dataclass(frozen=True)
class GroupInfo:
    fingerprint: Fingerprint
    runs: int
    benchmarks: int
    first: RunRef
    last: RunRef

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.fingerprint.id,
            "label": self.fingerprint.label,
            "fingerprint": self.fingerprint.to_dict(),
            "runs": self.runs,
            "benchmarks": self.benchmarks,
            "first": self.first.to_dict(),
            "last": self.last.to_dict(),
        }


@dataclass(frozen=True)
class HistoryReport:
    """Everything `zqa history` found; the one object every output renders."""

    verdicts: tuple[SeriesVerdict, ...]
    groups: tuple[GroupInfo, ...]
    files: int
    runs: int
    skipped: tuple[Skipped, ...] = ()
    duplicates: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    events: tuple[Event, ...] = ()

    @property
    def change_points(self) -> list[ChangePoint]:
        """One entry per run where software changed, something moved, or a comparison was not judged,
        open ones first."""
        by_run: dict[tuple[str, int], list[Change]] = {}
        undecided: dict[tuple[str, int], list[NotJudged]] = {}
        for verdict in self.verdicts:
            for change in verdict.changes:
                by_run.setdefault((change.group, change.run.index), []).append(change)
            for item in verdict.not_judged:
                undecided.setdefault((item.group, item.run.index), []).append(item)
        events = {(e.group, e.run.index): e for e in self.events}
        points = []
        for key in {**dict.fromkeys(events), **dict.fromkeys(by_run), **dict.fromkeys(undecided)}:
            changes = sorted(by_run.get(key, []), key=lambda c: (c.benchmark, c.metric != "median", c.metric))
            skipped = sorted(
                undecided.get(key, []), key=lambda n: (n.benchmark, n.metric != "median", n.metric)
            )
            event = events.get(key)
            run = event.run if event else changes[0].run if changes else skipped[0].run
            points.append(ChangePoint(key[0], run, event, tuple(changes), tuple(skipped)))
        return sorted(points, key=lambda p: (not p.open, p.group, p.run.index))

    @property
    def regressions(self) -> list[Change]:
        """Confirmed and suspected regressions, open ones first."""
        return self._changes(ChangeKind.REGRESSION)

    @property
    def improvements(self) -> list[Change]:
        return self._changes(ChangeKind.IMPROVEMENT)

    @property
    def open_regressions(self) -> list[Change]:
        """Regressions open at the latest run, confirmed or suspected."""
        return [c for c in self.regressions if c.open]

    @property
    def suspected(self) -> list[Change]:
        """Open regressions the rule has not confirmed yet."""
        return [c for c in self.open_regressions if not c.confirmed]

    @property
    def not_judged(self) -> list[NotJudged]:
        """Comparisons the rule could not decide that stand at the latest run of their series."""
        return [n for v in self.verdicts for n in v.not_judged if n.current]

    @property
    def spikes(self) -> list[Blip]:
        return [s for v in self.verdicts for s in v.spikes]

    @property
    def pending(self) -> list[Blip]:
        return [v.pending for v in self.verdicts if v.pending is not None]

    @property
    def exit_code(self) -> int:
        """1 while a regression is open at the latest run (confirmed or suspected) or the latest run(s)
        moved the worse way (pending); else 0."""
        return 1 if self.open_regressions or any(p.worse for p in self.pending) else 0

    def strict_exit_code(self) -> int:
        """`exit_code`, and 1 too while a comparison at the latest run could not be judged."""
        return 1 if self.exit_code or self.not_judged else 0

    def group(self, group_id: str) -> GroupInfo | None:
        return next((g for g in self.groups if g.fingerprint.id == group_id), None)

    def _changes(self, kind: ChangeKind) -> list[Change]:
        found = [c for v in self.verdicts for c in v.changes if c.kind is kind]
        return sorted(found, key=lambda c: (not c.open, -abs(c.change), c.benchmark, c.metric))

    def to_dict(self) -> dict[str, Any]:
        return {
            "regressions": [c.to_dict() for c in self.regressions],
            "events": [p.to_dict() for p in self.change_points],
            "improvements": [c.to_dict() for c in self.improvements],
            "open": len(self.open_regressions),
            "suspected": len(self.suspected),
            "not_judged": [n.to_dict() for v in self.verdicts for n in v.not_judged],
            "spikes": [s.to_dict() for s in self.spikes],
            "pending": [p.to_dict() for p in self.pending],
            "groups": [g.to_dict() for g in self.groups],
            "series": [v.to_dict() for v in self.verdicts],
            "files": self.files,
            "runs": self.runs,
            "duplicates": self.duplicates,
            "skipped": [{"file": s.file, "reason": s.reason} for s in self.skipped],
            "settings": self.settings,
        }


def relative_change(after: float, before: float) -> float:
    if before == 0:
        return 0.0 if after == 0 else math.copysign(math.inf, after)
    return (after - before) / abs(before)


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _json_fields(record: Any, **extra: Any) -> dict[str, Any]:
    """A finding's fields as `zqa history --json` writes them (run references as their dicts, enums as their
    values, a NaN or an infinity as null), then `extra`."""
    found = {f.name: _json_value(getattr(record, f.name)) for f in dataclasses.fields(record)}
    return {**found, **extra}


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, RunRef):
        return value.to_dict()
    return value


def _pct(change: float) -> str:
    if math.isnan(change):
        return "n/a"
    return f"{change * 100:+.1f}%" if math.isfinite(change) else ("+inf" if change > 0 else "-inf")


def _span(changes: Sequence[float]) -> str:
    low, high = min(changes), max(changes)
    return _pct(low) if _pct(low) == _pct(high) else f"{_pct(low)} to {_pct(high)}"
