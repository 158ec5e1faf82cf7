"""Latency verdicts: one scenario's rounds against its budget (and baseline), cold start, back-to-back drift.

Functions of values: the runner (`zimage_qa.runner.ScenarioRunner`) takes the rounds, asking the questions
made here (`latency_questions`) as they come in; the verdicts judge what it measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from zimage_qa.checks.baseline import BaselineQuestion
from zimage_qa.checks.drift import DriftImage
from zimage_qa.checks.timing import BudgetQuestion, budget_question, budget_text, combine, shape_verdict
from zimage_qa.config import BudgetSet, Scenario
from zimage_qa.measure.baseline import Baseline
from zimage_qa.measure.probe import HostState
from zimage_qa.measure.rounds import LatencyPolicy, Measurement, Question
from zimage_qa.measure.scenario import ScenarioResult
from zimage_qa.measure.stages import GenerationTiming
from zimage_qa.measure.units import format_seconds
from zimage_qa.measure.warnings_log import WarningRecord
from zimage_qa.verdict import Status, Verdict


def hint(report_dir: Path) -> str:
    return f"see {report_dir}/index.html; rebudget with --qa-update-budgets"


def latency_questions(
    case: Scenario,
    policy: LatencyPolicy,
    budgets: BudgetSet | None,
    baseline: Baseline | None,
    min_effect: float,
    where: tuple[str, str, Path],
) -> tuple[BudgetQuestion, list[Question]]:
    """The budget question and every question the rounds must answer (the baseline's too, with one);
    `where` is (profile, device, report folder), as the sentences name them."""
    profile, device, report_dir = where
    budget = budget_question(budgets, case, policy, device, hint(report_dir), profile)
    questions: list[Question] = [budget]
    if baseline is not None:
        questions.append(
            BaselineQuestion(baseline.get(case.id), case.id, case.nfe, min_effect, policy.max_rounds)
        )
    return budget, questions


def latency_info(
    result: ScenarioResult,
    policy: LatencyPolicy,
    log: Measurement,
    model: tuple[str, str],
    identity: Mapping[str, str],
    warnings: Iterable[WarningRecord],
) -> dict[str, Any]:
    """What the scenario's benchmark record carries: the result's extra_info on `model` (device, label), the
    record identity (variant, weights...), how the rounds were planned and the library warnings so far."""
    info = {**result.extra_info(*model), **identity}
    info["rounds_plan"] = (
        f"looked after {policy.first_look} rounds, then every {policy.step}; stopped: {log.stopped}"
    )
    info["warnings"] = [{"category": r.category, "message": r.message} for r in warnings]
    return info


def latency_verdict(
    result: ScenarioResult | None,
    log: Measurement,
    case: Scenario,
    policy: LatencyPolicy,
    questions: tuple[BudgetQuestion, list[Question]],
    budgets: BudgetSet | None,
    info: Mapping[str, Any],
) -> Verdict:
    """The measured rounds: the forward count and stage coverage, then each question's verdict, in one."""
    if result is None or len(result.timings) < 2:
        return Verdict.not_run("fewer than 2 rounds were timed")
    budget, asked = questions
    values = {k: v for k, v in info.items() if k not in ("rounds_s", "warnings")}
    budget.stages_ms = result.stages_ms
    parts = [shape_verdict(result, case, policy), *(q.verdict() for q in asked)]
    state = result.gpu_state
    notes = [f"GPU {state.describe()}"] if state is not None and state.moves_latency else []
    return combine(result, log, parts, notes).with_values(**values, **budget_text(budgets, case, policy))


def updates_budget(verdict: Verdict) -> bool:
    """Whether --qa-update-budgets keeps this measurement: not when the forward count is not comparable."""
    return not (verdict.status is Status.FAILED and "DiT forwards" in verdict.message)


def budget_written(verdict: Verdict, written: str, path: Path) -> Verdict:
    """--qa-update-budgets: the measurement is kept for the runner's budgets file; never silently green."""
    return Verdict.failed(
        f"--qa-update-budgets: {written} goes to {path} at the end of the run; rerun without "
        "the option to judge against it",
        **verdict.values,
    )


def cold_start_verdict(
    load_s: float,
    first_image_s: float | None,
    compile_s: float | None,
    budgets: BudgetSet | None,
    where: tuple[str, str, Path],
    update_path: Path | None = None,
) -> Verdict:
    """Load, compile (compiled variants) and first-image time, each against its budget; `where` is (profile,
    device, report folder). With `update_path` (--qa-update-budgets) it names where they go, never green."""
    if first_image_s is None:
        return Verdict.not_run("no generation happened in this session, so there is no first-image time")
    profile, device, report_dir = where
    values = {
        "load_s": load_s,
        "first_image_s": first_image_s,
        **({"compile_s": compile_s} if compile_s else {}),
    }
    parts = [("load", load_s), ("compile", compile_s), ("first image", first_image_s)]
    summary = ", ".join(f"{what} {format_seconds(v)}" for what, v in parts if v is not None)
    if update_path is not None:
        return Verdict.failed(f"--qa-update-budgets: cold start ({summary}) goes to {update_path}", **values)
    limits = (
        {"load": budgets.load_s, "compile": budgets.compile_s, "first image": budgets.first_image_s}
        if budgets
        else {}
    )
    if not any(v is not None for v in limits.values()):
        return Verdict.not_run(
            f"no cold-start budget for {profile} on {device}; {summary}: "
            "write this runner's budgets with --qa-update-budgets",
            **values,
        )
    budget = ", ".join(f"{what} <= {format_seconds(limit)}" for what, limit in limits.items() if limit)
    misses = [
        f"{what} {format_seconds(value)} > budget {format_seconds(limit)} (+{(value / limit - 1) * 100:.1f} %)"
        for what, value in parts
        if value is not None and (limit := limits.get(what)) is not None and value > limit
    ]
    if misses:
        return Verdict.failed(
            f"cold start on {device}: " + "; ".join(misses) + f"; {hint(report_dir)}", **values, budget=budget
        )
    return Verdict.passed(summary, **values, budget=budget)


def drift_images(timings: tuple[GenerationTiming, ...], host: HostState | None) -> list[DriftImage]:
    """The back-to-back images as the drift verdict reads them: totals, offload transfers, host-slow marks."""
    slow = host.slow if host is not None else (False,) * len(timings)
    return [_drift_image(timing, s) for timing, s in zip(timings, slow, strict=True)]


def _drift_image(timing: GenerationTiming, host_slow: bool) -> DriftImage:
    transfer_ms = timing.stages_ms.get("transfer")  # present when the pipeline is offloaded
    return DriftImage(
        timing.total_ms / 1000.0, None if transfer_ms is None else transfer_ms / 1000.0, host_slow
    )
