"""Timed and watched generations of the session model: stage split, NFE, memory peaks, GPU state, roofline.

`ScenarioRunner` hooks the pipeline once for the whole session (a `StageRecorder`) and hands out
`ScenarioRun`s. A run's `generate` is what pytest-benchmark times; the run also keeps each
generation's stage split and, around all of them, the allocator and NVML peaks and the GPU state.
`measure` takes a scenario's rounds until the questions asked of them (`zimage_qa.measure.rounds.Question`:
the budget, the baseline) are decided; `run_back_to_back` and `leak_images` make the drift and leak checks'
images. The runner measures; `zimage_qa.checks` judges what it hands back.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from zimage_qa.config import Case
from zimage_qa.measure.memory import MemoryWatch, SessionPeak, read_memory
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
from zimage_qa.measure.rounds import LatencyPolicy, Measurement, Question, Rounds
from zimage_qa.measure.scenario import BackToBack, ScenarioResult
from zimage_qa.measure.stages import GenerationTiming, StageRecorder
from zimage_qa.measure.stats import summarize
from zimage_qa.measure.timer import Timer
from zimage_qa.models.offload import release, released, resident_models
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.picture import PictureJudge, require_valid
from zimage_qa.verdict import Status, Verdict

WAIT_PROBE_S = 0.5  # while waiting out a slow host, one probe this often
SPELL_FACTOR = 3  # back-to-back images in a host spell: at most this many times the images asked for, in all


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
            self.last_image = self.runner.model.generate(
                self.case.prompt,
                self.case.width,
                self.case.height,
                self.case.steps,
                self.case.seed,
                self.runner.guidance,
            )
        self.nonfinite = self.nonfinite or self.runner.model.nonfinite_output
        self.timings.append(handle.timing)

    @property
    def measured(self) -> tuple[GenerationTiming, ...]:
        return tuple(self.timings[self.warmup :])


class ScenarioRunner:
    """One per session: the stage hooks, the FLOP counts per size and the matmul peak are made once."""

    def __init__(
        self,
        model: LoadedModel,
        guidance: float = 0.0,
        memory: SessionPeak | None = None,
        calibration: HostCalibration | None = None,
        probe: HostProbe | None = None,
        picture_judge: PictureJudge | None = None,
    ) -> None:
        self.model = model
        self.picture_judge = picture_judge  # judges each run's last picture (None: not judged)
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
        return self.model.on_cuda

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
        if run.last_image is not None and self.picture_judge is not None:
            require_valid(run.last_image, run.nonfinite, self.picture_judge, f"{case.size}/{case.id}")
        if not run.measured:
            return
        result = ScenarioResult(
            case,
            run.measured,
            summarize([t.total_ms / 1000.0 for t in run.measured]),
            watch.peak,
            watch.nvml.gpu_state if self.on_cuda else None,
            self.roofline(case, run.measured),
            tuple(run.released_before),
            run.host_state(),
        )
        run.result = result
        if record:
            self.results[case.id] = result

    def roofline(self, case: Case, timings: tuple[GenerationTiming, ...]) -> Roofline | None:
        """Achieved DiT TFLOP/s against the measured matmul peak (FLOPs counted once per size). None for an
        offloaded pipeline (model or sequential offload): its FLOP count would cost a transformer load
        (25-30 s on an H200) for a figure its transfers dwarf."""
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

    def measure(
        self, case: Case, timer: Timer, policy: LatencyPolicy, questions: Sequence[Question]
    ) -> tuple[ScenarioResult | None, Measurement]:
        """Time `first_look` rounds, then look: while a question is undecided, wait out a slow host and add
        rounds, within `max_rounds` and `time_budget_s`. Returns the result (None when nothing was timed)."""
        log = Measurement()
        started = time.perf_counter()
        with self.run(case, warmup=policy.warmup) as run:
            timer.time(run.generate, policy.first_look, policy.warmup, run.probe)
            run.probe()
            while True:
                rounds = Rounds(tuple(t.total_ms / 1000.0 for t in run.measured), run.host_state())
                room = _room(policy, rounds, time.perf_counter() - started)
                log.looks += 1
                decided = [q.look(rounds, final=room == 0) for q in questions]
                if all(decided):
                    log.stopped = "decided"
                    break
                if room == 0:
                    log.stopped = (
                        "out of rounds" if len(rounds.times_s) >= policy.max_rounds else "out of time"
                    )
                    break
                log.waited_s += _wait_out(run, policy.host_wait_s - log.waited_s)
                before = len(run.timings)
                for _ in range(room):
                    run.probe()
                    run.generate()
                run.probe()
                timer.extend([t.total_ms / 1000.0 for t in run.timings[before:]])
                log.added += room
        return self.results.get(case.id), log

    def watched(self, case: Case) -> ScenarioResult:
        """The scenario's measured rounds when this session timed them, else one watched generation."""
        result = self.results.get(case.id)
        if result is None or result.peak is None:
            with self.run(case, warmup=0, label="VRAM peak") as run:
                run.generate()
            result = self.results[case.id]
        return result

    def run_back_to_back(
        self,
        case: Case,
        first: int,
        most: int,
        time_budget_s: float,
        judge: Callable[[ScenarioRun], Verdict],
        host_wait_s: float = 0.0,
    ) -> tuple[Verdict, ScenarioRun]:
        """`first` generations back to back, each after a host probe; while `judge` says not yet judged (NOT_RUN),
        more, within `time_budget_s`: up to `most` images at normal host speed, and at most SPELL_FACTOR times
        as many in all. A slow host is waited out (at most `host_wait_s`) before the first image, never between
        two: the images stay back to back, and a spell inside the sequence is outlasted instead. The images are
        kept for the leak check."""
        started = time.perf_counter()
        device = self.model.device
        before, allocated = read_memory(device).allocated_bytes or 0, []
        cap = max(first, most)
        with self.run(case, warmup=0, record=False, label="back-to-back drift") as run:
            run.probe()
            waited = _wait_out(run, host_wait_s)
            batch = first
            while True:
                for _ in range(batch):
                    run.probe()
                    run.generate()
                    allocated.append(read_memory(device).allocated_bytes or 0)
                run.probe()
                verdict = judge(run)
                done, spent = len(run.timings), time.perf_counter() - started
                host = run.host_state()
                normal = done - (host.slow_count if host is not None else 0)
                batch = min(max(2, first // 2), cap - normal, SPELL_FACTOR * cap - done)
                if (
                    verdict.status is not Status.NOT_RUN
                    or batch <= 0
                    or spent + batch * spent / done > time_budget_s
                ):
                    break
        if waited:
            verdict = verdict.with_values(host_wait_s=round(waited, 2))
        self.back_to_back[case.id] = BackToBack(before, tuple(allocated), run.result)
        return verdict, run

    def leak_images(self, case: Case, count: int) -> BackToBack:
        """`count` images in a row with the allocated memory after each: the drift check's when it made as
        many, else new ones."""
        shared = self.back_to_back.get(case.id)
        if shared is not None and len(shared.allocated_after) >= count:
            return shared
        device = self.model.device
        before, readings = read_memory(device).allocated_bytes or 0, []
        with self.run(case, warmup=0, record=False, label="leak check") as run:
            for _ in range(count):
                run.generate()
                readings.append(read_memory(device).allocated_bytes or 0)
        return BackToBack(before, tuple(readings), run.result)


def _room(policy: LatencyPolicy, rounds: Rounds, elapsed_s: float) -> int:
    """How many rounds the next batch may add: a step, within max_rounds and the time budget."""
    done = len(rounds.times_s)
    per = summarize(rounds.times_s).median if rounds.times_s else 0.0
    fit = int((policy.time_budget_s - elapsed_s) / per) if per > 0 else policy.max_rounds
    return max(0, min(policy.step, policy.max_rounds - done, fit))


def _wait_out(run: ScenarioRun, allowance_s: float) -> float:
    """While the last probe reads a slow host, probe again every WAIT_PROBE_S, at most `allowance_s`."""
    calibration = run.runner.calibration
    waited = 0.0
    while allowance_s - waited > 0:
        reading = run.marks.get(len(run.timings))
        if reading is None or not (calibration.is_slow(reading) or run.busy.get(len(run.timings), False)):
            break
        time.sleep(WAIT_PROBE_S)
        waited += WAIT_PROBE_S
        run.probe()
    return waited
