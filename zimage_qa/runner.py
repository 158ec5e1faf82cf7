"""Timed and watched generations of the session model: stage split, NFE, memory peaks, GPU state, roofline.

`ScenarioRunner` hooks the pipeline once for the whole session (a `StageRecorder`) and hands out
`ScenarioRun`s. A run's `generate` is what pytest-benchmark times; the run also keeps each
generation's stage split and, around all of them, the allocator and NVML peaks and the GPU state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from zimage_qa.config import Case
from zimage_qa.measure.gpu_state import GpuState
from zimage_qa.measure.memory import MemoryWatch, PeakMemory, SessionPeak
from zimage_qa.measure.probe import HostCalibration, HostProbe, HostState, bracketed
from zimage_qa.measure.roofline import (
    FlopCache,
    Roofline,
    capture_first_forward,
    count_flops,
    forward_flops,
    matmul_peak_tflops,
    zimage_dit_inputs,
)
from zimage_qa.measure.stages import GenerationTiming, StageRecorder
from zimage_qa.measure.stats import Summary, summarize
from zimage_qa.models.offload import release, released, resident_models
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.picture import InvalidPicture, picture_problem

GIB = 2**30


@dataclass(frozen=True)
class ScenarioResult:
    """Warm rounds of one scenario: latency statistics, stage medians, NFE, peaks, GPU state."""

    case: Case
    timings: tuple[GenerationTiming, ...]
    summary: Summary  # seconds, from the synchronised totals
    peak: PeakMemory | None
    gpu_state: GpuState | None
    roofline: Roofline | None
    released_before: tuple[tuple[str, ...], ...] = ()  # offloaded models found on the device before a round
    host: HostState | None = None  # the host probe around each round

    @property
    def times_s(self) -> tuple[float, ...]:
        return tuple(t.total_ms / 1000.0 for t in self.timings)

    @property
    def stages_ms(self) -> dict[str, float]:
        from statistics import median

        return {k: median(t.stages_ms[k] for t in self.timings) for k in self.timings[0].stages_ms}

    @property
    def nfe(self) -> int:
        return max(t.nfe for t in self.timings)

    @property
    def coverage(self) -> float:
        """Share of the median total that the median stages account for."""
        return sum(self.stages_ms.values()) / (self.summary.median * 1000.0) if self.summary.median else 0.0

    def extra_info(self, device: str, model: str) -> dict[str, Any]:
        """What each latency benchmark record carries (pytest-benchmark `extra_info`)."""
        info: dict[str, Any] = {
            "stages_ms": {k: round(v, 3) for k, v in self.stages_ms.items()},
            "nfe": self.nfe, "device": device, "model": model, "resolution": self.case.size,
            "width": self.case.width, "height": self.case.height, "steps": self.case.steps,
            "seed": self.case.seed, "stage_coverage": round(self.coverage, 4),
            "rounds_s": [round(t, 5) for t in self.times_s],
            "clock": self.timings[0].clock,
        }  # fmt: skip
        if "transfer" in self.timings[0].stages_ms:  # offloaded: each round's weight copies, as rounds_s
            info["rounds_transfer_ms"] = [round(t.stages_ms["transfer"], 1) for t in self.timings]
        if self.released_before:  # the gate left a model on the device: released, untimed, before the round
            info["released_before_timing"] = [list(names) for names in self.released_before]
        if self.peak is not None:
            info["vram"] = {
                name: round(value / GIB, 3)
                for name, value in (
                    ("peak_allocated_gib", self.peak.allocated_bytes),
                    ("peak_reserved_gib", self.peak.reserved_bytes),
                    ("nvml_peak_gib", self.peak.nvml_bytes),
                )
                if value is not None
            }
            host = getattr(self.peak, "host_bytes", None)
            if host is not None:
                info["host_peak_gib"] = round(host / GIB, 3)
        if self.host is not None:
            info["host"] = self.host.to_dict()
        if self.gpu_state is not None:
            info["gpu_state"] = self.gpu_state.to_dict()
        if self.roofline is not None:
            info["roofline"] = self.roofline.to_dict()
        return info


@dataclass(frozen=True)
class BackToBack:
    """Images of one scenario in a row, as the drift check made them: the allocated memory before the first
    and after each, and the run's result (peaks). The leak check reads it instead of generating its own."""

    allocated_before: int
    allocated_after: tuple[int, ...]
    result: ScenarioResult | None


