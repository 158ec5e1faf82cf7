"""Upgrade A/B (--qa-candidate): the candidate beside the model on the same device, interleaved, per
scenario (latency and memory with a confidence interval) and per golden case (the same picture?).
Collected only when a candidate is given: a run that promises no A/B has none to skip."""

from __future__ import annotations

from typing import Any

import pytest

from zimage_qa.candidate import MIN_PAIRS, PairRun, run_pairs, timed
from zimage_qa.checks.upgrade import Side, ab_latency_verdict, ab_picture_verdict, all_pairs_slow_verdict
from zimage_qa.config import Case, Scenario
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.measure.probe import HostProbe
from zimage_qa.measure.timer import BenchmarkTimer
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.plugin import Conclusion
from zimage_qa.session import GateSession
from zimage_qa.verdict import Verdict

pytestmark = [pytest.mark.gpu, pytest.mark.upgrade]


def test_candidate_latency(
    qa_gate: GateSession, qa_model: LoadedModel, qa_scenario: Scenario, benchmark: Any, qa_verdict: Conclusion
) -> None:
    benchmark.group = f"upgrade {qa_scenario.size}"
    qa_verdict.conclude(_ab_latency(qa_gate, qa_scenario, BenchmarkTimer(benchmark)))


def _ab_latency(gate: GateSession, case: Scenario, timer: BenchmarkTimer) -> Verdict:
    """Interleaved pairs of the model and the candidate until the rule decides, then judged."""
    disabled = timer.disabled_reason()
    if disabled:
        return Verdict.not_run(disabled)
    candidate = gate.candidate()
    a, b = gate.model(), candidate.model()
    gate.warm([case])
    candidate.warm(case)
    settings = gate.settings()
    first = max(MIN_PAIRS, settings.rounds * 2)
    pairs = PairRun(
        a,
        b,
        case,
        gate.config.guidance,
        HostProbe(a.device) if settings.host_probe else None,
        gate.calibration,
    )
    decision = run_pairs(pairs, timer, first, settings.max_rounds * 2, gate.options.min_effect)
    if decision is None:
        return all_pairs_slow_verdict(case, len(pairs.samples["a"]))
    side_a = Side(gate.spec.label, pairs.seconds("a"), gate.resident_bytes(), pairs.transients("a"))
    side_b = Side(candidate.label(), pairs.seconds("b"), candidate.resident_bytes, pairs.transients("b"))
    verdict = ab_latency_verdict(
        case, side_a, side_b, decision, sum(pairs.slow()), gate.device_name(), gate.record_identity()
    )
    timer.attach(dict(verdict.values))
    return verdict


def test_candidate_pictures(
    qa_gate: GateSession, qa_model: LoadedModel, qa_golden_case: Case, qa_verdict: Conclusion
) -> None:
    """The candidate's picture for this golden case against the model's, same seed."""
    if not qa_gate.spec.judged_for_looks:
        qa_verdict.conclude(
            Verdict.not_run("pictures are not compared for the synthetic profile (random weights)")
        )
        return
    _, image_a = timed(qa_model, qa_golden_case, qa_gate.config.guidance)
    _, image_b = timed(qa_gate.candidate().model(), qa_golden_case, qa_gate.config.guidance)
    limits = Thresholds.from_mapping(dict(qa_gate.thresholds().golden))
    qa_verdict.conclude(ab_picture_verdict(qa_golden_case, image_a, image_b, limits))
