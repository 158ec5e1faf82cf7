"""VRAM: peak allocated, reserved and device-level (NVML) memory per scenario against ceilings; memory by
stage as the published review tabulated it; no growth across repeated generations."""

from __future__ import annotations

import pytest

from zimage_qa.checks.memory import vram_peak_verdict, vram_stages_verdict
from zimage_qa.config import BudgetSet, Scenario
from zimage_qa.plugin import Conclusion
from zimage_qa.runner import ScenarioRunner
from zimage_qa.session import GateSession

pytestmark = [pytest.mark.gpu, pytest.mark.vram]


def test_vram_peak(
    qa_gate: GateSession, qa_runner: ScenarioRunner, qa_budgets: BudgetSet | None, qa_scenario: Scenario,
    qa_verdict: Conclusion,
) -> None:  # fmt: skip
    qa_verdict.conclude(vram_peak_verdict(qa_gate, qa_runner, qa_budgets, qa_scenario))


def test_vram_by_stage_and_no_leak(
    qa_gate: GateSession, qa_runner: ScenarioRunner, qa_verdict: Conclusion
) -> None:
    """Idle, after load, during generation, after generation; then N generations must not grow memory."""
    qa_verdict.conclude(vram_stages_verdict(qa_gate, qa_runner))
