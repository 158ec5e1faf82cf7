"""VRAM: peak allocated, reserved and device-level (NVML) memory per scenario against ceilings; memory by
stage as the published review tabulated it; no growth across repeated generations."""

from __future__ import annotations

import pytest

from qa.checks import Check
from qa.config import BudgetSet, Scenario
from qa.measure.budget import BudgetContext
from qa.measure.memory import MemorySnapshot, leak_check, read_memory
from qa.measure.oom import OomGuard
from qa.measure.units import format_bytes
from qa.runner import ScenarioResult, ScenarioRunner
from qa.session import GateSession

pytestmark = [pytest.mark.gpu, pytest.mark.vram]


def scenario_result(
    gate: GateSession, runner: ScenarioRunner, case: Scenario, check: Check
) -> ScenarioResult:
    """The latency rounds' peaks when this session measured them, else one watched generation."""
    result = runner.results.get(case.id)
    if result is None or result.peak is None:
        gate.warm([case])
        with (
            OomGuard(f"{case.size}/{case.id} on {gate.device_name()}", runner.model.device) as guard,
            runner.run(case, warmup=0) as run,
        ):
            run.generate()
        if guard.failure:
            check.fail(guard.failure)
        result = runner.results[case.id]
    return result


def test_vram_peak(
    qa_gate: GateSession, qa_runner: ScenarioRunner, qa_budgets: BudgetSet | None, qa_scenario: Scenario,
    qa_check: Check,
) -> None:  # fmt: skip
    qa_check.require_cuda()
    result = scenario_result(qa_gate, qa_runner, qa_scenario, qa_check)
    peak = result.peak
    assert peak is not None  # a CUDA run always has allocator peaks
    qa_check.note(**peak.to_dict(), cuda_context_bytes=qa_gate.context_bytes)
    context = (
        f", of which the CUDA context {format_bytes(qa_gate.context_bytes)}" if qa_gate.context_bytes else ""
    )
    measured = f"{peak.describe()}{context}"
    budget = qa_budgets.for_scenario(qa_scenario.id) if qa_budgets else None
    if budget is None or not budget.ceilings:
        qa_check.not_run(f"no VRAM ceiling for {qa_scenario.id} ({qa_gate.spec.profile} on "
                         f"{qa_gate.device_name()}); measured {measured}: add one to the config")  # fmt: skip
    limits = ", ".join(f"{c.kind.value} <= {format_bytes(c.limit_bytes)}" for c in budget.ceilings)
    qa_check.note(budget=limits)
    where = BudgetContext(f"{qa_scenario.size}/{qa_scenario.id}", qa_gate.device_name(),
                          hint=f"rebudget in {qa_gate.config.source}")  # fmt: skip
    misses = [v.message for c in budget.ceilings if not (v := c.evaluate(peak, where)).passed and v.message]
    if misses:
        qa_check.fail("; ".join(misses))
    qa_check.passed(f"{measured} within {limits}")


def test_vram_by_stage_and_no_leak(qa_gate: GateSession, qa_runner: ScenarioRunner, qa_check: Check) -> None:
    """Idle, after load, during generation, after generation; then N generations must not grow memory."""
    qa_check.require_cuda()
    settings = qa_gate.config.run_for(qa_gate.spec.profile)
    case = qa_gate.config.scenario(settings.leak_scenario)
    qa_gate.warm([case])
    device = qa_runner.model.device
    baseline = read_memory(device).allocated_bytes or 0
    readings: list[int] = []
    with qa_runner.run(case, warmup=0) as run:
        for _ in range(settings.leak_images):
            run.generate()
            readings.append(read_memory(device).allocated_bytes or 0)
    result = qa_runner.results[case.id]
    assert result.peak is not None and qa_gate.memory_idle is not None and qa_gate.memory_loaded is not None
    snapshot = MemorySnapshot(qa_gate.memory_idle, qa_gate.memory_loaded, result.peak, read_memory(device),
                              qa_gate.context_bytes)  # fmt: skip
    qa_check.note(stages=snapshot.to_dict(), readings_bytes=readings, baseline_bytes=baseline)
    tolerance = qa_gate.config.thresholds_for(qa_gate.spec.profile).leak_tolerance_bytes
    problem = leak_check(readings, baseline, tolerance)
    if problem:
        qa_check.fail(f"{case.id} x{len(readings)}: {problem}")
    table = "; ".join(f"{stage}: {format_bytes(a or 0)} allocated, {format_bytes(n or 0)} device"
                      for stage, a, _r, n in snapshot.rows())  # fmt: skip
    qa_check.passed(f"no growth over {len(readings)} generations; {table}")
