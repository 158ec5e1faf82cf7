"""Upgrade A/B in one process: the candidate (another weights folder, revision or id) beside the model,
on the same device, measured interleaved A,B,B,A,... so that machine noise cancels (`zimage_qa.candidate`).
The answer is "the candidate is X % slower [CI]" on this machine, now, and whether its pictures are the
model's. Functions of values: the pairs' times and peaks, the decision on them, the two pictures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zimage_qa.config import Case
from zimage_qa.decision import Decision, Outcome
from zimage_qa.golden.measures import measure
from zimage_qa.golden.pixels import as_pixels
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.golden.thumbnail import make_thumbnail
from zimage_qa.golden.verdict import judge
from zimage_qa.measure.units import format_bytes
from zimage_qa.verdict import Verdict, worst

MEMORY_TOLERANCE = 0.02
MEMORY_FLOOR_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Side:
    """One side of the A/B: its label, its times per pair (s), its resident bytes and transient peaks."""

    label: str
    seconds: Sequence[float]
    resident_bytes: int | None = None
    transients: Sequence[int] = ()


def ab_latency_verdict(
    case: Case, a: Side, b: Side, decision: Decision, set_aside: int, device: str, identity: Mapping[str, str]
) -> Verdict:
    """The rule's decision on B against A (slower fails, undecided is not judged) and their peaks."""
    values: dict[str, Any] = {
        "a_rounds_s": [round(x, 5) for x in a.seconds],
        "b_rounds_s": [round(x, 5) for x in b.seconds],
        **decision.to_dict(),
        "pairs": len(a.seconds),
        "set_aside": set_aside,
        "candidate": b.label,
        "model": a.label,
        **identity,
    }
    memory, memory_values = memory_verdict(a, b)
    values.update(memory_values)
    head = f"{case.size}/{case.id}: the candidate {b.label} against {a.label}: "
    described = f"{decision.describe()} on {device}"
    if decision.outcome is Outcome.REGRESSED:
        latency = Verdict.failed(head + f"slower, {described}")
    elif decision.outcome is Outcome.INCONCLUSIVE:
        latency = Verdict.not_run(head + f"not judged, {described}: {decision.why_undecided()}")
    else:
        latency = Verdict.passed(head + f"{decision.outcome.value}, {described}")
    verdicts = [latency, memory]
    verdict = worst(*verdicts)
    if verdict.ok:
        verdict = verdict.with_message("; ".join(v.message for v in verdicts if v.message))
    return verdict.with_values(**values)


def all_pairs_slow_verdict(case: Case, pairs: int) -> Verdict:
    """No pair to judge: the host probe saw every one of them run on a slow host."""
    return Verdict.not_run(
        f"{case.id}: not judged: the host ran slow through all {pairs} pairs (each set aside); rerun on a quiet host"
    )


def memory_verdict(a: Side, b: Side) -> tuple[Verdict, dict[str, Any]]:
    """A solo deployment's peak is its resident weights plus its largest transient: compared A vs B."""
    if a.resident_bytes is None or b.resident_bytes is None or not a.transients or not b.transients:
        return Verdict.passed(), {}
    peak_a, peak_b = a.resident_bytes + max(a.transients), b.resident_bytes + max(b.transients)
    values = {"a_peak_bytes": peak_a, "b_peak_bytes": peak_b, "memory_change": peak_b / peak_a - 1}
    text = f"peak {format_bytes(peak_b)} vs {format_bytes(peak_a)} ({(peak_b / peak_a - 1) * 100:+.1f} %)"
    if peak_b - peak_a > max(peak_a * MEMORY_TOLERANCE, MEMORY_FLOOR_BYTES):
        return Verdict.failed(f"the candidate needs more memory: {text}"), values
    return Verdict.passed(text), values


def ab_picture_verdict(case: Case, image_a: Any, image_b: Any, limits: Thresholds) -> Verdict:
    """The candidate's picture for this golden case against the model's, same seed: "same" or what moved."""
    pixels = as_pixels(image_a)
    comparison = judge(measure(pixels), make_thumbnail(pixels), image_b, limits)
    values = {m.name: m.value for m in comparison.measures}
    if comparison.same:
        return Verdict.passed(f"{case.id}: the candidate's picture is the model's (same seed)", **values)
    return Verdict.failed(
        f"{case.id}: the candidate's picture moved: {'; '.join(comparison.reasons)}", **values
    )
