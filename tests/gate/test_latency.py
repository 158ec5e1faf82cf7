"""Latency: warm, CUDA-synchronised rounds per scenario through pytest-benchmark, with the stage split,
DiT forwards, GPU state and roofline in every record; cold start; back-to-back drift."""

from __future__ import annotations

import pytest

from qa.checks import Check
from qa.config import BudgetSet, Scenario
from qa.measure.budget import BudgetContext, BudgetStatus, LatencyBudget
from qa.measure.gpu_state import GpuVerdict
from qa.measure.oom import OomGuard
from qa.measure.stats import drift_check, drift_report
from qa.measure.units import format_seconds
from qa.runner import ScenarioRunner
from qa.session import GateSession

pytestmark = [pytest.mark.gpu, pytest.mark.latency]


def budget_hint(gate: GateSession) -> str:
    return f"see {gate.options.report_dir}/index.html; rebudget in {gate.config.source}"


def test_latency(
    qa_gate: GateSession, qa_runner: ScenarioRunner, qa_budgets: BudgetSet | None, qa_scenario: Scenario,
    benchmark: pytest.FixtureDef, qa_check: Check,
) -> None:  # fmt: skip
    settings = qa_gate.config.run_for(qa_gate.spec.profile)
    qa_gate.warm([qa_scenario])
    benchmark.group = f"latency {qa_scenario.size}"  # type: ignore[attr-defined]
    device = qa_gate.device_name()
    with (
        OomGuard(f"{qa_scenario.size}/{qa_scenario.id} on {device}", qa_runner.model.device) as guard,
        qa_runner.run(qa_scenario, warmup=settings.warmup) as run,
    ):
        benchmark.pedantic(run.generate, rounds=settings.rounds, warmup_rounds=settings.warmup, iterations=1)  # type: ignore[attr-defined]
    if guard.failure:
        qa_check.fail(guard.failure)
    result = qa_runner.results.get(qa_scenario.id)
    if result is None or len(result.timings) < 2:
        qa_check.not_run("pytest-benchmark is disabled (--benchmark-disable): nothing was timed")
    info = result.extra_info(device, qa_gate.spec.label)
    benchmark.extra_info.update(info)  # type: ignore[attr-defined]
    qa_check.note(median_s=result.summary.median, worst_s=result.summary.max, rel_iqr=result.summary.rel_iqr,
                  **{k: v for k, v in info.items() if k != "rounds_s"})  # fmt: skip
    if result.nfe != qa_scenario.nfe:
        qa_check.fail(f"{qa_scenario.id}: {result.nfe} DiT forwards per image, the configuration promises "
                      f"{qa_scenario.nfe}: latency is not comparable")  # fmt: skip
    coverage = qa_gate.config.thresholds_for(qa_gate.spec.profile).min_stage_coverage
    if result.coverage < coverage:
        qa_check.fail(f"{qa_scenario.id}: the stages cover {result.coverage:.1%} of the median, under "
                      f"{coverage:.0%}: the stage hooks miss work (a renamed pipeline component?), so the "
                      f"split {result.stages_ms} cannot be trusted")  # fmt: skip
    state = result.gpu_state
    notes = [f"GPU {state.describe()}"] if state is not None and state.verdict is not GpuVerdict.CLEAN else []
    budget = qa_budgets.for_scenario(qa_scenario.id) if qa_budgets else None
    if budget is None or budget.latency is None:
        qa_check.not_run(f"no latency budget for {qa_scenario.id} ({qa_gate.spec.profile} on {device}); measured "
                         f"median {format_seconds(result.summary.median)}: add one to the config")  # fmt: skip
    limit = LatencyBudget(
        budget.latency.median_s,
        budget.latency.worst_s,
        qa_gate.config.thresholds_for(qa_gate.spec.profile).max_rel_iqr,
    )
    parts = [
        f"p50 <= {format_seconds(limit.median_s)}" if limit.median_s else "",
        f"max <= {format_seconds(limit.worst_s)}" if limit.worst_s else "",
        f"IQR <= {limit.max_rel_iqr:.0%}" if limit.max_rel_iqr else "",
    ]
    qa_check.note(budget=", ".join(p for p in parts if p))
    context = BudgetContext(
        f"{qa_scenario.size}/{qa_scenario.id}", device, result.stages_ms, hint=budget_hint(qa_gate)
    )
    verdict = limit.evaluate(result.summary, context)
    message = "; ".join(
        [verdict.message or f"median {format_seconds(result.summary.median)} within budget", *notes]
    )
    if verdict.status is BudgetStatus.FAIL:
        qa_check.fail(message)
    if verdict.status is BudgetStatus.UNSTABLE:
        qa_check.unstable(message)
    qa_check.passed(message)


def test_cold_start(
    qa_gate: GateSession, qa_model: object, qa_budgets: BudgetSet | None, qa_check: Check
) -> None:
    """Load time and first-image time of this session, each against its own budget."""
    model = qa_gate.model()
    first = qa_gate.first_image_s
    if first is None:
        qa_check.not_run("no generation happened in this session, so there is no first-image time")
    qa_check.note(load_s=model.load_s, first_image_s=first)
    summary = f"load {format_seconds(model.load_s)}, first image {format_seconds(first)}"
    if qa_budgets is None or (qa_budgets.load_s is None and qa_budgets.first_image_s is None):
        qa_check.not_run(
            f"no cold-start budget for {qa_gate.spec.profile} on {qa_gate.device_name()}; {summary}"
        )
    qa_check.note(budget=", ".join(f"{what} <= {format_seconds(limit)}" for what, limit in
                                   (("load", qa_budgets.load_s), ("first image", qa_budgets.first_image_s)) if limit))  # fmt: skip
    misses = [
        f"{what} {format_seconds(value)} > budget {format_seconds(limit)} (+{(value / limit - 1) * 100:.1f} %)"
        for what, value, limit in (("load", model.load_s, qa_budgets.load_s),
                                   ("first image", first, qa_budgets.first_image_s))
        if limit is not None and value > limit
    ]  # fmt: skip
    if misses:
        qa_check.fail(
            f"cold start on {qa_gate.device_name()}: " + "; ".join(misses) + f"; {budget_hint(qa_gate)}"
        )
    qa_check.passed(summary)


def test_back_to_back_drift(qa_gate: GateSession, qa_runner: ScenarioRunner, qa_check: Check) -> None:
    """K generations in a row: the later ones must not creep up or jitter beyond the limits."""
    settings = qa_gate.config.run_for(qa_gate.spec.profile)
    case = qa_gate.config.scenario(settings.drift_scenario)
    qa_gate.warm([case])
    with qa_runner.run(case, warmup=0) as run:
        for _ in range(settings.drift_images):
            run.generate()
    times = [t.total_ms / 1000.0 for t in run.measured]
    report = drift_report(times)
    qa_check.note(times_s=[round(t, 5) for t in times], creep=report.creep_rel,
                  max_jitter_ms=report.max_jitter_s * 1000.0)  # fmt: skip
    thresholds = qa_gate.config.thresholds_for(qa_gate.spec.profile)
    problem = drift_check(times, thresholds.drift_max_creep, thresholds.drift_max_jitter_ms)
    listing = ", ".join(format_seconds(t) for t in times)
    if problem:
        qa_check.fail(f"{case.id} x{len(times)}: {problem} (times: {listing})")
    qa_check.passed(f"{case.id} x{len(times)}: {listing}")
