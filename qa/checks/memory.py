"""VRAM checks: peaks per scenario against ceilings, memory by stage, no growth over N generations."""

from __future__ import annotations

from qa.config import BudgetSet, Scenario
from qa.measure.budget import BudgetContext
from qa.measure.memory import MemoryKind, MemorySnapshot, PeakMemory, SessionPeak, leak_check, read_memory
from qa.measure.oom import OomGuard
from qa.measure.units import format_bytes
from qa.runner import ScenarioResult, ScenarioRunner
from qa.session import GateSession
from qa.verdict import Verdict, worst


def _result(gate: GateSession, runner: ScenarioRunner, case: Scenario) -> ScenarioResult | Verdict:
    """The latency rounds' peaks when this session measured them, else one watched generation."""
    result = runner.results.get(case.id)
    if result is None or result.peak is None:
        gate.warm([case])
        with OomGuard(f"{case.size}/{case.id} on {gate.device_name()}", runner.model.device) as guard, \
                runner.run(case, warmup=0, label="VRAM peak") as run:  # fmt: skip
            run.generate()
        if guard.failure:
            return Verdict.failed(guard.failure)
        result = runner.results[case.id]
    return result


def vram_peak_verdict(
    gate: GateSession, runner: ScenarioRunner, budgets: BudgetSet | None, case: Scenario
) -> Verdict:
    reason = gate.gpu_reason()
    if reason:
        return Verdict.not_run(reason)
    result = _result(gate, runner, case)
    if isinstance(result, Verdict):
        return result
    peak = result.peak
    if peak is None:
        return Verdict.not_run("the allocator peaks were not read (no CUDA device)")
    values = {**peak.to_dict(), "cuda_context_bytes": gate.context_bytes, **gate.record_identity()}
    context = f", of which the CUDA context {format_bytes(gate.context_bytes)}" if gate.context_bytes else ""
    measured = f"{peak.describe()}{context}"
    parts: list[Verdict] = []
    card = gate.options.card_memory_bytes
    if card is not None:
        parts.append(card_verdict(card, runner.memory, peak, f"{case.size}/{case.id}"))
    budget = budgets.for_scenario(case.id) if budgets else None
    if budget is None or not budget.ceilings:
        if card is None:
            parts.append(Verdict.not_run(f"no VRAM ceiling for {case.id} ({gate.spec.profile} on {gate.device_name()}); "
                                         f"measured {measured}: write this runner's budgets with --qa-update-budgets"))  # fmt: skip
        return worst(Verdict.passed(f"{measured} fits {format_bytes(card or 0)}"), *parts).with_values(
            **values
        )
    limits = ", ".join(f"{c.kind.value} <= {format_bytes(c.limit_bytes)}" for c in budget.ceilings)
    where = BudgetContext(
        f"{case.size}/{case.id}", gate.device_name(), hint="rebudget with --qa-update-budgets"
    )
    parts += [c.evaluate(peak, where) for c in budget.ceilings]
    parts += gate.memory_baseline_verdicts(case, result)
    verdict = worst(Verdict.passed(f"{measured} within {limits}"), *parts)
    if verdict.ok:
        verdict = verdict.with_message(f"{measured} within {limits}")
    return verdict.with_values(**values, budget=limits)


def vram_stages_verdict(gate: GateSession, runner: ScenarioRunner) -> Verdict:
    """Idle, after load, during generation, after generation; then N generations must not grow memory."""
    reason = gate.gpu_reason()
    if reason:
        return Verdict.not_run(reason)
    settings = gate.config.run_for(gate.spec.profile)
    case = gate.config.scenario(settings.leak_scenario)
    gate.warm([case])
    device = runner.model.device
    baseline = read_memory(device).allocated_bytes or 0
    readings: list[int] = []
    with runner.run(case, warmup=0, record=False, label="leak check") as run:
        for _ in range(settings.leak_images):
            run.generate()
            readings.append(read_memory(device).allocated_bytes or 0)
    result = run.result
    if result is None or result.peak is None or gate.memory_idle is None or gate.memory_loaded is None:
        return Verdict.not_run("memory by stage needs CUDA allocator readings")
    snapshot = MemorySnapshot(
        gate.memory_idle, gate.memory_loaded, result.peak, read_memory(device), gate.context_bytes
    )
    values = {"stages": snapshot.to_dict(), "readings_bytes": readings, "baseline_bytes": baseline}
    tolerance = gate.config.thresholds_for(gate.spec.profile).leak_tolerance_bytes
    problem = leak_check(readings, baseline, tolerance)
    card = gate.options.card_memory_bytes
    fits = card_verdict(card, runner.memory) if card is not None else Verdict.passed()
    if problem:
        return worst(Verdict.failed(f"{case.id} x{len(readings)}: {problem}", **values), fits)
    table = "; ".join(f"{stage}: {format_bytes(a or 0)} allocated, {format_bytes(n or 0)} device"
                      for stage, a, _r, n in snapshot.rows())  # fmt: skip
    return worst(Verdict.passed(f"no growth over {len(readings)} generations; {table}", **values), fits)


def card_verdict(
    card: int, session: SessionPeak, scenario: PeakMemory | None = None, label: str = ""
) -> Verdict:
    """--qa-card-memory: the scenario's device-level peak, and the session's (every generation since the
    first measured check: drift, leak, warm-up of a new size, the FLOP count), must fit the card. Between
    measured runs only torch's allocator is read: its reserved peak is a lower bound of the card's use."""
    peak, size = session.now(), format_bytes(card)
    nvml_in, reserved_in = session.where(MemoryKind.NVML), session.where(MemoryKind.RESERVED)
    values = {"card_bytes": card, "session_peak_nvml_bytes": peak.nvml_bytes, "session_peak_nvml_in": nvml_in,
              "session_peak_reserved_bytes": peak.reserved_bytes, "session_peak_reserved_in": reserved_in}  # fmt: skip
    own = scenario.nvml_bytes if scenario is not None else None
    misses = []
    if own is not None and own > card:
        misses.append(f"device-level peak {format_bytes(own)} does not fit a {size} card (--qa-card-memory) "
                      f"for {label}")  # fmt: skip
    if peak.nvml_bytes is not None and peak.nvml_bytes > max(card, own or 0):
        misses.append(f"the session's device-level peak {format_bytes(peak.nvml_bytes)} ({nvml_in}) does not fit "
                      f"a {size} card (--qa-card-memory)")  # fmt: skip
    if peak.reserved_bytes is not None and peak.reserved_bytes > card:
        misses.append(f"torch alone reserved {format_bytes(peak.reserved_bytes)} ({reserved_in}), more than a "
                      f"{size} card holds")  # fmt: skip
    if misses:
        return Verdict.failed("; ".join(misses), **values)
    if peak.nvml_bytes is None:
        return Verdict.not_run(f"no device-level reading (NVML) says whether the session fits a {size} card; torch "
                               f"reserved at most {format_bytes(peak.reserved_bytes or 0)}", **values)  # fmt: skip
    return Verdict.passed(
        f"the session's device-level peak {format_bytes(peak.nvml_bytes)} ({nvml_in}) fits a {size} card",
        **values,
    )
