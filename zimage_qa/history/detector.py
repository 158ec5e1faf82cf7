"""Judging one series: which level changes are lasting regressions or improvements, which are spikes.

A change is reported when all of these hold, against the reference level (the first level, then the
level after each reported change, so that a creep of small steps is reported once it adds up):
- its relative size is at least the metric's threshold (5% by default);
- the new level lasts at least `min_runs` runs (3 by default), so a one- or two-run spike never counts;
- the medians are at least `z` standard errors apart (noise from the history and the in-run spread);
- the Mann-Whitney U test between the runs at the two levels gives p <= `alpha`.
A regression is *open* while the latest level is still worse than the level before it by at least half
the threshold; otherwise it is history (recovered). The latest one or two runs, off their level by the
threshold but too few to be lasting, are reported as *pending*, not as a regression.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from zimage_qa.history.metrics import MetricPolicy
from zimage_qa.history.ranktest import mann_whitney_p
from zimage_qa.history.records import Blip, Change, ChangeKind, Direction, Level, SeriesVerdict, Status
from zimage_qa.history.records import relative_change as rel
from zimage_qa.history.series import Series
from zimage_qa.history.steps import Array, fit_levels, level_z, segment_bounds

SPIKE_Z = 4.0


def judge(series: Series, policy: MetricPolicy) -> SeriesVerdict:
    x, n = series.values, len(series.values)
    m, threshold = policy.min_runs, policy.threshold_for(series.metric)
    direction = policy.direction_for(series.metric)
    if n < 2 * m:
        last = float(x[-1])
        return _verdict(series, policy, Status.SHORT, float(x[0]), last, 0.0, ())  # baseline: the first run
    cuts, sigma = fit_levels(x, series.se, m, policy.z)
    bounds = segment_bounds(cuts, n)
    levels = tuple(Level(a, b, float(np.median(x[a:b]))) for a, b in bounds)
    changes = _changes(series, policy, levels, sigma, threshold, direction)
    pending = _pending(series, levels, sigma, threshold, direction, m)
    spikes = _spikes(series, levels, sigma, threshold, direction, n - (pending.runs if pending else 0))
    status = _status(changes, pending)
    verdict = _verdict(series, policy, status, levels[0].value, levels[-1].value, sigma, levels)
    return dataclasses.replace(verdict, changes=tuple(changes), spikes=tuple(spikes), pending=pending)


def judge_all(all_series: Sequence[Series], policy: MetricPolicy) -> list[SeriesVerdict]:
    return [judge(s, policy) for s in all_series]


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
    dof = max(len(x) - len(levels), 1)
    z_needed = policy.z * (1 + 2 / dof)  # the noise itself is estimated: ask more of short histories
    for j in range(1, len(levels)):
        before, after = levels[ref], levels[j]
        change = rel(after.value, before.value)
        if not abs(change) >= threshold:
            continue
        z = level_z(x, (before.start, before.stop), (after.start, after.stop), sigma)
        if z < z_needed or not _consistent(x, before, after, policy.min_runs):
            continue
        p = mann_whitney_p(x[before.start : before.stop], x[after.start : after.stop])
        if p > policy.alpha:
            continue
        kind = ChangeKind.REGRESSION if direction.worse(change) else ChangeKind.IMPROVEMENT
        step = rel(after.value, levels[j - 1].value)
        found.append((kind, j, before.value, change, z, p, abs(step) < threshold))
        ref = j
    changes = [_change(series, levels, item, direction, threshold, found) for item in found]
    return _without_recoveries(changes)


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


_Found = tuple[ChangeKind, int, float, float, float, float, bool]


def _change(
    series: Series,
    levels: tuple[Level, ...],
    item: _Found,
    direction: Direction,
    threshold: float,
    found: list[_Found],
) -> Change:
    kind, j, before, change, z, p, gradual = item
    latest = levels[-1].value
    still = rel(latest, before)
    is_open = kind is ChangeKind.REGRESSION and direction.worse(still) and abs(still) >= threshold / 2
    recovered = None
    if kind is ChangeKind.REGRESSION and not is_open:
        later = [f for f in found if f[1] > j and f[0] is ChangeKind.IMPROVEMENT]
        at = later[0][1] if later else len(levels) - 1
        recovered = series.runs[levels[at].start]
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
        z=z,
        p_value=p,
        gradual=gradual,
        direction=direction,
        threshold=threshold,
        recovered_at=recovered,
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


def _status(changes: list[Change], pending: Blip | None) -> Status:
    regressions = [c for c in changes if c.kind is ChangeKind.REGRESSION]
    if any(c.open for c in regressions):
        return Status.REGRESSED
    if pending is not None and pending.worse:
        return Status.PENDING
    if regressions:
        return Status.RECOVERED
    if changes:
        return Status.IMPROVED
    return Status.OK
