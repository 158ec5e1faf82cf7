"""Upgrades on a group's timeline, and judging a series at them.

An event is a run whose software differs from the run before it in the same hardware group: driver,
CUDA, torch, diffusers, transformers, Python, kernel or weights. At each event of a series:
- a change the level detector found at the event's run (or up to `min_runs - 1` runs off it, as noise can
  place a cut) is attributed to it;
- otherwise the median is judged by the rule (`zimage_qa.history.rule`, the metric's threshold as minimum
  effect): where the runs on either side are too few for levels (fewer than `min_runs` since the previous
  event or before the next one, such as one run before an upgrade and one after, or so few that no
  interval on run values is bounded at alpha: 4 runs against 4), the rounds of the runs right before the
  event (up to `min_runs` of them; one run before: that run, never a mean) against the rounds of the runs
  after it; elsewhere the run values of the level before the event against those of the level after it.
  Regressed or improved is a change; undecided and worse by the threshold or more, a suspected regression;
  otherwise undecided is *not judged*, with the rounds or runs that would decide it; the same is nothing;
- on a short stretch, the other metrics (stages, NFE, VRAM: no rounds) that moved by the threshold, and
  by `z` times the series' noise where it has one, are compared by the rule on run values, which one or
  two runs a side never decide: suspected, or not judged. A stage time stands with its benchmark's median
  at that run (see `judge_at_events`).
A short series with no event is judged the same way, its latest run against the runs before it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np

from zimage_qa.decision import Outcome
from zimage_qa.history.detector import restate
from zimage_qa.history.metrics import MetricPolicy, stage_time
from zimage_qa.history.records import Change, ChangeKind, Event, NotJudged, RunRef, SeriesVerdict, Upgrade
from zimage_qa.history.records import relative_change as rel
from zimage_qa.history.rule import compare
from zimage_qa.history.series import Series
from zimage_qa.identity import Fields
from zimage_qa.measure.runs import PRIMARY


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


Medians = Mapping[tuple[str, str, int], str]  # (group, benchmark, run index) -> 'moved' or 'not judged'


def judge_at_events(
    series: Series,
    verdict: SeriesVerdict,
    events: Sequence[Event],
    policy: MetricPolicy,
    medians: Medians | None = None,
) -> SeriesVerdict:
    """The verdict with its changes attributed to events and each unclaimed event judged by the rule.

    `medians`: what the rule made of each benchmark's median at each run it judged (the median's own
    series were judged first). A stage time compared across a short stretch stands with it, as one run's
    stage medians jitter by more than 5 %: kept where the median moved, not judged where the median was
    not judged, dropped where the rule called the median the same."""
    n, m = len(series.values), policy.min_runs
    at = _positions(series, events)
    changes = [_attributed(c, series, at, m) for c in verdict.changes]
    claimed = {c.run.index for c in changes}
    bounds = sorted(at)
    checks: list[tuple[int, Event | None]] = [(b, at[b]) for b in bounds]
    if not verdict.levels and not bounds and n >= 2:
        checks = [(n - 1, None)]  # a short series without an event: its latest run against those before
    skipped: list[NotJudged] = []
    for i, (b, event) in enumerate(checks):
        previous = bounds[i - 1] if event is not None and i else 0
        following = bounds[i + 1] if event is not None and i + 1 < len(bounds) else n
        if series.runs[b].index in claimed:
            continue
        median = (medians or {}).get((series.group.id, series.benchmark, series.runs[b].index))
        if stage_time(series.metric) and median is None:
            continue
        found = _judged(series, verdict, policy, (previous, b, following), event, median == "not judged")
        if isinstance(found, Change):
            changes.append(found)
        elif found is not None:
            skipped.append(found)
    later = [c.run.index for c in changes]
    skipped = [
        dataclasses.replace(j, current=j.current and all(i <= j.run.index for i in later)) for j in skipped
    ]
    return restate(verdict, changes, [*verdict.not_judged, *skipped])


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


def _judged(
    series: Series,
    verdict: SeriesVerdict,
    policy: MetricPolicy,
    span: tuple[int, int, int],
    event: Event | None,
    demote: bool,
) -> Change | NotJudged | None:
    """The runs [b, following) against those before the event at `b` (see the module docstring);
    `demote`: a suspected change is only not judged (a stage time whose median was not judged)."""
    previous, b, following = span
    m, primary = policy.min_runs, series.metric == PRIMARY
    short = b - previous < m or following - b < m or not verdict.levels
    unreachable = 2 / math.comb(following - previous, b - previous) > policy.alpha
    level_start = next((lv.start for lv in verdict.levels if lv.start <= b - 1 < lv.stop), 0)
    runs_before = (max(previous, level_start), b)
    if short or unreachable:
        rounds_before = (max(previous, b - m), b)
        rounds = primary and all(series.rounds_at(i) for i in range(rounds_before[0], following))
        before = rounds_before if rounds else runs_before
        if not (primary or _moved(series, verdict, policy, before, (b, following))):
            return None
        return _finding(series, verdict, policy, before, (b, following), event, rounds=rounds, demote=demote)
    if not primary:
        return None  # long stretches: the other metrics' levels are the detector's
    level_stop = next(lv.stop for lv in verdict.levels if lv.start <= b < lv.stop)
    return _finding(
        series, verdict, policy, runs_before, (b, min(following, level_stop)), event, rounds=False
    )


def _moved(
    series: Series,
    verdict: SeriesVerdict,
    policy: MetricPolicy,
    before: tuple[int, int],
    after: tuple[int, int],
) -> bool:
    """Whether a metric without rounds moved by its threshold, and by `z` times its noise where known."""
    x = series.values
    earlier, later = float(np.median(x[slice(*before)])), float(np.median(x[slice(*after)]))
    return abs(rel(later, earlier)) >= verdict.threshold and abs(later - earlier) >= policy.z * verdict.noise


def _finding(
    series: Series,
    verdict: SeriesVerdict,
    policy: MetricPolicy,
    before: tuple[int, int],
    after: tuple[int, int],
    event: Event | None,
    *,
    rounds: bool,
    demote: bool = False,
) -> Change | NotJudged | None:
    """The rule on the rounds (or run values) of `after` against `before`: a change, confirmed or
    suspected; not judged; or None where the rule calls them the same."""
    x, threshold, direction = series.values, verdict.threshold, verdict.direction
    if rounds:
        earlier = [r for i in range(*before) for r in series.rounds_at(i) or ()]
        later = [r for i in range(*after) for r in series.rounds_at(i) or ()]
        unit, more = "rounds", "rounds a side"
    else:
        earlier, later = x[slice(*before)].tolist(), x[slice(*after)].tolist()
        unit, more = "runs", "runs after the upgrade" if event is not None else "runs"
    judged = compare(earlier, later, threshold, direction, policy.alpha, runs=not rounds)
    if judged.outcome is Outcome.SAME:
        return None
    run, attribution = series.runs[after[0]], event.attribution if event else None
    sides = f"{len(earlier)} vs {len(later)} {unit}"
    undecided = None if judged.confirmed else judged.undecided(sides, unit, more)
    if not (judged.confirmed or (judged.suspected and not demote)):
        return NotJudged(
            benchmark=series.benchmark,
            metric=series.metric,
            group=series.group.id,
            run=run,
            change=judged.change,
            ci_low=judged.low,
            ci_high=judged.high,
            n_before=len(earlier),
            n_after=len(later),
            unit=unit,
            undecided=undecided or "",
            needed=judged.needed,
            current=after[1] == len(x),
            attribution=attribution,
        )
    base = float(np.median(x[slice(*before)]))
    latest = (
        float(np.median(x[slice(*after)])) if after[1] == len(x) else float(np.median(x[-policy.min_runs :]))
    )
    still = rel(latest, base)
    kind = ChangeKind.REGRESSION if direction.worse(judged.change) else ChangeKind.IMPROVEMENT
    is_open = kind is ChangeKind.REGRESSION and direction.worse(still) and abs(still) >= threshold / 2
    return Change(
        benchmark=series.benchmark,
        metric=series.metric,
        group=series.group.id,
        kind=kind,
        run=run,
        change=judged.change,
        before=float(np.median(earlier)),
        after=float(np.median(later)),
        latest=latest,
        open=is_open,
        runs_at_level=after[1] - after[0],
        z=math.nan,
        gradual=False,
        direction=direction,
        threshold=threshold,
        recovered_at=None if is_open or kind is ChangeKind.IMPROVEMENT else series.runs[-1],
        attribution=attribution,
        method="rounds" if rounds else "runs",
        ci_low=judged.low,
        ci_high=judged.high,
        confirmed=judged.confirmed,
        undecided=undecided,
        needed=None if judged.confirmed else judged.needed,
    )
