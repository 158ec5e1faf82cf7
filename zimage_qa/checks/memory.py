"""VRAM checks: peaks per scenario against ceilings, memory by stage, no growth over N generations.

--qa-card-memory is judged twice, never for the same numbers: each `test_vram_peak[scenario]` judges its
own scenario's peak (`card_verdict`); the session's peak, every warm-up and run since the load, is judged
once, by `test_vram_by_stage_and_no_leak` (`session_card_verdict`), the last VRAM check of a run. Under
--qa-shard or pytest-xdist that is the process which runs the leak check, and the session it judges is
that process's own."""

from __future__ import annotations

from collections.abc import Mapping

from zimage_qa.checks.baseline import memory_against
from zimage_qa.config import BudgetSet, Scenario, Thresholds
from zimage_qa.measure.baseline import Baseline
from zimage_qa.measure.budget import BudgetContext
from zimage_qa.measure.memory import (
    MemoryKind,
    MemoryReading,
    MemorySnapshot,
    PeakMemory,
    SessionPeak,
    leak_verdict,
)
from zimage_qa.measure.scenario import BackToBack, ScenarioResult
from zimage_qa.measure.units import format_bytes
from zimage_qa.verdict import Status, Verdict, worst


def vram_peak_verdict(
    result: ScenarioResult,
    case: Scenario,
    budgets: BudgetSet | None,
    baseline: Baseline | None,
    card: int | None,
    where: tuple[str, str, int | None, Mapping[str, str]],
) -> Verdict:
    """The scenario's peaks against its ceilings and, with --qa-card-memory (`card`), its own peak against
    the card; `where` is (profile, device, the CUDA context's bytes, the record identity)."""
    profile, device, context_bytes, identity = where
    peak = result.peak
    if peak is None:
        return Verdict.not_run("the allocator peaks were not read (no CUDA device)")
    values = {**peak.to_dict(), "cuda_context_bytes": context_bytes, **identity}
    context = f", of which the CUDA context {format_bytes(context_bytes)}" if context_bytes else ""
    measured = f"{peak.describe()}{context}"
    fits = card_verdict(card, peak, f"{case.size}/{case.id}") if card is not None else None
    judged = [fits] if fits is not None and fits.status is not Status.NOT_RUN else []
    budget = budgets.for_scenario(case.id) if budgets else None
    ceilings = budget.ceilings if budget is not None else ()
    against_baseline = _memory_baseline(baseline, case, result)
    if not ceilings and not judged and not against_baseline:
        return _noted(
            Verdict.not_run(
                f"no VRAM ceiling for {case.id} ({profile} on {device}); "
                f"measured {measured}: write this runner's budgets with --qa-update-budgets"
            ),
            fits,
        ).with_values(**values)
    limits = ", ".join(f"{c.kind.value} <= {format_bytes(c.limit_bytes)}" for c in ceilings)
    where_text = BudgetContext(f"{case.size}/{case.id}", device, hint="rebudget with --qa-update-budgets")
    parts = [*judged, *(c.evaluate(peak, where_text) for c in ceilings)]
    parts += against_baseline
    passed = "; ".join(
        [f"{measured} within {limits}" if ceilings else measured, *(v.message for v in judged)]
    )
    verdict = worst(Verdict.passed(), *parts)
    if verdict.ok:
        verdict = verdict.with_message(passed)
    return _noted(verdict, fits).with_values(**values, **({"budget": limits} if ceilings else {}))


def _memory_baseline(baseline: Baseline | None, case: Scenario, result: ScenarioResult) -> list[Verdict]:
    """This scenario's peaks against --qa-baseline's, whether or not it has ceilings."""
    if baseline is None or result.peak is None:
        return []
    return [memory_against(baseline.get(case.id), case.id, result.vram_gib())]


def stages_verdict(
    case: Scenario,
    images: BackToBack,
    readings: tuple[MemoryReading | None, MemoryReading | None, MemoryReading],
    context_bytes: int | None,
    thresholds: Thresholds,
) -> Verdict:
    """Memory by stage (`readings`: idle, after load, after generation) and no growth over `images`."""
    idle, loaded, after = readings
    result = images.result
    if result is None or result.peak is None or idle is None or loaded is None:
        return Verdict.not_run("memory by stage needs CUDA allocator readings")
    snapshot = MemorySnapshot(idle, loaded, result.peak, after, context_bytes)
    allocated = list(images.allocated_after)
    leak = leak_verdict(
        allocated, images.allocated_before, thresholds.leak_tolerance_bytes, thresholds.leak_per_1000_bytes
    )
    table = "; ".join(
        f"{stage}: {format_bytes(a or 0)} allocated, {format_bytes(n or 0)} device"
        for stage, a, _r, n in snapshot.rows()
    )
    message = f"{case.id} x{len(allocated)}: {leak.message}" + (f"; {table}" if leak.ok else "")
    return leak.with_message(message).with_values(stages=snapshot.to_dict())


