"""Slow creep: the median of the latest runs drifting steadily, each step below the threshold, until the
drift adds up to it.

The window is the runs since the series' last *anchor* (a change at an upgrade, a recovered regression or
an improvement, a comparison not judged at an upgrade), at most the latest `WINDOW` runs, without a pending
run or two at the end. A Theil-Sen trend over it is judged by the rule against the threshold, first to last
(`zimage_qa.history.rule.creep`): regressed or improved is a creep (a change with method "trend",
confirmed); undecided with the estimate worse by the threshold or more, a suspected creep.

The level fit cuts a ramp into steps, and an open regression it found there without an upgrade is the
same drift seen as levels. Where such steps are in the window, a trend may start at any run of it (with the
levels before that run: a ramp after a flat stretch); the closest fit of those the rule confirms replaces
the steps after its start when it fits the window's runs closer than the levels alone do, by `CLOSER`
(sums of absolute residuals around the trend line and the levels' medians; a trend that may start
anywhere fits noise a little closer than levels do). A real step leaves a trend line far off on both sides of
it, so a step is never reported again as a creep. Only the median is watched: stage times are parts of it, measured once a run.
Fewer than `MIN_RUNS` runs make no trend.
"""

from __future__ import annotations

import math

import numpy as np

from zimage_qa.history.detector import restate
from zimage_qa.history.metrics import PRIMARY, MetricPolicy
from zimage_qa.history.records import Change, ChangeKind, SeriesVerdict
from zimage_qa.history.rule import creep
from zimage_qa.history.series import Series

WINDOW = 60  # the latest runs a trend is fitted over: slower creeps are steps to the level fit
MIN_RUNS = 8
CLOSER = 0.9  # a trend replaces level steps where its residuals are at most this share of the levels'


def with_creep(series: Series, verdict: SeriesVerdict, policy: MetricPolicy) -> SeriesVerdict:
    """`verdict` with a creep over its latest runs, where there is one (see the module docstring)."""
    if series.metric != PRIMARY or not verdict.levels:
        return verdict
    x, n = series.values, len(series.values)
    position = {r.index: i for i, r in enumerate(series.runs)}
    steps = [c for c in verdict.changes if _step_of_a_ramp(c)]
    anchors = [c.run.index for c in verdict.changes if c not in steps] + [
        j.run.index for j in verdict.not_judged
    ]
    stop = n - (verdict.pending.runs if verdict.pending is not None else 0)
    start = max([position[i] for i in anchors if i in position] + [0, stop - WINDOW])
    steps = [c for c in steps if position.get(c.run.index, -1) >= start]
    shortest = max(MIN_RUNS, 2 * policy.min_runs)
    if stop - start < shortest:
        return verdict
    if not steps:
        found = _creep(series, verdict, policy, start, stop)
        return verdict if found is None else restate(verdict, [*verdict.changes, found[0]])
    fits = []
    for hinge in range(start, stop - shortest + 1):
        found = _creep(series, verdict, policy, hinge, stop)
        if found is not None and found[0].confirmed:
            fits.append((_level_residual(x, verdict, start, hinge) + found[1], hinge, found[0]))
    if not fits:
        return verdict
    residual, hinge, change = min(fits, key=lambda f: f[0])
    if residual > CLOSER * _level_residual(x, verdict, start, stop):
        return verdict
    return restate(
        verdict, [c for c in verdict.changes if c not in steps or position[c.run.index] < hinge] + [change]
    )


def _step_of_a_ramp(change: Change) -> bool:
    """An open regression the level fit found with no upgrade at it: maybe a cut through a ramp."""
    return change.method == "levels" and change.open and change.attribution is None


def _creep(
    series: Series, verdict: SeriesVerdict, policy: MetricPolicy, start: int, stop: int
) -> tuple[Change, float] | None:
    """The creep over runs [start, stop) with the sum of its absolute residuals, or None."""
    x = series.values[start:stop]
    fitted = creep(x.tolist(), range(len(x)), verdict.threshold, verdict.direction, policy.alpha)
    if fitted is None:
        return None
    judged, line = fitted
    if not (judged.confirmed or judged.suspected):
        return None
    values = line.start + line.slope * np.arange(len(x))
    worse = verdict.direction.worse(judged.change)
    change = Change(
        benchmark=series.benchmark,
        metric=series.metric,
        group=series.group.id,
        kind=ChangeKind.REGRESSION if worse else ChangeKind.IMPROVEMENT,
        run=series.runs[start],
        change=judged.change,
        before=float(values[0]),
        after=float(values[-1]),
        latest=float(values[-1]),
        open=worse,
        runs_at_level=len(x),
        z=math.nan,
        gradual=True,
        direction=verdict.direction,
        threshold=verdict.threshold,
        method="trend",
        ci_low=judged.low,
        ci_high=judged.high,
        confirmed=judged.confirmed,
        undecided=None if judged.confirmed else judged.undecided(f"a trend over {len(x)} runs", "runs", None),
    )
    return change, float(np.abs(x - values).sum())


def _level_residual(x: np.ndarray, verdict: SeriesVerdict, start: int, stop: int) -> float:
    """The sum of absolute residuals of runs [start, stop) around the medians of their levels' parts there."""
    total = 0.0
    for level in verdict.levels:
        part = x[max(level.start, start) : min(level.stop, stop)]
        if len(part):
            total += float(np.abs(part - np.median(part)).sum())
    return total
