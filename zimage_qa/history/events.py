"""Upgrades on a group's timeline, and judging a series at them.

An event is a run whose software differs from the run before it in the same hardware group: driver,
CUDA, torch, diffusers, transformers, Python, kernel or weights. At each event of a series:
- a lasting change the level detector found at the event's run (or up to `min_runs - 1` runs off it,
  as noise can place a cut) is attributed to it;
- where the runs on either side are too few for levels (fewer than `min_runs` since the previous event
  or before the next one, such as one run before an upgrade and one after, or so few that a rank test
  on run values cannot reach alpha: 4 runs against 4), the rounds of the runs right before the event
  (up to `min_runs` of them; one run before: that run, never a mean) are compared with the rounds of
  the runs after it (`zimage_qa.measure.compare`: Mann-Whitney test, minimum effect = the metric's
  threshold, interval);
  metrics without rounds (stages, NFE, VRAM) need the threshold and, where the series has a noise
  estimate, `z` times it.
A short series with no event is judged the same way, its latest run against its first.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

import numpy as np

from zimage_qa.decision import Outcome, decide, rounds_interval
from zimage_qa.history.metrics import PRIMARY, MetricPolicy
from zimage_qa.history.records import Change, ChangeKind, Event, RunRef, SeriesVerdict, Status, Upgrade
from zimage_qa.history.records import relative_change as rel
from zimage_qa.history.series import Series
from zimage_qa.identity import Fields


def find_events(group: str, timeline: Sequence[tuple[RunRef, Fields]]) -> list[Event]:
    """Runs of one group whose software differs from the run before (fields missing on a side are kept)."""
    events = []
    for (_, before), (run, after) in itertools.pairwise(timeline):
        old, new = dict(before), dict(after)
        upgrades = tuple(
            Upgrade(name, old.get(name), new.get(name))
            for name in dict.fromkeys([*old, *new])
            if old.get(name) != new.get(name) and old.get(name) is not None and new.get(name) is not None
        )
        if upgrades:
            events.append(Event(group, run, upgrades))
    return events


def judge_at_events(
    series: Series, verdict: SeriesVerdict, events: Sequence[Event], policy: MetricPolicy
) -> SeriesVerdict:
    """The verdict with its changes attributed to events and the short stretches judged on rounds."""
    n, m = len(series.values), policy.min_runs
    at = _positions(series, events)
    changes = [_attributed(c, series, at, m) for c in verdict.changes]
    claimed = {c.run.index for c in changes}
    bounds = sorted(at)
    checks: list[tuple[int, Event | None]] = [(b, at[b]) for b in bounds]
    if verdict.status is Status.SHORT and not bounds and n >= 2:
        checks = [(n - 1, None)]  # a short series without an event: the latest run against the first
    for i, (b, event) in enumerate(checks):
        previous = bounds[i - 1] if event is not None and i else 0
        following = bounds[i + 1] if event is not None and i + 1 < len(bounds) else n
        short = b - previous < m or following - b < m or verdict.status is Status.SHORT
        # a level test on run values cannot reach alpha with few runs a side (4 against 4: p >= 0.029)
        unreachable = 2 / math.comb(following - previous, b - previous) > policy.alpha
        if not (short or unreachable) or series.runs[b].index in claimed:
            continue
        first = max(previous, b - m) if event is not None else 0
        found = _step(series, verdict, policy, (first, b) if event is not None else (0, 1), following, event)
        if found is not None:
            changes.append(found)
    return restate(verdict, changes)


def _positions(series: Series, events: Sequence[Event]) -> dict[int, Event]:
    """Series position of each event's run (the first run of the series at or after it)."""
    indexes = [r.index for r in series.runs]
    found: dict[int, Event] = {}
    for event in events:
        position = int(np.searchsorted(indexes, event.run.index))
        if 0 < position < len(indexes):
            found.setdefault(position, event)
    return found


