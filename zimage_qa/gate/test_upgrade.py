"""Upgrade A/B (--qa-candidate): the candidate beside the model on the same device, interleaved, per
scenario (latency and memory with a confidence interval) and per golden case (the same picture?).
Collected only when a candidate is given: a run that promises no A/B has none to skip."""

from __future__ import annotations

from typing import Any

import pytest

from zimage_qa.checks.timing import BenchmarkTimer
from zimage_qa.checks.upgrade import ab_latency_verdict, ab_picture_verdict
from zimage_qa.config import Case, Scenario
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.plugin import Conclusion
from zimage_qa.session import GateSession

pytestmark = [pytest.mark.gpu, pytest.mark.upgrade]


def test_candidate_latency(
    qa_gate: GateSession, qa_model: LoadedModel, qa_scenario: Scenario, benchmark: Any, qa_verdict: Conclusion
) -> None:
    benchmark.group = f"upgrade {qa_scenario.size}"
    qa_verdict.conclude(ab_latency_verdict(qa_gate, qa_scenario, BenchmarkTimer(benchmark)))


def test_candidate_pictures(
    qa_gate: GateSession, qa_model: LoadedModel, qa_golden_case: Case, qa_verdict: Conclusion
) -> None:
    qa_verdict.conclude(ab_picture_verdict(qa_gate, qa_golden_case))
