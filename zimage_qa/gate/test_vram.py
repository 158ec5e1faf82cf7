"""VRAM: peak allocated, reserved and device-level (NVML) memory per scenario against ceilings; memory by
stage as the published review tabulated it; no growth across repeated generations."""

from __future__ import annotations

import pytest

from zimage_qa.checks.memory import stages_and_card_verdict, stages_verdict, vram_peak_verdict
from zimage_qa.config import BudgetSet, Scenario
from zimage_qa.measure.memory import read_memory
from zimage_qa.measure.oom import OomGuard
from zimage_qa.plugin import Conclusion
from zimage_qa.runner import ScenarioRunner
from zimage_qa.session import GateSession
from zimage_qa.verdict import Verdict

pytestmark = [pytest.mark.gpu, pytest.mark.vram]


def test_vram_peak(
    qa_gate: GateSession,
    qa_runner: ScenarioRunner,
    qa_budgets: BudgetSet | None,
    qa_scenario: Scenario,
    qa_verdict: Conclusion,
) -> None:
    qa_verdict.conclude(_vram_peak(qa_gate, qa_runner, qa_budgets, qa_scenario))


def _vram_peak(
    gate: GateSession, runner: ScenarioRunner, budgets: BudgetSet | None, case: Scenario
) -> Verdict:
    """The latency rounds' peaks when this session measured them, else one watched generation, judged."""
    reason = gate.gpu_reason()
    if reason:
        return Verdict.not_run(reason)
    measured = runner.results.get(case.id)
    if measured is None or measured.peak is None:
        gate.warm([case])
    with OomGuard(f"{case.size}/{case.id} on {gate.device_name()}", runner.model.device) as guard:
        result = runner.watched(case)
    if guard.failure:
        return Verdict.failed(guard.failure)
    where = (gate.spec.profile, gate.device_name(), gate.context_bytes, gate.record_identity())
    return vram_peak_verdict(result, case, budgets, gate.baseline(), gate.options.card_memory_bytes, where)


def test_vram_by_stage_and_no_leak(
    qa_gate: GateSession, qa_runner: ScenarioRunner, qa_verdict: Conclusion
) -> None:
    """Idle, after load, during generation, after generation; then N generations must not grow memory. With
    --qa-card-memory this check also holds the session's card verdict (it runs after the other VRAM checks)."""
    reason = qa_gate.gpu_reason()
    if reason:
        qa_verdict.conclude(Verdict.not_run(reason))
        return
    settings = qa_gate.settings()
    case = qa_gate.config.scenario(settings.leak_scenario)
    qa_gate.warm([case])
    images = qa_runner.leak_images(case, settings.leak_images)
    readings = (qa_gate.memory_idle, qa_gate.memory_loaded, read_memory(qa_runner.model.device))
    own = stages_verdict(case, images, readings, qa_gate.context_bytes, qa_gate.thresholds())
    qa_verdict.conclude(stages_and_card_verdict(own, qa_gate.options.card_memory_bytes, qa_runner.memory))