def stages_and_card_verdict(own: Verdict, card: int | None, session: SessionPeak) -> Verdict:
    """The leak check's verdict and, with --qa-card-memory (`card`), the session's card verdict with it."""
    return own if card is None else _with_session_card(own, session_card_verdict(card, session))


def card_verdict(card: int, peak: PeakMemory, label: str) -> Verdict:
    """--qa-card-memory for one scenario: its own device-level peak (the latency rounds, else one watched
    generation) must fit the card; torch's reserved peak alone above it fails too. The session's peak is
    judged once, by the leak check: `session_card_verdict`."""
    size = format_bytes(card)
    if peak.nvml_bytes is not None and peak.nvml_bytes > card:
        return Verdict.failed(
            f"device-level peak {format_bytes(peak.nvml_bytes)} does not fit a {size} card "
            f"(--qa-card-memory) for {label}",
            card_bytes=card,
        )
    if peak.reserved_bytes is not None and peak.reserved_bytes > card:
        return Verdict.failed(
            f"torch alone reserved {format_bytes(peak.reserved_bytes)} for {label}, more than "
            f"a {size} card holds (--qa-card-memory)",
            card_bytes=card,
        )
    if peak.nvml_bytes is None:
        return Verdict.not_run(
            f"--qa-card-memory {size} not judged for {label}: no device-level reading (NVML)", card_bytes=card
        )
    return Verdict.passed(
        f"device-level peak {format_bytes(peak.nvml_bytes)} fits a {size} card (--qa-card-memory)",
        card_bytes=card,
    )


def session_card_verdict(card: int, session: SessionPeak) -> Verdict:
    """--qa-card-memory for the whole session: every warm-up (the first image at each size, compile work
    included) and every measured run since the load, and the work between them (guards, the FLOP count),
    must fit the card. Warm-ups and runs are sampled on NVML; between them only torch's allocator is read,
    and its reserved peak is a lower bound of the card's use."""
    peak, size = session.now(), format_bytes(card)
    nvml_in, reserved_in = session.where(MemoryKind.NVML), session.where(MemoryKind.RESERVED)
    values = {
        "card_bytes": card,
        "session_peak_nvml_bytes": peak.nvml_bytes,
        "session_peak_nvml_in": nvml_in,
        "session_peak_reserved_bytes": peak.reserved_bytes,
        "session_peak_reserved_in": reserved_in,
    }
    misses = []
    if peak.nvml_bytes is not None and peak.nvml_bytes > card:
        misses.append(
            f"the session's device-level peak {format_bytes(peak.nvml_bytes)} ({nvml_in}) does not fit "
            f"a {size} card (--qa-card-memory)"
        )
    if peak.reserved_bytes is not None and peak.reserved_bytes > card:
        misses.append(
            f"torch alone reserved {format_bytes(peak.reserved_bytes)} ({reserved_in}), more than a "
            f"{size} card holds"
        )
    if misses:
        return Verdict.failed("; ".join(misses), **values)
    if peak.nvml_bytes is None:
        reserved = (
            f"; torch reserved at most {format_bytes(peak.reserved_bytes)} ({reserved_in})"
            if peak.reserved_bytes is not None
            else ""
        )
        return Verdict.not_run(
            f"--qa-card-memory {size} not judged for the session: no device-level reading (NVML){reserved}",
            **values,
        )
    return Verdict.passed(
        f"the session's device-level peak {format_bytes(peak.nvml_bytes)} ({nvml_in}) fits a {size} card",
        **values,
    )


def _noted(verdict: Verdict, card: Verdict | None) -> Verdict:
    """`verdict` with a card question that could not be judged (NOT_RUN) as a note: never hides its outcome."""
    if card is None or card.status is not Status.NOT_RUN:
        return verdict
    message = f"{verdict.message}; {card.message}" if verdict.message else card.message
    return verdict.with_message(message).with_values(**card.values)


def _with_session_card(own: Verdict, card: Verdict) -> Verdict:
    """The leak check's verdict with the session's card verdict, neither hiding the other: a card that
    passes adds its sentence, one that fails fails the check. One that could not be judged is a note on a
    failed check, and NOT_RUN on a passed one (its message keeping the check's own), so that the summary
    names it and --qa-strict fails it rather than pass silently."""
    if card.ok:
        return own.with_message(f"{own.message}; {card.message}").with_values(**card.values)
    if card.status is Status.NOT_RUN and not own.ok:
        return _noted(own, card)
    values = {**own.values, **card.values}
    if own.status is card.status:  # both failed
        return Verdict(own.status, f"{own.message}; {card.message}", values, own.artefacts)
    return Verdict(
        card.status,
        f"{card.message}; memory by stage and leak: {own.status.value}, {own.message}",
        values,
        own.artefacts,
    )
