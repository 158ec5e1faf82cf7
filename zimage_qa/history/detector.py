"""Judging one series: which level changes are lasting regressions or improvements, which are spikes.

Levels come from `steps.fit_levels`. A level is compared with the reference level (the first level, then
the level after each confirmed change, so that a creep of small steps is reported once it adds up). A
change is *confirmed* when all of these hold:
- its relative size is at least the metric's threshold (5% by default);
- the new level lasts at least `min_runs` runs (3 by default), so a one- or two-run spike never counts;
- at least `min_runs` runs of each level sit on its side of the midpoint;
- the medians are at least `z` standard errors apart (noise from the history and the in-run spread);
- the rule (`zimage_qa.history.rule`: the run values of the two levels, Hodges-Lehmann with the exact
  Mann-Whitney interval at `alpha`) decides regressed or improved.
At the latest level a worse change of at least the threshold that the rule cannot decide yet (8 runs
against 3 at alpha 0.01 have no bounded interval) or whose levels are closer than `z` standard errors, and
the latest runs where the fit proposed them as a level but merged them for being too close, are
*suspected*: open all the same, never "ok". Stage times are never suspected on their own: they are parts
of the median, measured once a run, and jitter. A change the rule calls the same is none. A regression is *open* while the latest level is still worse than the level before it by at least
half the threshold; otherwise it is history (recovered). The latest one or two runs, off their level by
the threshold but too few to be lasting, are reported as *pending*, not as a regression.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from zimage_qa.decision import Outcome
from zimage_qa.history.metrics import MetricPolicy, stage_time
from zimage_qa.history.records import (
    Blip,
    Change,
    ChangeKind,
    Direction,
    Level,
    NotJudged,
    SeriesVerdict,
    Status,
)
from zimage_qa.history.records import relative_change as rel
from zimage_qa.history.rule import Judgement, compare
from zimage_qa.history.series import Series
from zimage_qa.history.steps import Array, Fit, fit_levels, level_z, segment_bounds

SPIKE_Z = 4.0
COMPARED_RUNS = 100  # runs of each level, nearest the change, that the rule compares


def judge(series: Series, policy: MetricPolicy) -> SeriesVerdict:
    x, n = series.values, len(series.values)
    m, threshold = policy.min_runs, policy.threshold_for(series.metric)
    direction = policy.direction_for(series.metric)
    if n < 2 * m:
        last = float(x[-1])
        return _verdict(series, policy, Status.SHORT, float(x[0]), last, 0.0, ())  # baseline: the first run
    fit = fit_levels(x, series.se, m, policy.z)
    bounds = segment_bounds(fit.cuts, n)
    levels = tuple(Level(a, b, float(np.median(x[a:b]))) for a, b in bounds)
    changes = _changes(series, policy, levels, fit.sigma, threshold, direction)
    tail = _merged_tail(series, policy, levels, fit, threshold, direction)
    if tail is not None:
        change, levels = tail
        changes.append(change)
    pending = _pending(series, levels, fit.sigma, threshold, direction, m)
    spikes = _spikes(series, levels, fit.sigma, threshold, direction, n - (pending.runs if pending else 0))
    verdict = _verdict(series, policy, Status.OK, levels[0].value, levels[-1].value, fit.sigma, levels)
    verdict = dataclasses.replace(verdict, spikes=tuple(spikes), pending=pending)
    return restate(verdict, changes, force=True)


def status_of(
    changes: Sequence[Change], pending: Blip | None, not_judged: Sequence[NotJudged], short: bool
) -> Status:
    """The series' status from what was found, worst first."""
    regressions = [c for c in changes if c.kind is ChangeKind.REGRESSION]
    if any(c.open and c.confirmed for c in regressions):
        return Status.REGRESSED
    if any(c.open for c in regressions):
        return Status.SUSPECTED
    if pending is not None and pending.worse:
        return Status.PENDING
    if any(n.current for n in not_judged):
        return Status.NOT_JUDGED
    if regressions:
        return Status.RECOVERED
    if changes:
        return Status.IMPROVED
    return Status.SHORT if short else Status.OK


def restate(
    verdict: SeriesVerdict,
    changes: Sequence[Change],
    not_judged: Sequence[NotJudged] | None = None,
    *,
    force: bool = False,
) -> SeriesVerdict:
    """`verdict` with `changes` (and `not_judged`) in place of its own, its status to match; a pending
    blip is dropped where a change or a comparison starts at or after it (its runs were judged)."""
    skipped = tuple(verdict.not_judged if not_judged is None else not_judged)
    if not force and list(changes) == list(verdict.changes) and skipped == verdict.not_judged:
        return verdict
    ordered = tuple(sorted(changes, key=lambda c: c.run.index))
    pending = verdict.pending
    judged = [c.run.index for c in ordered if not c.creep] + [n.run.index for n in skipped]
    if pending is not None and any(i >= pending.run.index for i in judged):
        pending = None
    status = status_of(ordered, pending, skipped, short=not verdict.levels)
    return dataclasses.replace(verdict, changes=ordered, not_judged=skipped, status=status, pending=pending)