@dataclass
class ScenarioRun:
    """Collects the generations of one scenario; `generate` is the benchmarked callable."""

    runner: ScenarioRunner
    case: Case
    warmup: int
    timings: list[GenerationTiming] = field(default_factory=list)
    last_image: Any = None  # judged for validity after the timed rounds, outside the timing
    result: ScenarioResult | None = None  # set when the block ends
    nonfinite: bool = False
    released_before: list[tuple[str, ...]] = field(default_factory=list)  # models found on the device
    watch: MemoryWatch | None = None
    marks: dict[int, float] = field(default_factory=dict)  # probe read before generation i (i = count so far)
    busy: dict[int, bool] = field(default_factory=dict)  # the CPU host was busy at that probe

    def probe(self) -> float | None:
        """Time the host's launch path now (between rounds, the NVML sampler paused); the reading counts as
        the one after the last generation and before the next."""
        probe = self.runner.probe
        if probe is None:
            return None
        if self.watch is not None:
            with self.watch.paused():
                reading = probe.read_ms()
        else:
            reading = probe.read_ms()
        self.marks[len(self.timings)] = reading
        self.busy[len(self.timings)] = probe.busy()
        self.runner.calibration.add(reading)
        return reading

    def host_state(self) -> HostState | None:
        """The probes around each measured round, against the session's normal (None without a probe)."""
        if self.runner.probe is None:
            return None
        marks = [self.marks.get(i) for i in range(len(self.timings) + 1)]
        normal, source = self.runner.calibration.normal()
        return HostState(
            bracketed(marks, len(self.timings))[self.warmup :], normal, source, self.runner.probe.kind
        )

    def generate(self) -> None:
        pipe = self.runner.model.pipe
        resident = resident_models(pipe)
        if resident:  # every timed image starts with the offloaded models on the host. A guard: the gate's
            # own total (`total_ms`) leaves this release out, pytest-benchmark's clock around `generate`
            # does not; `released_before_timing` in the record says it happened (it never did on the H200).
            release(pipe)
            self.released_before.append(resident)
        with self.runner.recorder.generation() as handle:
            self.last_image = self.runner.model.generate(self.case.prompt, self.case.width, self.case.height,
                                                         self.case.steps, self.case.seed, self.runner.guidance)  # fmt: skip
        self.nonfinite = self.nonfinite or self.runner.model.nonfinite_output
        self.timings.append(handle.timing)

    @property
    def measured(self) -> tuple[GenerationTiming, ...]:
        return tuple(self.timings[self.warmup :])


