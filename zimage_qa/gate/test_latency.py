"""Latency: warm, CUDA-synchronised rounds per scenario through pytest-benchmark, with the stage split,
DiT forwards, GPU state and roofline in every record; cold start; back-to-back drift."""

from __future__ import annotations

from typing import Any

import pytest

from zimage_qa.checks.drift import DriftLimits, judge_drift
from zimage_qa.checks.latency import (
    budget_written,
    cold_start_verdict,
    drift_images,
    latency_info,
    latency_questions,
    latency_verdict,
    updates_budget,
)
from zimage_qa.checks.timing import policy_for
from zimage_qa.config import BudgetSet, Scenario
from zimage_qa.measure.oom import OomGuard
from zimage_qa.measure.timer import BenchmarkTimer
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.plugin import Conclusion
from zimage_qa.runner import ScenarioRun, ScenarioRunner
from zimage_qa.session import GateSession
from zimage_qa.verdict import Verdict

pytestmark = [pytest.mark.gpu, pytest.mark.latency]


def test_latency(
    qa_gate: GateSession,
    qa_runner: ScenarioRunner,
    qa_budgets: BudgetSet | None,
    qa_scenario: Scenario,
    benchmark: Any,
    qa_verdict: Conclusion,
) -> None:
    benchmark.group = f"latency {qa_scenario.size}"
    qa_verdict.conclude(_latency(qa_gate, qa_runner, qa_budgets, qa_scenario, BenchmarkTimer(benchmark)))


def _latency(
    gate: GateSession,
    runner: ScenarioRunner,
    budgets: BudgetSet | None,
    case: Scenario,
    timer: BenchmarkTimer,
) -> Verdict:
    """The scenario's rounds, taken until the budget (and baseline) questions are decided, then judged."""
    disabled = timer.disabled_reason()
    if disabled:
        return Verdict.not_run(disabled)
    gate.warm([case])
    policy = policy_for(gate.settings(), gate.thresholds(), gate.keeps_rounds)
    device = gate.device_name()
    questions = latency_questions(
        case,
        policy,
        budgets,
        gate.baseline(),
        gate.options.min_effect,
        (gate.spec.profile, device, gate.options.report_dir),
    )
    with OomGuard(f"{case.size}/{case.id} on {device}", runner.model.device) as guard:
        result, log = runner.measure(case, timer, policy, questions[1])
    if guard.failure:
        return Verdict.failed(guard.failure)
    info: dict[str, Any] = {}
    if result is not None and len(result.timings) >= 2:
        info = latency_info(
            result, policy, log, (device, gate.spec.label), gate.record_identity(), gate.warnings.records
        )
        timer.attach(info)
    verdict = latency_verdict(result, log, case, policy, questions, budgets, info)
    budget_file = gate.runner_budgets()
    if budget_file.draft is None or result is None or not updates_budget(verdict) or not info:
        return verdict
    return budget_written(verdict, budget_file.draft.add_result(case.id, result), budget_file.path)


def test_cold_start(
    qa_gate: GateSession, qa_model: LoadedModel, qa_budgets: BudgetSet | None, qa_verdict: Conclusion
) -> None:
    """Load, compile (first call per shape, compiled variants) and first-image time, each against its budget."""
    if qa_gate.first_image_s is None and qa_gate.config.scenarios:  # run alone (-k cold_start): one image
        qa_gate.warm([min(qa_gate.config.scenarios, key=lambda c: c.width * c.height)])
    budget_file, first = qa_gate.runner_budgets(), qa_gate.first_image_s
    if budget_file.draft is not None and first is not None:
        budget_file.draft.add_cold_start(qa_model.load_s, first, qa_gate.compile_s)
    where = (qa_gate.spec.profile, qa_gate.device_name(), qa_gate.options.report_dir)
    update = budget_file.path if budget_file.draft is not None else None
    qa_verdict.conclude(
        cold_start_verdict(qa_model.load_s, first, qa_gate.compile_s, qa_budgets, where, update)
    )


def test_back_to_back_drift(qa_gate: GateSession, qa_runner: ScenarioRunner, qa_verdict: Conclusion) -> None:
    """K generations in a row: the later ones must not creep up or jitter beyond the limits."""
    settings, t = qa_gate.settings(), qa_gate.thresholds()
    case = qa_gate.config.scenario(settings.drift_scenario)
    qa_gate.warm([case])
    limits = DriftLimits(t.drift_max_creep, t.drift_max_jitter_ms, t.drift_max_work_creep)

    def judge(run: ScenarioRun) -> Verdict:
        host = run.host_state()
        described = host.describe() if host is not None else ""
        return judge_drift(case.id, drift_images(run.measured, host), limits, host=described)

    verdict, run = qa_runner.run_back_to_back(
        case, settings.drift_images, settings.max_rounds, settings.time_budget_s, judge, settings.host_wait_s
    )
    if run.released_before:  # the gate had left a model on the device: released, untimed, before the image
        verdict = verdict.with_values(released_before_timing=[list(names) for names in run.released_before])
    qa_verdict.conclude(verdict)
