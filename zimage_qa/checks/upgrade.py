"""Upgrade A/B in one process: the candidate (another weights folder, revision or id) beside the model,
on the same device, measured interleaved A,B,B,A,... so that machine noise cancels. The answer is
"the candidate is X % slower [CI]" on this machine, now, and whether its pictures are the model's."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from zimage_qa.checks.timing import Timer
from zimage_qa.config import Case
from zimage_qa.measure.units import format_bytes
from zimage_qa.models.profiles import LoadedModel, ModelSpec, resolve_spec
from zimage_qa.session import GateSession
from zimage_qa.verdict import Verdict

MIN_PAIRS = 10  # the signed-rank test needs 8 pairs to reach alpha 0.01; two more for power
MEMORY_TOLERANCE = 0.02
MEMORY_FLOOR_BYTES = 256 * 2**20


def candidate_spec(text: str) -> ModelSpec:
    """`--qa-candidate`: a folder, an id, `id@revision` or `modelscope:id@revision`."""
    name, _, revision = (
        text.partition("@") if "@" in text and not text.startswith(("/", ".", "~")) else (text, "", "")
    )
    return resolve_spec(name, revision or None)


@dataclass
class Sample:
    seconds: float
    transient_bytes: int | None  # allocator peak above what was allocated before the generation


def timed(model: LoadedModel, case: Case, guidance: float) -> tuple[Sample, Any]:
    on_cuda = model.device.startswith("cuda")
    before = None
    if on_cuda:
        import torch

        torch.cuda.synchronize(model.device)
        torch.cuda.reset_peak_memory_stats(model.device)
        before = torch.cuda.memory_allocated(model.device)
    started = time.perf_counter()
    image = model.generate(case.prompt, case.width, case.height, case.steps, case.seed, guidance)
    if on_cuda:
        import torch

        torch.cuda.synchronize(model.device)
    seconds = time.perf_counter() - started
    transient = None
    if before is not None:
        import torch

        transient = int(torch.cuda.max_memory_allocated(model.device) - before)
    return Sample(seconds, transient), image


def ab_latency_verdict(gate: GateSession, case: Case, timer: Timer) -> Verdict:
    from zimage_qa.measure.compare import Outcome, compare_paired

    disabled = timer.disabled_reason()
    if disabled:
        return Verdict.not_run(disabled)
    a, b = gate.model(), gate.candidate()
    gate.warm([case])
    gate.warm_candidate(case)
    pairs = max(MIN_PAIRS, gate.config.run_for(gate.spec.profile).rounds * 2)
    samples: dict[str, list[Sample]] = {"a": [], "b": []}
    order = iter(range(10**9))

    def pair() -> None:
        first, second = (("a", a), ("b", b)) if next(order) % 2 == 0 else (("b", b), ("a", a))
        for key, model in (first, second):
            samples[key].append(timed(model, case, gate.config.guidance)[0])

    timer.time(pair, rounds=pairs, warmup=0)
    a_s = [s.seconds for s in samples["a"]]
    b_s = [s.seconds for s in samples["b"]]
    comparison = compare_paired(a_s, b_s, min_effect=gate.options.min_effect)
    values: dict[str, Any] = {
        "a_rounds_s": [round(x, 5) for x in a_s], "b_rounds_s": [round(x, 5) for x in b_s],
        "change": comparison.change, "ci_low": comparison.ci_low, "ci_high": comparison.ci_high,
        "p_value": comparison.p_value, "pairs": len(a_s), "candidate": gate.candidate_label(),
        "model": gate.spec.label, **gate.record_identity(),
    }  # fmt: skip
    memory = _memory(gate, samples)
    values.update(memory[1])
    timer.attach(values)
    head = f"{case.size}/{case.id}: the candidate {gate.candidate_label()} against {gate.spec.label}: "
    verdicts = [memory[0]]
    if comparison.outcome is Outcome.SLOWER:
        verdicts.insert(0, Verdict.failed(head + f"slower, {comparison.describe()} on {gate.device_name()}"))
    elif comparison.outcome is Outcome.TOO_FEW:
        verdicts.insert(0, Verdict.not_run(head + f"too few pairs to judge ({len(a_s)})"))
    else:
        verdicts.insert(0, Verdict.passed(head + f"{comparison.outcome.value}, {comparison.describe()}"))
    from zimage_qa.verdict import worst

    verdict = worst(*verdicts)
    if verdict.ok:
        verdict = verdict.with_message("; ".join(v.message for v in verdicts if v.message))
    return verdict.with_values(**values)


def _memory(gate: GateSession, samples: dict[str, list[Sample]]) -> tuple[Verdict, dict[str, Any]]:
    """A solo deployment's peak is its resident weights plus its largest transient: compared A vs B."""
    weights_a, weights_b = gate.resident_bytes(), gate.candidate_resident_bytes()
    transient_a = [s.transient_bytes for s in samples["a"] if s.transient_bytes is not None]
    transient_b = [s.transient_bytes for s in samples["b"] if s.transient_bytes is not None]
    if weights_a is None or weights_b is None or not transient_a or not transient_b:
        return Verdict.passed(), {}
    peak_a, peak_b = weights_a + max(transient_a), weights_b + max(transient_b)
    values = {"a_peak_bytes": peak_a, "b_peak_bytes": peak_b, "memory_change": peak_b / peak_a - 1}
    text = f"peak {format_bytes(peak_b)} vs {format_bytes(peak_a)} ({(peak_b / peak_a - 1) * 100:+.1f} %)"
    if peak_b - peak_a > max(peak_a * MEMORY_TOLERANCE, MEMORY_FLOOR_BYTES):
        return Verdict.failed(f"the candidate needs more memory: {text}"), values
    return Verdict.passed(text), values


def ab_picture_verdict(gate: GateSession, case: Case) -> Verdict:
    """The candidate's picture for this golden case against the model's, same seed: "same" or what moved."""
    if not gate.spec.judged_for_looks:
        return Verdict.not_run("pictures are not compared for the synthetic profile (random weights)")
    from zimage_qa.golden.measures import measure
    from zimage_qa.golden.pixels import as_pixels
    from zimage_qa.golden.thresholds import Thresholds
    from zimage_qa.golden.thumbnail import make_thumbnail
    from zimage_qa.golden.verdict import judge

    _, image_a = timed(gate.model(), case, gate.config.guidance)
    _, image_b = timed(gate.candidate(), case, gate.config.guidance)
    limits = Thresholds.from_mapping(dict(gate.config.thresholds_for(gate.spec.profile).golden))
    pixels = as_pixels(image_a)
    comparison = judge(measure(pixels), make_thumbnail(pixels), image_b, limits)
    values = {m.name: m.value for m in comparison.measures}
    if comparison.same:
        return Verdict.passed(f"{case.id}: the candidate's picture is the model's (same seed)", **values)
    return Verdict.failed(
        f"{case.id}: the candidate's picture moved: {'; '.join(comparison.reasons)}", **values
    )
