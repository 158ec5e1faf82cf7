"""What the first images of a deployment tell: the cold start in parts, how many rounds a scenario gets, scaled by the measured time per image, and when a noisy measurement
earns more rounds. Pure functions: no torch, no clock.

A resident deployment at 1.3 s per image keeps its configured rounds; an offloaded one at 16-23 s per
image gets as many as fit in the time budget, never fewer than the minimum that a verdict needs, and
its record says how many it ran and why.

    plan = plan_rounds(first_image_s=24.1, warm_image_s=16.2, rounds=5, min_rounds=3, max_rounds=15,
                       time_budget_s=60)
    plan.rounds, plan.warmup, plan.cap, plan.timeout_s, plan.reason
    # re-measure policy, after each batch:
    extra = more_rounds(summary.rel_iqr, done=len(times), cap=plan.cap, max_rel_iqr=0.10)

Cold start in parts: `compile_seconds(first, warm)` is the first call at a shape minus a warm call
(torch.compile's work, or lazy initialisation when eager); the session keeps load and first image apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from zimage_qa.errors import QAUsageError


def compile_seconds(first_call_s: float, warm_call_s: float) -> float:
    """What the first call at a shape cost beyond a warm one (compilation, autotuning, lazy init)."""
    return max(0.0, first_call_s - warm_call_s)


@dataclass(frozen=True)
class RoundPlan:
    """Warm-ups and measured rounds for one scenario, the re-measure cap, and per-image timeouts."""

    rounds: int  # measured rounds to run first
    warmup: int  # further warm-up generations before them
    cap: int  # a too noisy run may be re-measured up to this many rounds (within the time budget)
    timeout_s: float  # one warm generation taking longer than this is a hang
    first_timeout_s: float  # the first generation at a new shape (a compiled model compiles again)
    image_s: float  # the warm time per image the plan was made from
    reason: str

    @property
    def expected_s(self) -> float:
        """Gate time the planned generations should take."""
        return (self.warmup + self.rounds) * self.image_s

    def to_dict(self) -> dict[str, object]:
        return {
            "rounds": self.rounds, "warmup": self.warmup, "cap": self.cap, "timeout_s": round(self.timeout_s, 3),
            "first_timeout_s": round(self.first_timeout_s, 3), "image_s": round(self.image_s, 4),
            "reason": self.reason,
        }  # fmt: skip


def plan_rounds(
    first_image_s: float,
    warm_image_s: float,
    *,
    rounds: int,
    min_rounds: int,
    max_rounds: int,
    time_budget_s: float,
    warmup: int = 1,
    timeout_factor: float = 5.0,
    min_timeout_s: float = 30.0,
) -> RoundPlan:
    """Plan a scenario from the cold first image and one warm image.

    `rounds` is the configured count (kept when it fits `time_budget_s`), `min_rounds` the floor a
    verdict needs (run even when it overshoots the budget, and said so), `max_rounds` the most that a
    noisy measurement may grow to. The extra warm-up is dropped when it would cost a measured round."""
    _check(first_image_s, warm_image_s, rounds, min_rounds, max_rounds, time_budget_s, warmup)
    fit = math.floor(time_budget_s / warm_image_s + 1e-9)  # generations the budget pays for
    extra_warmup = warmup if fit - warmup >= rounds else 0  # a slow deployment spends it on a round
    room = fit - extra_warmup
    planned = max(min_rounds, min(rounds, room))
    cap = max(planned, min(max_rounds, room))
    per = _seconds(warm_image_s)
    if planned == rounds:
        reason = f"the configured {rounds} rounds at {per} per image fit the {time_budget_s:g} s budget"
    elif room >= min_rounds:
        reason = (f"{planned} of {rounds} configured rounds: {per} per image, {time_budget_s:g} s budget "
                  f"(at least {min_rounds})")  # fmt: skip
    else:
        reason = (f"the minimum {min_rounds} rounds at {per} per image take {min_rounds * warm_image_s:.0f} s, "
                  f"over the {time_budget_s:g} s budget; raise the budget or accept the overshoot")  # fmt: skip
    if extra_warmup < warmup:
        reason += "; the extra warm-up is skipped (the first two images warmed it)"
    return RoundPlan(
        rounds=planned,
        warmup=extra_warmup,
        cap=cap,
        timeout_s=max(min_timeout_s, timeout_factor * warm_image_s),
        first_timeout_s=max(min_timeout_s, timeout_factor * first_image_s),
        image_s=warm_image_s,
        reason=reason,
    )


def more_rounds(summary_rel_iqr: float, done: int, cap: int, *, max_rel_iqr: float, step: int = 2) -> int:
    """How many rounds to add to a measurement whose IQR/median is `summary_rel_iqr` after `done`
    rounds: 0 when it is quiet enough or the cap is reached (then a noisy run is UNSTABLE), else `step`
    (at least 2, so the quartiles move) without passing `cap`."""
    if done < 0 or cap < 0 or step < 1:
        raise QAUsageError(f"more_rounds needs done >= 0, cap >= 0 and step >= 1; got {done}, {cap}, {step}")
    if max_rel_iqr <= 0:
        raise QAUsageError(f"relative IQR limit {max_rel_iqr} is not positive; use e.g. 0.10")
    if summary_rel_iqr <= max_rel_iqr or done >= cap:  # NaN counts as noisy
        return 0
    return min(cap - done, max(2, step))


def _check(first: float, warm: float, rounds: int, low: int, high: int, budget: float, warmup: int) -> None:
    for name, value in (("first image time", first), ("warm image time", warm), ("time budget", budget)):
        if not value > 0 or math.isinf(value):
            raise QAUsageError(f"{name} {value} s is not a positive finite number of seconds")
    if not 1 <= low <= rounds <= high:
        raise QAUsageError(
            f"rounds must satisfy 1 <= min_rounds ({low}) <= rounds ({rounds}) <= max_rounds ({high}); "
            "fix [run] min_rounds, rounds and max_rounds"
        )
    if warmup < 0:
        raise QAUsageError(f"warm-up {warmup} is negative; use 0 or more")


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
