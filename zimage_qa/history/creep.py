"""Slow creep: the median of the latest runs drifting steadily, each step below the threshold, until the
drift adds up to it.

The window is the runs since the series' last *anchor* (a change at an upgrade, a recovered regression or
an improvement, a comparison not judged at an upgrade), at most the latest `WINDOW` runs, without a pending
run or two at the end; spikes are set aside, the other runs keeping their places. A Theil-Sen trend over
it is judged by the rule against the threshold, first to last (`zimage_qa.history.rule.creep`): regressed
or improved is a creep (a change with method "trend"). An undecided trend is no finding: a trend over a
short, noisy window is often worse by the threshold by chance (on labelled no-change histories such
"suspected creeps" made 0.3-0.7 % of them red), and a creep that lasts is confirmed within a few runs.

The level fit cuts a ramp into steps, and an open regression it found there without an upgrade is the
same drift seen as levels. Where such steps are in the window, a trend may start at its first run or after
`min_runs` runs of it (the levels before: a ramp after a flat stretch); the best of those the rule
confirms replaces the steps after its start when it describes the window's runs better than the levels
do, by BIC with Laplace errors (absolute residuals around the line and the levels' medians; a line costs
2 parameters, each level 2 with its cut, a start 1). A real step leaves a line far off on both sides of
it, so a step is not reported again as a creep. Only the median is watched: stage times are parts of it,
measured once a run. Fewer than `MIN_RUNS` runs make no trend.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from zimage_qa.history.detector import restate
from zimage_qa.history.metrics import MetricPolicy
from zimage_qa.history.records import Change, ChangeKind, SeriesVerdict
from zimage_qa.history.rule import creep
from zimage_qa.history.series import Series
from zimage_qa.measure.runs import PRIMARY

WINDOW = 60  # the latest runs a trend is fitted over: slower creeps are steps to the level fit
MIN_RUNS = 8


def with_creep(series: Series, verdict: SeriesVerdict, policy: MetricPolicy) -> SeriesVerdict:
    """`verdict` with a creep over its latest runs, where there is one (see the module docstring)."""
    if series.metric != PRIMARY or not verdict.levels:
        return verdict
    n = len(series.values)
    position = {r.index: i for i, r in enumerate(series.runs)}
    steps = [c for c in verdict.changes if _step_of_a_ramp(c)]
    anchors = [c.run.index for c in verdict.changes if c not in steps]
    anchors += [j.run.index for j in verdict.not_judged]
    stop = n - (verdict.pending.runs if verdict.pending is not None else 0)
    start = max([position[i] for i in anchors if i in position] + [0, stop - WINDOW])
    steps = [c for c in steps if position.get(c.run.index, -1) >= start]
    shortest = max(MIN_RUNS, 2 * policy.min_runs)
    keep = _kept(series, verdict, position)
    if int(keep[start:stop].sum()) < shortest:
        return verdict
    fit = _Fit(series, verdict, policy, keep, stop)
    if not steps:
        found = fit.creep(start)
        return verdict if found is None else _with(verdict, [*verdict.changes, found[0]], found[0], start)
    scores = []
    for hinge in [start, *range(start + policy.min_runs, stop - shortest + 1)]:
        found = fit.creep(hinge)
        if found is not None:
            flat, levels = fit.levels(start, hinge)
            parameters = 2 if hinge == start else 2 * levels + 2  # a line; levels, a hinge and a line
            scores.append((fit.criterion(start, flat + found[1], parameters), hinge, found[0]))
    if not scores:
        return verdict
    score, hinge, change = min(scores, key=lambda f: f[0])
    residual, levels = fit.levels(start, stop)
    if score >= fit.criterion(start, residual, 2 * levels - 1):
        return verdict
    kept = [c for c in verdict.changes if c not in steps or position[c.run.index] < hinge]
    return _with(verdict, [*kept, change], change, hinge)


def _with(verdict: SeriesVerdict, changes: list[Change], creep: Change, start: int) -> SeriesVerdict:
    """The verdict with `changes`; its latest value the line's at the latest run (and its baseline the
    line's first value where the creep starts the series)."""
    restated = restate(verdict, changes)
    baseline = creep.before if start == 0 else restated.baseline
    return dataclasses.replace(restated, latest=creep.after, baseline=baseline)


def _step_of_a_ramp(change: Change) -> bool:
    """An open regression the level fit found with no upgrade at it: maybe a cut through a ramp."""
    return change.method == "levels" and change.open and change.attribution is None


def _kept(series: Series, verdict: SeriesVerdict, position: dict[int, int]) -> NDArray[np.bool_]:
    """The runs a trend is fitted to: all but the spikes (reported apart; a spike near the end of a short
    window would tilt the line)."""
    keep = np.ones(len(series.values), dtype=bool)
    for spike in verdict.spikes:
        at = position.get(spike.run.index)
        if at is not None:
            keep[at : at + spike.runs] = False
    return keep


@dataclass(frozen=True)
class _Fit:
    """Trends and levels over the kept runs of a window ending at `stop`."""

    series: Series
    verdict: SeriesVerdict
    policy: MetricPolicy
    keep: NDArray[np.bool_]
    stop: int

    def creep(self, start: int) -> tuple[Change, float] | None:
        """The creep over the kept runs of [start, stop) with the sum of its absolute residuals, or None."""
        series, verdict, stop = self.series, self.verdict, self.stop
        at = np.flatnonzero(self.keep[start:stop])
        if len(at) < 2:
            return None
        x = series.values[start:stop][at]
        fitted = creep(x.tolist(), at.tolist(), verdict.threshold, verdict.direction, self.policy.alpha)
        if fitted is None:
            return None
        judged, line = fitted
        if not judged.confirmed:
            return None
        first, last = line.start, line.start + line.slope * (stop - start - 1)
        worse = verdict.direction.worse(judged.change)
        change = Change(
            benchmark=series.benchmark,
            metric=series.metric,
            group=series.group.id,
            kind=ChangeKind.REGRESSION if worse else ChangeKind.IMPROVEMENT,
            run=series.runs[start],
            change=judged.change,
            before=first,
            after=last,
            latest=last,
            open=worse,
            runs_at_level=stop - start,
            z=math.nan,
            gradual=True,
            direction=verdict.direction,
            threshold=verdict.threshold,
            method="trend",
            ci_low=judged.low,
            ci_high=judged.high,
        )
        return change, float(np.abs(x - (line.start + line.slope * at)).sum())

    def levels(self, start: int, stop: int) -> tuple[float, int]:
        """The sum of absolute residuals of the kept runs of [start, stop) around the medians of their
        levels' parts there, and how many levels that is."""
        total, count = 0.0, 0
        for level in self.verdict.levels:
            a, b = max(level.start, start), min(level.stop, stop)
            part = self.series.values[a:b][self.keep[a:b]] if b > a else self.series.values[:0]
            if len(part):
                total += float(np.abs(part - np.median(part)).sum())
                count += 1
        return total, count

    def criterion(self, start: int, residual: float, parameters: int) -> float:
        """BIC with Laplace errors over the kept runs of [start, stop): runs * log(mean absolute residual)
        + parameters * log(runs)."""
        runs = int(self.keep[start : self.stop].sum())
        return runs * math.log(max(residual / runs, 1e-12)) + parameters * math.log(runs)
