"""Latency: warm, CUDA-synchronised rounds per scenario through pytest-benchmark, with the stage split,
DiT forwards, GPU state and roofline in every record; cold start; back-to-back drift."""

from __future__ import annotations

from typing import Any

import pytest

from zimage_qa.checks.latency import cold_start_verdict, drift_verdict, latency_verdict
from zimage_qa.checks.timing import BenchmarkTimer
from zimage_qa.config import BudgetSet, Scenario
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.plugin import Conclusion
from zimage_qa.runner import ScenarioRunner
from zimage_qa.session import GateSession

pytestmark = [pytest.mark.gpu, pytest.mark.latency]


def test_latency(
    qa_gate: GateSession, qa_runner: ScenarioRunner, qa_budgets: BudgetSet | None, qa_scenario: Scenario,
    benchmark: Any, qa_verdict: Conclusion,
) -> None:  # fmt: skip
    benchmark.group = f"latency {qa_scenario.size}"
    qa_verdict.conclude(
        latency_verdict(qa_gate, qa_runner, qa_budgets, qa_scenario, BenchmarkTimer(benchmark))
    )


def test_cold_start(
    qa_gate: GateSession, qa_model: LoadedModel, qa_budgets: BudgetSet | None, qa_verdict: Conclusion
) -> None:
    """Load, compile (first call per shape, compiled variants) and first-image time, each against its budget."""
    qa_verdict.conclude(cold_start_verdict(qa_gate, qa_model, qa_budgets))


def test_back_to_back_drift(qa_gate: GateSession, qa_runner: ScenarioRunner, qa_verdict: Conclusion) -> None:
    """K generations in a row: the later ones must not creep up or jitter beyond the limits."""
    qa_verdict.conclude(drift_verdict(qa_gate, qa_runner))