def _verdict(
    series: Series,
    policy: MetricPolicy,
    status: Status,
    baseline: float,
    latest: float,
    noise: float,
    levels: tuple[Level, ...],
) -> SeriesVerdict:
    return SeriesVerdict(
        benchmark=series.benchmark,
        metric=series.metric,
        group=series.group.id,
        direction=policy.direction_for(series.metric),
        threshold=policy.threshold_for(series.metric),
        status=status,
        runs=len(series.values),
        baseline=baseline,
        latest=latest,
        latest_value=float(series.values[-1]),
        noise=noise,
        levels=levels,
    )


def _changes(
    series: Series,
    policy: MetricPolicy,
    levels: tuple[Level, ...],
    sigma: float,
    threshold: float,
    direction: Direction,
) -> list[Change]:
    x, found, ref = series.values, [], 0
    z_needed = _z_needed(policy, len(x), len(levels))
    last = len(levels) - 1
    for j in range(1, len(levels)):
        before, after = levels[ref], levels[j]
        change = rel(after.value, before.value)
        if not abs(change) >= threshold or not _consistent(x, before, after, policy.min_runs):
            continue
        z = level_z(x, (before.start, before.stop), (after.start, after.stop), sigma)
        judged = _compare(x, before, after, threshold, direction, policy.alpha)
        if judged.outcome is Outcome.SAME or judged.worse != direction.worse(change):
            continue
        if judged.confirmed and z >= z_needed:
            found.append(_Found(j, before.value, change, z, judged, None))
            ref = j
        elif j == last and direction.worse(change) and not stage_time(series.metric):
            found.append(_Found(j, before.value, change, z, judged, _why(judged, before, after, z, z_needed)))
    changes = [_change(series, levels, item, direction, threshold, found) for item in found]
    return _without_recoveries(changes)


@dataclasses.dataclass(frozen=True)
class _Found:
    level: int
    before: float
    change: float
    z: float
    judged: Judgement
    undecided: str | None  # None: confirmed

    def kind(self, direction: Direction) -> ChangeKind:
        return ChangeKind.REGRESSION if direction.worse(self.change) else ChangeKind.IMPROVEMENT


def _z_needed(policy: MetricPolicy, runs: int, levels: int) -> float:
    """The z a change needs: the noise itself is estimated, so ask more of short histories."""
    return policy.z * (1 + 2 / max(runs - levels, 1))


def _compare(
    x: Array, before: Level, after: Level, threshold: float, direction: Direction, alpha: float
) -> Judgement:
    """The rule on the run values of two levels, up to `COMPARED_RUNS` of each nearest the change."""
    earlier = x[max(before.start, before.stop - COMPARED_RUNS) : before.stop]
    later = x[after.start : min(after.stop, after.start + COMPARED_RUNS)]
    return compare(earlier.tolist(), later.tolist(), threshold, direction, alpha, runs=True)


def _why(judged: Judgement, before: Level, after: Level, z: float, z_needed: float) -> str:
    """What keeps a suspected level change from being confirmed, and what would confirm it."""
    sides = f"{before.stop - before.start} vs {after.stop - after.start} runs"
    if judged.confirmed:
        return (
            f"{sides}; the levels are {z:.1f} noise units apart, the history's noise asks for {z_needed:.1f}; "
            "more runs at the new level would decide it"
        )
    return judged.undecided(sides, "runs", "runs at the new level")


def _merged_tail(
    series: Series,
    policy: MetricPolicy,
    levels: tuple[Level, ...],
    fit: Fit,
    threshold: float,
    direction: Direction,
) -> tuple[Change, tuple[Level, ...]] | None:
    """The latest runs as a suspected regression where the fit proposed them as a level of their own,
    worse by the threshold, but merged them for being too few noise units apart; with the levels split
    there."""
    x, n, last = series.values, len(series.values), levels[-1]
    cuts = [c for c in fit.candidates if c > last.start]
    if not cuts or stage_time(series.metric):
        return None
    before = Level(last.start, cuts[-1], float(np.median(x[last.start : cuts[-1]])))
    after = Level(cuts[-1], n, float(np.median(x[cuts[-1] :])))
    change = rel(after.value, before.value)
    if not (abs(change) >= threshold and direction.worse(change)):
        return None
    if not _consistent(x, before, after, policy.min_runs):
        return None
    judged = _compare(x, before, after, threshold, direction, policy.alpha)
    if judged.outcome is Outcome.SAME or not judged.worse:
        return None
    z = level_z(x, (before.start, before.stop), (after.start, after.stop), fit.sigma)
    split = (*levels[:-1], before, after)
    why = _why(judged, before, after, z, _z_needed(policy, n, len(split)))
    item = _Found(len(split) - 1, before.value, change, z, judged, why)
    return _change(series, split, item, direction, threshold, [item]), split