class ScenarioRunner:
    """One per session: the stage hooks, the FLOP counts per size and the matmul peak are made once."""

    def __init__(
        self, model: LoadedModel, guidance: float = 0.0, memory: SessionPeak | None = None,
        calibration: HostCalibration | None = None, probe: HostProbe | None = None,
    ) -> None:  # fmt: skip
        self.model = model
        self.probe = probe  # the host probe between rounds (None: rounds are not probed)
        self.calibration = calibration if calibration is not None else HostCalibration()
        self.guidance = guidance
        self.recorder = StageRecorder(model.device).attach(model.pipe)
        self.flops = FlopCache()
        self.results: dict[str, ScenarioResult] = {}
        self.back_to_back: dict[str, BackToBack] = {}  # by scenario id: the drift check's images
        self._peak_tflops: float | None = None
        self._last_size: tuple[int, int] | None = None
        # The session's peak: the gate's (`GateSession.memory_peak`, started right after the load, before any
        # warm-up), else one from here on
        self.memory = memory if memory is not None else SessionPeak(model.device)

    @property
    def on_cuda(self) -> bool:
        return self.model.device.startswith("cuda")

    @contextlib.contextmanager
    def run(
        self, case: Case, warmup: int = 1, *, record: bool = True, label: str = "latency"
    ) -> Iterator[ScenarioRun]:
        """Generations inside the block are collected; peaks and GPU state cover all of them. With `record`
        the result becomes the scenario's (latency and VRAM read it); drift and leak runs keep their own.
        `label` names the run where it set the session's memory peak."""
        size = (case.width, case.height)
        if size == self._last_size:
            warmup = 0  # the run before was this size: its allocations are still cached, nothing to warm
        elif self.on_cuda:
            self._release_cache()  # else "peak reserved" is the cache left by a larger earlier size
        self._last_size = size
        run = ScenarioRun(self, case, warmup)
        # host RAM everywhere; allocator and NVML peaks on CUDA; an out-of-memory run's peak counts too
        with self.memory.watch(f"{label} {case.size}/{case.id}") as watch:
            run.watch = watch
            yield run
            if run.timings and len(run.timings) not in run.marks:
                run.probe()  # the probe after the last round
        if run.last_image is not None:
            problem = picture_problem(run.last_image, run.nonfinite)
            if problem:
                raise InvalidPicture(f"{case.size}/{case.id}: the pipeline produced an invalid picture: {problem}; "
                                     "check the weights, dtype and VAE (NaN latents show as black)")  # fmt: skip
        if not run.measured:
            return
        result = ScenarioResult(
            case, run.measured, summarize([t.total_ms / 1000.0 for t in run.measured]),
            watch.peak,
            watch.nvml.gpu_state if self.on_cuda else None,
            self.roofline(case, run.measured),
            tuple(run.released_before),
            run.host_state(),
        )  # fmt: skip
        run.result = result
        if record:
            self.results[case.id] = result

    def roofline(self, case: Case, timings: tuple[GenerationTiming, ...]) -> Roofline | None:
        """Achieved DiT TFLOP/s against the measured matmul peak (FLOPs counted once per size). None for an
        offloaded pipeline (model or sequential offload): its FLOP count would cost a transformer load
        (25-30 s on an H200) for a figure its transfers dwarf."""
        from statistics import median

        dit_ms = median(t.dit_forward_ms for t in timings)
        if dit_ms <= 0 or self.recorder.offloaded:
            return None
        flops = self.flops.get((case.width, case.height), lambda: self._count_flops(case))
        return Roofline(float(flops), max(t.nfe for t in timings), dit_ms, self.peak_tflops())

    def _count_flops(self, case: Case) -> int:
        """One short generation to capture the DiT's inputs, then one forward under the FLOP counter. That
        forward is a call outside `pipe(...)`: with model offload it would leave the transformer on the
        device (the next timed image then skips its 12 GB host-to-device copy), hence the release.

        A compiled transformer is never hooked nor called here: a hook changes its guards and each change
        recompiles, until dynamo's cache limit sends later calls to eager (the drift images of a
        `compile=inplace` run took 1.31 s against 0.91 s). Its FLOPs are counted on the uncompiled
        forward with inputs built for the size."""
        pipe = self.model.pipe
        transformer = getattr(pipe.transformer, "_orig_mod", pipe.transformer)
        if getattr(getattr(self.model, "variant", None), "compiled", False):
            args, kwargs = zimage_dit_inputs(transformer, case.height, case.width)
            return count_flops(lambda: transformer.forward(*args, **kwargs))

        def one_step() -> object:
            return self.model.generate(case.prompt, case.width, case.height, 1, case.seed, self.guidance)

        with released(pipe):
            call = capture_first_forward(transformer, one_step)
            return forward_flops(transformer, call.args, call.kwargs)

    def _release_cache(self) -> None:
        import gc

        import torch

        gc.collect()
        torch.cuda.synchronize(self.model.device)
        torch.cuda.empty_cache()

    def peak_tflops(self) -> float:
        if self._peak_tflops is None:
            self._peak_tflops = matmul_peak_tflops(self.model.device)
        return self._peak_tflops

    def close(self) -> None:
        self.recorder.detach()
