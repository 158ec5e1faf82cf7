"""Latency checks: one scenario against its budget (and baseline), cold start, back-to-back drift."""

from __future__ import annotations

import time

from zimage_qa.budgets import ScenarioMeasurement
from zimage_qa.checks.baseline import BaselineQuestion
from zimage_qa.checks.drift import DriftImage, DriftLimits, judge_drift
from zimage_qa.checks.timing import (
    Question,
    Timer,
    budget_question,
    budget_text,
    combine,
    measure,
    policy_for,
    shape_verdict,
)
from zimage_qa.config import BudgetSet, Scenario
from zimage_qa.measure.memory import read_memory
from zimage_qa.measure.oom import OomGuard
from zimage_qa.measure.stages import GenerationTiming
from zimage_qa.measure.units import format_seconds
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.runner import BackToBack, ScenarioResult, ScenarioRun, ScenarioRunner
from zimage_qa.session import GateSession
from zimage_qa.verdict import Status, Verdict


def hint(gate: GateSession) -> str:
    return f"see {gate.options.report_dir}/index.html; rebudget with --qa-update-budgets"


def latency_verdict(
    gate: GateSession, runner: ScenarioRunner, budgets: BudgetSet | None, case: Scenario, timer: Timer
) -> Verdict:
    disabled = timer.disabled_reason()
    if disabled:
        return Verdict.not_run(disabled)
    profile = gate.spec.profile
    gate.warm([case])
    settings = gate.config.run_for(profile)
    policy = policy_for(settings, gate.config.thresholds_for(profile), gate.keeps_rounds)
    device = gate.device_name()
    budget = budget_question(budgets, case, policy, device, hint(gate), profile)
    questions: list[Question] = [budget]
    baseline = gate.baseline()
    if baseline is not None:
        questions.append(BaselineQuestion(baseline.get(case.id), case.id, case.nfe, gate.options.min_effect,
                                          policy.max_rounds))  # fmt: skip
    with OomGuard(f"{case.size}/{case.id} on {device}", runner.model.device) as guard:
        result, log = measure(runner, case, timer, policy, questions)
    if guard.failure:
        return Verdict.failed(guard.failure)
    if result is None or len(result.timings) < 2:
        return Verdict.not_run("fewer than 2 rounds were timed")
    info = {**result.extra_info(device, gate.spec.label), **gate.record_identity()}
    info["rounds_plan"] = (
        f"looked after {policy.first_look} rounds, then every {policy.step}; stopped: {log.stopped}"
    )
    info["warnings"] = [{"category": r.category, "message": r.message} for r in gate.warnings.records]
    timer.attach(info)
    values = {k: v for k, v in info.items() if k not in ("rounds_s", "warnings")}
    budget.stages_ms = result.stages_ms
    parts = [shape_verdict(result, case, policy), *(q.verdict() for q in questions)]
    state = result.gpu_state
    notes = [f"GPU {state.describe()}"] if state is not None and state.moves_latency else []
    verdict = combine(result, log, parts, notes).with_values(**values, **budget_text(budgets, case, policy))
    return _update_budget(gate, case, result, verdict)


def _update_budget(gate: GateSession, case: Scenario, result: ScenarioResult, verdict: Verdict) -> Verdict:
    """--qa-update-budgets: the measurement is kept for the runner's budgets file; never silently green."""
    draft = gate.budget_draft
    if draft is None or (verdict.status is Status.FAILED and "DiT forwards" in verdict.message):
        return verdict
    peak = result.peak
    written = draft.add_scenario(case.id, ScenarioMeasurement(
        result.summary.median, result.summary.max,
        peak.allocated_bytes if peak else None, peak.reserved_bytes if peak else None, peak.nvml_bytes if peak else None,
    ))  # fmt: skip
    return Verdict.failed(
        f"--qa-update-budgets: {written} goes to {gate.budget_file()} at the end of the run; rerun without "
        "the option to judge against it",
        **verdict.values,
    )


