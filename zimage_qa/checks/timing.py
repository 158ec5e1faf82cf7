"""The latency check of one scenario: timed rounds through a timer (pytest-benchmark in the gate), the
re-measure policy for noisy runs, and the verdict against the budget and, when given, the baseline.

Pytest-free: the gate hands in pytest-benchmark's fixture wrapped in `BenchmarkTimer`; anything with the
`Timer` methods will do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from zimage_qa.config import BudgetSet, Scenario, Thresholds
from zimage_qa.measure.budget import BudgetContext, LatencyBudget
from zimage_qa.measure.rounds import more_rounds
from zimage_qa.measure.stats import Summary, summarize
from zimage_qa.measure.units import format_seconds
from zimage_qa.runner import ScenarioResult, ScenarioRunner
from zimage_qa.verdict import Status, Verdict, worst


class Timer(Protocol):
    def disabled_reason(self) -> str | None: ...
    def time(self, target: Callable[[], None], rounds: int, warmup: int) -> None: ...
    def extend(self, durations_s: list[float]) -> None: ...
    def attach(self, info: dict[str, Any]) -> None: ...


class BenchmarkTimer:
    """pytest-benchmark's fixture as a Timer: `pedantic` for the rounds, extra rounds appended to its
    statistics (so the saved JSON holds every round the verdict used), `extra_info` for the record."""

    def __init__(self, benchmark: Any) -> None:
        self.benchmark = benchmark

    def disabled_reason(self) -> str | None:
        if not getattr(self.benchmark, "disabled", False):
            return None
        if os.environ.get("PYTEST_XDIST_WORKER"):
            return ("pytest-benchmark turns itself off under xdist (pytest -n), so nothing was timed; run the "
                    "latency checks without -n, or one process per GPU with `zqa gate --gpus`")  # fmt: skip
        return "pytest-benchmark is disabled (--benchmark-disable): nothing was timed"

    def time(self, target: Callable[[], None], rounds: int, warmup: int) -> None:
        self.benchmark.pedantic(target, rounds=rounds, warmup_rounds=warmup, iterations=1)

    def extend(self, durations_s: list[float]) -> None:
        stats = getattr(getattr(self.benchmark, "stats", None), "stats", None)
        if stats is None:
            return
        for duration in durations_s:
            stats.update(duration)
        for name in list(vars(stats)):  # statistics are cached properties: drop them so they are recomputed
            if name != "data":
                del vars(stats)[name]

    def attach(self, info: dict[str, Any]) -> None:
        self.benchmark.extra_info.update(info)


@dataclass(frozen=True)
class LatencyPolicy:
    rounds: int
    warmup: int
    max_rounds: int  # re-measure a noisy run up to this many rounds before calling it unstable
    max_rel_iqr: float
    min_stage_coverage: float
    reason: str = ""  # why these rounds (a slow deployment gets fewer, within the time budget)


def measure(runner: ScenarioRunner, case: Scenario, timer: Timer, policy: LatencyPolicy,
            judge: Callable[[Summary], Verdict]) -> tuple[ScenarioResult | None, int]:  # fmt: skip
    """Time `policy.rounds` rounds; while `judge` says unstable, add rounds up to `policy.max_rounds`.
    Returns the result (None when nothing was timed) and how many rounds were added."""
    added = 0
    with runner.run(case, warmup=policy.warmup) as run:
        timer.time(run.generate, policy.rounds, policy.warmup)
        while len(run.measured) >= 2:
            interim = summarize([t.total_ms / 1000.0 for t in run.measured])
            if judge(interim).status is not Status.UNSTABLE:  # over budget fails at once: no more rounds
                break
            extra = more_rounds(interim.rel_iqr, len(run.measured), policy.max_rounds,
                                max_rel_iqr=policy.max_rel_iqr, step=max(2, policy.rounds // 2))  # fmt: skip
            if not extra:
                break
            before = len(run.timings)
            for _ in range(extra):
                run.generate()
            timer.extend([t.total_ms / 1000.0 for t in run.timings[before:]])
            added += extra
    return runner.results.get(case.id), added


def budget_verdict(
    summary: Summary, budgets: BudgetSet | None, case: Scenario, policy: LatencyPolicy, device: str,
    stages_ms: dict[str, float] | None, hint: str, profile: str,
) -> Verdict:  # fmt: skip
    budget = budgets.for_scenario(case.id) if budgets else None
    if budget is None or budget.latency is None:
        return Verdict.not_run(
            f"no latency budget for {case.id} ({profile} on {device}); measured median "
            f"{format_seconds(summary.median)}: write this runner's budgets with --qa-update-budgets"
        )
    limit = LatencyBudget(budget.latency.median_s, budget.latency.worst_s, policy.max_rel_iqr)
    parts = [f"p50 <= {format_seconds(limit.median_s)}" if limit.median_s else "",
             f"max <= {format_seconds(limit.worst_s)}" if limit.worst_s else "",
             f"IQR <= {policy.max_rel_iqr:.0%}"]  # fmt: skip
    context = BudgetContext(f"{case.size}/{case.id}", device, stages_ms, hint=hint)
    verdict = limit.evaluate(summary, context)
    return verdict.with_values(
        budget=", ".join(p for p in parts if p), budget_source=budgets.source if budgets else ""
    )


def shape_verdict(result: ScenarioResult, case: Scenario, policy: LatencyPolicy) -> Verdict:
    """The forward count and the stage coverage: without them the latency is not comparable."""
    if result.nfe != case.nfe:
        return Verdict.failed(f"{case.id}: {result.nfe} DiT forwards per image, the configuration promises "
                              f"{case.nfe}: latency is not comparable")  # fmt: skip
    if result.coverage < policy.min_stage_coverage:
        return Verdict.failed(
            f"{case.id}: the stages cover {result.coverage:.1%} of the median, under {policy.min_stage_coverage:.0%}: "
            f"the stage hooks miss work (a renamed pipeline component?), so the split {result.stages_ms} cannot "
            "be trusted"
        )
    return Verdict.passed()


def policy_for(
    settings: Any, thresholds: Thresholds, warm: tuple[float, float] | None = None
) -> LatencyPolicy:
    """The configured rounds, scaled down for a slow deployment (offloaded: 16-23 s per image) so that it
    gets a verdict within `time_budget_s`, never under `min_rounds`; the record says why."""
    rounds, warmup, cap, reason = settings.rounds, settings.warmup, settings.max_rounds, ""
    if warm is not None:
        from zimage_qa.measure.rounds import plan_rounds

        plan = plan_rounds(warm[0], warm[1], rounds=settings.rounds, min_rounds=min(settings.min_rounds, settings.rounds),
                           max_rounds=settings.max_rounds, time_budget_s=settings.time_budget_s, warmup=settings.warmup)  # fmt: skip
        rounds, warmup, cap, reason = plan.rounds, plan.warmup, plan.cap, plan.reason
    return LatencyPolicy(rounds, warmup, cap, thresholds.max_rel_iqr, thresholds.min_stage_coverage, reason)


def combine(result: ScenarioResult, added: int, parts: list[Verdict], notes: list[str]) -> Verdict:
    """One verdict from the parts (shape, budget, baseline), with the measured values."""
    verdict = worst(*parts)
    message = verdict.message or f"median {format_seconds(result.summary.median)} within budget"
    if added:
        message += f" (re-measured: {result.summary.n} rounds)"
    return Verdict(verdict.status, "; ".join([message, *notes]), {
        **verdict.values, "median_s": result.summary.median, "worst_s": result.summary.max,
        "rel_iqr": result.summary.rel_iqr, "rounds": result.summary.n, "added_rounds": added,
    }, verdict.artefacts)  # fmt: skip
