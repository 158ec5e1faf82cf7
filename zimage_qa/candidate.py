"""The upgrade candidate (--qa-candidate): another weights folder, revision or id, loaded once beside the
session model on the same device and served the same way, and the interleaved pairs A,B,B,A,... that time
both so that machine noise cancels. The candidate measures; `zimage_qa.checks.upgrade` judges."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zimage_qa.config import Case
from zimage_qa.decision import ALPHA, Decision, Looks, decide, paired_interval
from zimage_qa.device import on_cuda, synchronize
from zimage_qa.measure.probe import HostCalibration, HostProbe, bracketed
from zimage_qa.measure.timer import Timer
from zimage_qa.models.profiles import LoadedModel, ModelSpec, resolve_spec

MIN_PAIRS = 10  # the first look: the signed-rank interval is bounded from 6 pairs at alpha 0.05
PAIR_STEP = 6


def candidate_spec(text: str) -> ModelSpec:
    """`--qa-candidate`: a folder, an id, `id@revision` or `modelscope:id@revision`."""
    name, _, revision = (
        text.partition("@") if "@" in text and not text.startswith(("/", ".", "~")) else (text, "", "")
    )
    return resolve_spec(name, revision or None)


@dataclass
class Candidate:
    """The second pipeline: `load` makes it (served as the model is) once, after `beside` (the session
    model) is loaded; `resident_bytes` is what it added on the device (None off CUDA)."""

    spec: ModelSpec
    load: Callable[[ModelSpec], LoadedModel]
    beside: Callable[[], LoadedModel]
    guidance: float = 0.0
    resident_bytes: int | None = None
    _model: LoadedModel | None = None
    _warm: set[tuple[int, int]] = field(default_factory=set)

    def model(self) -> LoadedModel:
        if self._model is None:
            device = self.beside().device
            before = allocated(device)
            model = self.load(self.spec)
            after = allocated(device)
            self.resident_bytes = after - before if before is not None and after is not None else None
            self._model = model
        return self._model

    def label(self) -> str:
        model = self.model()
        identity = getattr(model, "identity", None)
        return model.spec.label + (f" ({identity.short})" if identity is not None else "")

    def warm(self, case: Case) -> None:
        size = (case.width, case.height)
        if size not in self._warm:
            model = self.model()
            for _ in range(2):
                model.generate(case.prompt, case.width, case.height, case.steps, case.seed, self.guidance)
            self._warm.add(size)


@dataclass
class Sample:
    seconds: float
    transient_bytes: int | None  # allocator peak above what was allocated before the generation


def timed(model: LoadedModel, case: Case, guidance: float) -> tuple[Sample, Any]:
    cuda = model.on_cuda
    before = None
    if cuda:
        import torch

        torch.cuda.synchronize(model.device)
        torch.cuda.reset_peak_memory_stats(model.device)
        before = torch.cuda.memory_allocated(model.device)
    started = time.perf_counter()
    image = model.generate(case.prompt, case.width, case.height, case.steps, case.seed, guidance)
    if cuda:
        synchronize(model.device)
    seconds = time.perf_counter() - started
    transient = None
    if before is not None:
        import torch

        transient = int(torch.cuda.max_memory_allocated(model.device) - before)
    return Sample(seconds, transient), image


class PairRun:
    """Interleaved pairs of the model (A) and the candidate (B), with the host probe between pairs."""

    def __init__(
        self,
        a: LoadedModel,
        b: LoadedModel,
        case: Case,
        guidance: float,
        probe: HostProbe | None,
        calibration: HostCalibration,
    ) -> None:
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

    def seconds(self, key: str) -> list[float]:
        return [s.seconds for s in self.samples[key]]

    def transients(self, key: str) -> list[int]:
        return [s.transient_bytes for s in self.samples[key] if s.transient_bytes is not None]


def run_pairs(pairs: PairRun, timer: Timer, first: int, most: int, min_effect: float) -> Decision | None:
    """Pairs A, B (alternating which goes first) until the rule decides whether B is slower, looking after
    `first` pairs and every PAIR_STEP more, at most `most`; pairs the host probe saw slow are set aside.
    None when no pair was left to judge at the last look (the host ran slow through all of them)."""
    looks = Looks(ALPHA, max(first, most))
    timer.time(pairs.pair, rounds=first, warmup=0, setup=pairs.probe)
    pairs.probe()
    while True:
        kept = pairs.kept()
        final = len(pairs.samples["a"]) + PAIR_STEP > looks.max_n
        alpha = looks.spend(len(kept[0]), final)
        if alpha > 0 and kept[0]:  # nothing to judge when no pair was kept since the last look
            decision = decide(paired_interval(*kept, alpha), min_effect, alpha)
            if decision.outcome.decided or final:
                return decision
        elif final:
            return None
        before = len(pairs.samples["a"])
        for _ in range(PAIR_STEP):
            pairs.probe()
            pairs.pair()
        pairs.probe()
        timer.extend([s.seconds for s in pairs.samples["b"][before:]])


def allocated(device: str) -> int | None:
    """What torch's allocator holds on `device` now (None off CUDA)."""
    if not on_cuda(device):
        return None
    import torch

    torch.cuda.synchronize(device)
    return int(torch.cuda.memory_allocated(device))
