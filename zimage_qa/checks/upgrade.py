"""Upgrade A/B in one process: the candidate (another weights folder, revision or id) beside the model,
on the same device, measured interleaved A,B,B,A,... so that machine noise cancels. The answer is
"the candidate is X % slower [CI]" on this machine, now, and whether its pictures are the model's."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from zimage_qa.checks.timing import Timer
from zimage_qa.config import Case
from zimage_qa.decision import ALPHA, Decision, Looks, Outcome, decide, paired_interval
from zimage_qa.measure.probe import HostCalibration, HostProbe, bracketed
from zimage_qa.measure.units import format_bytes
from zimage_qa.models.profiles import LoadedModel, ModelSpec, resolve_spec
from zimage_qa.session import GateSession
from zimage_qa.verdict import Verdict, worst

MIN_PAIRS = 10  # the first look: the signed-rank interval is bounded from 6 pairs at alpha 0.05
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
    """Pairs A, B (alternating which goes first) until the rule decides whether B is slower, looking after
    MIN_PAIRS and every PAIR_STEP more, at most the configured cap; pairs the host probe saw slow are set
    aside."""
    disabled = timer.disabled_reason()
    if disabled:
        return Verdict.not_run(disabled)
    a, b = gate.model(), gate.candidate()
    gate.warm([case])
    gate.warm_candidate(case)
    settings = gate.config.run_for(gate.spec.profile)
    first = max(MIN_PAIRS, settings.rounds * 2)
    pairs = PairRun(a, b, case, gate.config.guidance, HostProbe(a.device) if settings.host_probe else None,
                    gate.calibration)  # fmt: skip
    looks = Looks(ALPHA, max(first, settings.max_rounds * 2))
    timer.time(pairs.pair, rounds=first, warmup=0, setup=pairs.probe)
    pairs.probe()
    while True:
        kept = pairs.kept()
        final = len(pairs.samples["a"]) + PAIR_STEP > looks.max_n
        alpha = looks.spend(len(kept[0]), final)
        if alpha > 0 and kept[0]:  # nothing to judge when no pair was kept since the last look
            decision = decide(paired_interval(*kept, alpha), gate.options.min_effect, alpha)
            if decision.outcome.decided or final:
                break
        elif final:
            return Verdict.not_run(
                f"{case.id}: not judged: the host ran slow through all {len(pairs.samples['a'])} pairs "
                "(each set aside); rerun on a quiet host"
            )
        before = len(pairs.samples["a"])
        for _ in range(PAIR_STEP):
            pairs.probe()
            pairs.pair()
        pairs.probe()
        timer.extend([s.seconds for s in pairs.samples["b"][before:]])
    return _ab_verdict(gate, case, timer, pairs, decision)


PAIR_STEP = 6


class PairRun:
    """Interleaved pairs of the model (A) and the candidate (B), with the host probe between pairs."""

    def __init__(self, a: LoadedModel, b: LoadedModel, case: Case, guidance: float, probe: HostProbe | None,
                 calibration: HostCalibration) -> None:  # fmt: skip
        self.models, self.case, self.guidance = {"a": a, "b": b}, case, guidance
        self.probe_, self.calibration = probe, calibration
        self.samples: dict[str, list[Sample]] = {"a": [], "b": []}
        self.marks: dict[int, float] = {}

    def probe(self) -> None:
        if self.probe_ is not None:
            reading = self.probe_.read_ms()
            self.marks[len(self.samples["a"])] = reading
            self.calibration.add(reading)

    def pair(self) -> None:
        order = ("a", "b") if len(self.samples["a"]) % 2 == 0 else ("b", "a")
        for key in order:
            self.samples[key].append(timed(self.models[key], self.case, self.guidance)[0])

    def slow(self) -> tuple[bool, ...]:
        n = len(self.samples["a"])
        around = bracketed([self.marks.get(i) for i in range(n + 1)], n)
        return tuple(r is not None and self.calibration.is_slow(r) for r in around)

    def kept(self) -> tuple[list[float], list[float]]:
        """The pairs the host ran at normal speed (all of them if fewer than two were)."""
        slow = self.slow()
        a = [s.seconds for s, bad in zip(self.samples["a"], slow, strict=True) if not bad]
        b = [s.seconds for s, bad in zip(self.samples["b"], slow, strict=True) if not bad]
        if len(a) < 2:
            return [s.seconds for s in self.samples["a"]], [s.seconds for s in self.samples["b"]]
        return a, b


def _ab_verdict(gate: GateSession, case: Case, timer: Timer, pairs: PairRun, decision: Decision) -> Verdict:
    a_s = [s.seconds for s in pairs.samples["a"]]
    b_s = [s.seconds for s in pairs.samples["b"]]
    values: dict[str, Any] = {
        "a_rounds_s": [round(x, 5) for x in a_s], "b_rounds_s": [round(x, 5) for x in b_s],
        **decision.to_dict(), "pairs": len(a_s), "set_aside": sum(pairs.slow()),
        "candidate": gate.candidate_label(), "model": gate.spec.label, **gate.record_identity(),
    }  # fmt: skip
    memory = _memory(gate, pairs.samples)
    values.update(memory[1])
    timer.attach(values)
    head = f"{case.size}/{case.id}: the candidate {gate.candidate_label()} against {gate.spec.label}: "
    described = f"{decision.describe()} on {gate.device_name()}"
    if decision.outcome is Outcome.REGRESSED:
        latency = Verdict.failed(head + f"slower, {described}")
    elif decision.outcome is Outcome.INCONCLUSIVE:
        latency = Verdict.not_run(head + f"not judged, {described}: {decision.why_undecided()}")
    else:
        latency = Verdict.passed(head + f"{decision.outcome.value}, {described}")
    verdicts = [latency, memory[0]]
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