def cold_start_verdict(gate: GateSession, model: LoadedModel, budgets: BudgetSet | None) -> Verdict:
    if gate.first_image_s is None and gate.config.scenarios:  # run alone (-k cold_start): one image gives it
        gate.warm([min(gate.config.scenarios, key=lambda c: c.width * c.height)])
    first = gate.first_image_s
    if first is None:
        return Verdict.not_run("no generation happened in this session, so there is no first-image time")
    compile_s = gate.compile_s
    values = {
        "load_s": model.load_s,
        "first_image_s": first,
        **({"compile_s": compile_s} if compile_s else {}),
    }
    parts = [("load", model.load_s), ("compile", compile_s), ("first image", first)]
    summary = ", ".join(f"{what} {format_seconds(v)}" for what, v in parts if v is not None)
    if gate.budget_draft is not None:
        gate.budget_draft.load_s, gate.budget_draft.first_image_s = model.load_s, first
        gate.budget_draft.compile_s = compile_s
        return Verdict.failed(
            f"--qa-update-budgets: cold start ({summary}) goes to {gate.budget_file()}", **values
        )
    limits = (
        {"load": budgets.load_s, "compile": budgets.compile_s, "first image": budgets.first_image_s}
        if budgets
        else {}
    )
    if not any(v is not None for v in limits.values()):
        return Verdict.not_run(f"no cold-start budget for {gate.spec.profile} on {gate.device_name()}; {summary}: "
                               "write this runner's budgets with --qa-update-budgets", **values)  # fmt: skip
    budget = ", ".join(f"{what} <= {format_seconds(limit)}" for what, limit in limits.items() if limit)
    misses = [
        f"{what} {format_seconds(value)} > budget {format_seconds(limit)} (+{(value / limit - 1) * 100:.1f} %)"
        for what, value in parts if value is not None and (limit := limits.get(what)) is not None and value > limit
    ]  # fmt: skip
    if misses:
        return Verdict.failed(f"cold start on {gate.device_name()}: " + "; ".join(misses) + f"; {hint(gate)}",
                              **values, budget=budget)  # fmt: skip
    return Verdict.passed(summary, **values, budget=budget)


def drift_verdict(gate: GateSession, runner: ScenarioRunner) -> Verdict:
    """`drift_images` generations back to back, each after a host probe; while the creep is not decided,
    more, up to `max_rounds` images (within `time_budget_s`)."""
    settings = gate.config.run_for(gate.spec.profile)
    case = gate.config.scenario(settings.drift_scenario)
    gate.warm([case])
    t = gate.config.thresholds_for(gate.spec.profile)
    limits = DriftLimits(t.drift_max_creep, t.drift_max_jitter_ms, t.drift_max_work_creep)
    started = time.perf_counter()
    device = runner.model.device
    before, allocated = read_memory(device).allocated_bytes or 0, []
    with runner.run(case, warmup=0, record=False, label="back-to-back drift") as run:
        batch = settings.drift_images
        while True:
            for _ in range(batch):
                run.probe()
                run.generate()
                allocated.append(read_memory(device).allocated_bytes or 0)
            run.probe()
            verdict = judge_drift(case.id, _drift_images(run), limits)
            done, spent = len(run.timings), time.perf_counter() - started
            batch = min(
                max(2, settings.drift_images // 2), max(settings.drift_images, settings.max_rounds) - done
            )
            if (
                verdict.status is not Status.NOT_RUN
                or batch <= 0
                or spent + batch * spent / done > settings.time_budget_s
            ):
                break
    runner.back_to_back[case.id] = BackToBack(before, tuple(allocated), run.result)  # the leak check's images
    if run.released_before:  # the gate had left a model on the device: released, untimed, before the image
        verdict = verdict.with_values(released_before_timing=[list(names) for names in run.released_before])
    return verdict


def _drift_images(run: ScenarioRun) -> list[DriftImage]:
    host = run.host_state()
    slow = host.slow if host is not None else (False,) * len(run.measured)
    return [_drift_image(timing, s) for timing, s in zip(run.measured, slow, strict=True)]


def _drift_image(timing: GenerationTiming, host_slow: bool) -> DriftImage:
    transfer_ms = timing.stages_ms.get("transfer")  # present when the pipeline is offloaded
    return DriftImage(
        timing.total_ms / 1000.0, None if transfer_ms is None else transfer_ms / 1000.0, host_slow
    )
