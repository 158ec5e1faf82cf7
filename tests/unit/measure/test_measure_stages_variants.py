"""The stage recorder on the real reference pipeline, as deployments serve it: eager, compiled in place,
compiled by wrapping, and with accelerate's model offload (on CPU as execution device: the real hooks
run, moving nothing, and a slowed hook stands for the transfer)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import torch

from zimage_qa.measure.stages import GenerationTiming, StageRecorder, count_forwards, is_offloaded
from zimage_qa.measure.warnings_log import WarningsLog
from zimage_qa.models.reference import build_reference_pipeline

if TYPE_CHECKING:
    from tests.unit.measure.conftest import SleepPipeline

STEPS = 2


@pytest.fixture
def pipe() -> Iterator[Any]:
    built = build_reference_pipeline()
    yield built
    torch._dynamo.reset()


class CountingBackend:
    """A torch.compile backend that runs the captured graph eagerly and counts graphs: proof that the
    Dynamo path (where module hooks are traced, not run) was taken."""

    def __init__(self) -> None:
        self.graphs = 0

    def __call__(self, gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Any:
        self.graphs += 1
        return gm.forward


def generate(pipe: Any, steps: int = STEPS) -> None:
    with torch.inference_mode():
        pipe(
            "a red apple",
            height=64,
            width=64,
            num_inference_steps=steps,
            guidance_scale=0.0,
            generator=torch.Generator().manual_seed(0),
            output_type="pil",
        )


def timed(recorder: StageRecorder, pipe: Any, steps: int = STEPS) -> GenerationTiming:
    with recorder.generation() as g:
        generate(pipe, steps)
    return g.timing


def check_sound(timing: GenerationTiming, steps: int = STEPS) -> None:
    assert timing.nfe == steps
    assert timing.text_encoder_calls == 1
    assert timing.vae_decode_calls == 1
    assert all(timing.stages_ms[k] > 0 for k in ("text_encode", "denoise", "vae_decode")), timing
    assert 0 < timing.dit_forward_ms <= timing.stages_ms["denoise"] + 1e-6
    assert timing.stage_sum_ms <= timing.total_ms  # no span counted twice
    assert timing.fallback_marks == 0


def test_eager_reference_pipeline(pipe: Any) -> None:
    with StageRecorder().attach(pipe) as recorder:
        timed(recorder, pipe)
        timing = timed(recorder, pipe)
    check_sound(timing)
    assert "transfer" not in timing.stages_ms
    assert timing.coverage >= 0.5  # a 64x64 image on CPU: tokenising and PIL are a large share


def test_in_place_compile_counts_and_times_from_outside(pipe: Any) -> None:
    backend = CountingBackend()
    recorder = StageRecorder().attach(pipe)
    with WarningsLog().capture("compile"):  # torch.compile's imports warn (DeprecationWarning) on torch 2.13
        pipe.transformer.compile(backend=backend, dynamic=False)
        first = timed(recorder, pipe)  # compiles, with the probe class already in place
    second = timed(recorder, pipe)
    assert backend.graphs >= 1
    check_sound(first)
    check_sound(second)
    graphs = backend.graphs
    recorder.detach()  # the probe class stays on a module compiled in place: no recompile
    with count_forwards(pipe.transformer) as forwards:
        generate(pipe)
    assert forwards.count == STEPS
    assert backend.graphs == graphs
    assert "_zqa_call_listeners" not in pipe.transformer.__dict__


def test_wrap_compile(pipe: Any) -> None:
    backend = CountingBackend()
    with WarningsLog().capture("compile"):
        pipe.transformer = torch.compile(pipe.transformer, backend=backend, dynamic=False)
    with StageRecorder().attach(pipe) as recorder:
        timed(recorder, pipe)
        timing = timed(recorder, pipe)
    assert backend.graphs >= 1
    check_sound(timing)


def test_model_offload_reports_transfer_apart_from_the_stages(
    pipe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accelerate.hooks import CpuOffload

    pipe.enable_model_cpu_offload(device="cpu")
    original = CpuOffload.pre_forward
    delay_s = 0.04

    def slow_pre_forward(self: Any, module: Any, *args: Any, **kwargs: Any) -> Any:
        time.sleep(delay_s)  # what copying the weights to the device costs
        return original(self, module, *args, **kwargs)

    monkeypatch.setattr(CpuOffload, "pre_forward", slow_pre_forward)
    recorder = StageRecorder().attach(pipe)
    assert recorder.offloaded and is_offloaded(pipe)
    timed(recorder, pipe)
    timing = timed(recorder, pipe)
    recorder.detach()
    check_sound(timing)
    # text encoder, transformer and VAE each move once per image
    assert timing.transfer_calls >= 3
    # every slowed move is inside the transfer stage (other transfer calls, such as freeing hooks, do not sleep)
    assert timing.stages_ms["transfer"] >= 3 * delay_s * 1000
    # the transfers sit inside the stage spans and are counted once: the stages still cover the total
    assert timing.coverage >= 0.8
    assert timing.stages_ms["denoise"] < timing.total_ms - timing.stages_ms["transfer"]
    assert CpuOffload.pre_forward is slow_pre_forward  # the per-generation wrapper is gone
    assert "maybe_free_model_hooks" not in pipe.__dict__


def test_unrecorded_cuda_event_falls_back_to_host_time(sleep_pipe: SleepPipeline) -> None:
    """What in-place compile did to CUDA events: one never recorded. The timing says so, no crash."""

    class Event:
        def __init__(self, clock: Any) -> None:
            self.clock, self.time, self.lost = clock, 0.0, False

        def record(self, stream: Any = None) -> None:
            self.time = time.perf_counter()
            self.clock.records += 1
            self.lost = self.clock.records == 3  # the third mark: inside a compiled graph

        def elapsed_time(self, end: Event) -> float:
            if end.lost:
                raise ValueError("Both events must be recorded before calculating elapsed time.")
            return (end.time - self.time) * 1000.0

    class FakeCuda:
        def __init__(self) -> None:
            self.records = 0
            self.cuda = self

        def Event(self, enable_timing: bool) -> Event:
            return Event(self)

        def current_stream(self, device: Any) -> None:
            return None

        def synchronize(self, device: Any) -> None:
            return None

    from zimage_qa.measure import stages

    recorder = StageRecorder().attach(sleep_pipe)
    recorder._clock = stages._CudaClock(FakeCuda(), "cuda:0")
    with recorder.generation() as g:
        sleep_pipe(num_inference_steps=4)
    recorder.detach()
    timing = g.timing
    assert timing.fallback_marks == 1
    assert timing.clock == "cuda-events+wall"
    assert timing.nfe == 4
    assert "not recorded" in timing.notes[0]
    assert timing.stages_ms["denoise"] >= 4 * sleep_pipe.dit_s * 1000


def test_offload_wrappers_come_off_whatever_the_order_and_a_raising_generation(pipe: Any) -> None:
    """The recorder wraps `pipe.maybe_free_model_hooks` and `vae.decode` on the instances for its life, and
    accelerate's hook methods on their classes for each generation: none may stay behind or break."""
    from accelerate.hooks import CpuOffload

    pipe.enable_model_cpu_offload(device="cpu")
    pre_forward = CpuOffload.__dict__["pre_forward"]
    first, second = StageRecorder().attach(pipe), StageRecorder().attach(pipe)
    assert "maybe_free_model_hooks" in pipe.__dict__ and "decode" in pipe.vae.__dict__
    first.detach()  # out of order: the second recorder's wrappers are outermost
    assert timed(second, pipe).transfer_calls >= 3  # still times through the first's detached wrapper
    calls = []

    def fail_in_the_transformer(module: Any, args: Any) -> None:
        calls.append(1)
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    handle = pipe.transformer.register_forward_pre_hook(fail_in_the_transformer)
    with pytest.raises(RuntimeError, match="illegal memory access"):
        timed(second, pipe)
    handle.remove()
    assert calls and CpuOffload.__dict__["pre_forward"] is pre_forward  # the class got its method back
    check_sound(timed(second, pipe))  # the next generation times as before
    second.detach()
    assert "maybe_free_model_hooks" not in pipe.__dict__ and "decode" not in pipe.vae.__dict__
    assert pipe.maybe_free_model_hooks.__func__ is type(pipe).maybe_free_model_hooks
    generate(pipe)  # the pipeline, its hooks and its freeing still work