def _without_recoveries(changes: list[Change]) -> list[Change]:
    """Drop the improvement that only brings a recovered regression back: it is that regression's end.

    An improvement counts as a recovery when its new level is within half the threshold of the level
    before the regression; a regression that undoes an improvement stays a regression (a gain lost).
    """
    ends = {c.recovered_at for c in changes if c.kind is ChangeKind.REGRESSION and c.recovered_at}
    kept = []
    for change in changes:
        if change.kind is ChangeKind.IMPROVEMENT and change.run in ends:
            undone = [c for c in changes if c.recovered_at == change.run]
            if all(abs(rel(change.after, c.before)) < change.threshold / 2 for c in undone):
                continue
        kept.append(change)
    return kept


def _consistent(x: Array, before: Level, after: Level, min_runs: int) -> bool:
    """Whether at least `min_runs` runs of each level (all of a shorter one) sit on its side of the midpoint.

    Two outlier runs out of three make a high median but not a lasting level: this rejects them.
    """
    middle = (before.value + after.value) / 2
    up = after.value > before.value
    ahead = x[after.start : after.stop]
    behind = x[before.start : before.stop]
    n_after = int(np.count_nonzero(ahead > middle if up else ahead < middle))
    n_before = int(np.count_nonzero(behind < middle if up else behind > middle))
    return (
        n_after >= min(min_runs, len(ahead))
        and n_before >= min(min_runs, len(behind))
        and (n_after == len(ahead) or n_after >= min_runs)
    )


def _change(
    series: Series,
    levels: tuple[Level, ...],
    item: _Found,
    direction: Direction,
    threshold: float,
    found: list[_Found],
) -> Change:
    j, before, change = item.level, item.before, item.change
    kind = item.kind(direction)
    latest = levels[-1].value
    still = rel(latest, before)
    is_open = kind is ChangeKind.REGRESSION and direction.worse(still) and abs(still) >= threshold / 2
    recovered = None
    if kind is ChangeKind.REGRESSION and not is_open:
        later = [f for f in found if f.level > j and f.kind(direction) is ChangeKind.IMPROVEMENT]
        at = later[0].level if later else len(levels) - 1
        recovered = series.runs[levels[at].start]
    previous = levels[j - 1].value
    return Change(
        benchmark=series.benchmark,
        metric=series.metric,
        group=series.group.id,
        kind=kind,
        run=series.runs[levels[j].start],
        change=change,
        before=before,
        after=levels[j].value,
        latest=latest,
        open=is_open,
        runs_at_level=levels[j].stop - levels[j].start,
        z=item.z,
        gradual=abs(rel(levels[j].value, previous)) < threshold,
        direction=direction,
        threshold=threshold,
        recovered_at=recovered,
        ci_low=item.judged.low,
        ci_high=item.judged.high,
        confirmed=item.undecided is None,
        undecided=item.undecided,
        needed=None if item.undecided is None else item.judged.needed,
    )


def _deviant(x: Array, se: Array, level: float, sigma: float, threshold: float) -> NDArray[np.bool_]:
    """Which runs sit off `level` by at least the threshold and SPIKE_Z times their own noise."""
    off = np.abs(x - level)
    noise = np.sqrt(sigma**2 + se**2)
    result: NDArray[np.bool_] = (off >= threshold * abs(level)) & (off >= SPIKE_Z * noise) & (off > 0)
    return result


def _pending(
    series: Series,
    levels: tuple[Level, ...],
    sigma: float,
    threshold: float,
    direction: Direction,
    min_runs: int,
) -> Blip | None:
    x, se, n = series.values, series.se, len(series.values)
    last = levels[-1]
    for runs in range(min_runs - 1, 0, -1):
        rest = x[last.start : n - runs]
        level = float(np.median(rest)) if len(rest) else (levels[-2].value if len(levels) > 1 else last.value)
        tail = x[n - runs :]
        signs = np.sign(tail - level)
        if _deviant(tail, se[n - runs :], level, sigma, threshold).all() and abs(signs.sum()) == runs:
            value = float(np.median(tail))
            change = rel(value, level)
            return Blip(
                benchmark=series.benchmark,
                metric=series.metric,
                group=series.group.id,
                run=series.runs[n - runs],
                runs=runs,
                change=change,
                value=value,
                level=level,
                worse=direction.worse(change),
            )
    return None


def _spikes(
    series: Series,
    levels: tuple[Level, ...],
    sigma: float,
    threshold: float,
    direction: Direction,
    stop: int,
) -> list[Blip]:
    x, se = series.values, series.se
    flagged = np.zeros(len(x), dtype=bool)
    level_of = np.empty(len(x))
    for lv in levels:
        level_of[lv.start : lv.stop] = lv.value
        flagged[lv.start : lv.stop] = _deviant(
            x[lv.start : lv.stop], se[lv.start : lv.stop], lv.value, sigma, threshold
        )
    flagged[stop:] = False
    spikes = []
    for i in np.flatnonzero(flagged & ~np.r_[False, flagged[:-1]]):
        end = int(i)
        while end < stop and flagged[end]:
            end += 1
        value, level = float(np.median(x[i:end])), float(level_of[i])
        change = rel(value, level)
        spikes.append(
            Blip(
                benchmark=series.benchmark,
                metric=series.metric,
                group=series.group.id,
                run=series.runs[int(i)],
                runs=end - int(i),
                change=change,
                value=value,
                level=level,
                worse=direction.worse(change),
            )
        )
    return spikes
