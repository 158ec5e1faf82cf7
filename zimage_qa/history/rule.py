"""The one decision rule (`zimage_qa.decision`) applied to a metric's history, in the metric's direction.

Two stretches (run values at two levels, or the rounds of the runs either side of an upgrade) are compared
as two samples: `rounds_interval` (logs of positive values), or `shift_interval` where a value is zero or
negative; runs are separate processes, so their sample sizes are not discounted for the autocorrelation
that host spells give the rounds of one run. A creep is the Theil-Sen trend of the runs, first to last (`trend(...).relative()`). For a
metric that gets worse downwards (a score) the interval is turned round before `decide`, so *regressed*
always means worse by at least the threshold; `Judgement` gives the change back with the metric's sign.
A judgement is *confirmed* when the rule decides regressed or improved, and *suspected* when it cannot
decide yet but the estimate is worse by the threshold or more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from zimage_qa.decision import (
    Decision,
    Interval,
    Outcome,
    Trend,
    decide,
    rounds_interval,
    shift_interval,
    trend,
)
from zimage_qa.history.records import Direction


@dataclass(frozen=True)
class Judgement:
    """The rule's decision on a worse-is-positive interval, and the change with the metric's own sign."""

    decision: Decision
    direction: Direction

    @property
    def outcome(self) -> Outcome:
        return self.decision.outcome

    @property
    def confirmed(self) -> bool:
        return self.outcome in (Outcome.REGRESSED, Outcome.IMPROVED)

    @property
    def worse(self) -> bool:
        """Whether the estimate points the worse way."""
        return self.decision.change > 0

    @property
    def suspected(self) -> bool:
        """Undecided, with the estimate worse by the threshold or more."""
        return self.outcome is Outcome.INCONCLUSIVE and self.decision.change >= self.decision.min_effect

    @property
    def change(self) -> float:
        return self._signed(self.decision.interval.estimate)

    @property
    def low(self) -> float:
        i = self.decision.interval
        return i.low if self._up else -i.high

    @property
    def high(self) -> float:
        i = self.decision.interval
        return i.high if self._up else -i.low

    @property
    def needed(self) -> int | None:
        return self.decision.rounds_needed

    def undecided(self, sides: str, unit: str, more: str | None) -> str:
        """Why the rule could not decide, and what would: '8 vs 3 runs; too few runs for a bounded
        interval; about 4 runs at the new level would decide it' (`more`: what `needed` counts)."""
        d, i = self.decision, self.decision.interval
        if not i.bounded:
            why = f"too few {unit} for a bounded interval"
        elif d.change >= d.min_effect:
            why = "the interval includes no change"
        else:
            why = f"the interval reaches the threshold {d.min_effect:.0%}"
        if self.needed is not None and more is not None:
            return f"{sides}; {why}; about {self.needed} {more} would decide it"
        return f"{sides}; {why}; more {unit} would decide it"

    @property
    def _up(self) -> bool:
        return self.direction is Direction.LOWER_IS_BETTER

    def _signed(self, value: float) -> float:
        return value if self._up else -value


def compare(
    before: Sequence[float],
    after: Sequence[float],
    threshold: float,
    direction: Direction,
    alpha: float,
    *,
    runs: bool,
) -> Judgement:
    """`after` against `before` (two samples, each in time order) by the rule, the threshold as minimum
    effect. `runs`: the values are runs (each its own process), not the rounds of one run."""
    positive = all(v > 0 for v in before) and all(v > 0 for v in after)
    interval = (rounds_interval if positive else shift_interval)(before, after, alpha, separate=runs)
    return _judge(interval, threshold, direction, alpha)


def creep(
    values: Sequence[float], positions: Sequence[int], threshold: float, direction: Direction, alpha: float
) -> tuple[Judgement, Trend] | None:
    """The first-to-last change of a Theil-Sen trend over `values` at `positions`, by the rule, with the
    fitted trend; None where the fitted start is not positive (no relative change to speak of)."""
    fitted = trend(values, alpha, positions)
    if not fitted.start > 0:
        return None
    return _judge(fitted.relative(), threshold, direction, alpha), fitted


def _judge(interval: Interval, threshold: float, direction: Direction, alpha: float) -> Judgement:
    if direction is Direction.HIGHER_IS_BETTER:
        interval = dataclasses.replace(
            interval, estimate=-interval.estimate, low=-interval.high, high=-interval.low
        )
    return Judgement(decide(interval, threshold, alpha), direction)