def _attributed(change: Change, series: Series, at: dict[int, Event], min_runs: int) -> Change:
    if not at:
        return change
    position = next(i for i, r in enumerate(series.runs) if r.index == change.run.index)
    nearest = min(at, key=lambda b: (abs(b - position), b))
    if abs(nearest - position) > max(min_runs - 1, 1):
        return change
    event = at[nearest]
    return dataclasses.replace(change, run=series.runs[nearest], attribution=event.attribution)


def _step(
    series: Series,
    verdict: SeriesVerdict,
    policy: MetricPolicy,
    base: tuple[int, int],
    stop: int,
    event: Event | None,
) -> Change | None:
    """Runs [start, stop) against the runs `base` before them: up to `min_runs` runs right before the
    event (one run before it: that run), or the first run of a short series without an event."""
    start = base[1]
    x = series.values
    before, after = float(np.median(x[base[0] : base[1]])), float(np.median(x[start:stop]))
    threshold, direction = verdict.threshold, verdict.direction
    change = rel(after, before)
    p_value, low, high, method = math.nan, math.nan, math.nan, "levels"
    if series.metric == PRIMARY and all(series.rounds_at(i) for i in [*range(*base), *range(start, stop)]):
        earlier = [r for i in range(*base) for r in series.rounds_at(i) or ()]
        pooled = [r for i in range(start, stop) for r in series.rounds_at(i) or ()]
        result = decide(rounds_interval(earlier, pooled, policy.alpha), threshold, policy.alpha)
        if result.outcome not in (Outcome.REGRESSED, Outcome.IMPROVED):
            return None
        change, p_value, low, high, method = (
            result.change,
            math.nan,
            result.interval.low,
            result.interval.high,
            "rounds",
        )
        before, after = float(np.median(earlier)), float(np.median(pooled))
    elif not abs(change) >= threshold or abs(after - before) < policy.z * verdict.noise:
        return None
    kind = ChangeKind.REGRESSION if direction.worse(change) else ChangeKind.IMPROVEMENT
    latest = float(np.median(x[start:stop])) if stop == len(x) else float(np.median(x[-policy.min_runs :]))
    still = rel(latest, float(np.median(x[base[0] : base[1]])))
    is_open = kind is ChangeKind.REGRESSION and direction.worse(still) and abs(still) >= threshold / 2
    return Change(
        benchmark=series.benchmark,
        metric=series.metric,
        group=series.group.id,
        kind=kind,
        run=series.runs[start],
        change=change,
        before=before,
        after=after,
        latest=latest,
        open=is_open,
        runs_at_level=stop - start,
        z=math.nan,
        p_value=p_value,
        gradual=False,
        direction=direction,
        threshold=threshold,
        recovered_at=None if is_open or kind is ChangeKind.IMPROVEMENT else series.runs[-1],
        attribution=event.attribution if event else None,
        method=method,
        ci_low=low,
        ci_high=high,
    )


def restate(verdict: SeriesVerdict, changes: list[Change]) -> SeriesVerdict:
    """`verdict` (the level detector's) with `changes` in place of its own, status and pending to match."""
    if changes == list(verdict.changes):
        return verdict
    changes = sorted(changes, key=lambda c: c.run.index)
    regressions = [c for c in changes if c.kind is ChangeKind.REGRESSION]
    if any(c.open for c in regressions):
        status = Status.REGRESSED
    elif verdict.status in (Status.PENDING, Status.REGRESSED):
        status = verdict.status
    elif regressions:
        status = Status.RECOVERED
    elif changes:
        status = Status.IMPROVED
    else:
        status = verdict.status
    pending = verdict.pending
    if pending is not None and any(c.run.index >= pending.run.index for c in changes):
        pending = None  # the moved latest run(s) were judged on their rounds: a change, not pending
    return dataclasses.replace(verdict, changes=tuple(changes), status=status, pending=pending)
