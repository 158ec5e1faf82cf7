"""Model CPU offload as the gate drives it: at the start of every timed generation no offloaded model is on
the device, whatever ran before (the roofline's FLOP count, a generation that raised halfway).

On the CPU accelerate's hooks run but move nothing, so a ledger stands for the device: a `CpuOffload`
pre_forward puts its model there and takes the previous one of the chain off (what it does on a GPU), and
`init_hook` (the offload) takes its model off. The reference pipeline runs the real ZImagePipeline code,
with the real hooks of `enable_model_cpu_offload`.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from zimage_qa.config import Case
from zimage_qa.measure.roofline import capture_first_forward
from zimage_qa.models import offload
from zimage_qa.models.profiles import LoadedModel, ModelSpec, ProfileKind
from zimage_qa.models.reference import build_reference_pipeline
from zimage_qa.models.variant import Variant
from zimage_qa.runner import ScenarioRunner

CASE = Case("tiny", "a red apple", 64, 64, 2, 0, 2)


class Device:
    """Which offloaded models the hooks have put on the (pretend) device, and a log of the moves."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, pipe: Any) -> None:
        from accelerate.hooks import CpuOffload

        self.names = {id(module): name for name, module in pipe.components.items()}
        self.held: set[int] = set()
        self.frees = 0
        pre_forward, init_hook = CpuOffload.pre_forward, CpuOffload.init_hook
        free = type(pipe).maybe_free_model_hooks

        def loading(hook: Any, module: Any, *args: Any, **kwargs: Any) -> Any:
            if hook.prev_module_hook is not None:
                self.held.discard(id(hook.prev_module_hook.model))
            self.held.add(id(module))
            return pre_forward(hook, module, *args, **kwargs)

        def offloading(hook: Any, module: Any) -> Any:
            self.held.discard(id(module))
            return init_hook(hook, module)

        def freeing(pipeline: Any) -> None:
            self.frees += 1
            free(pipeline)

        monkeypatch.setattr(CpuOffload, "pre_forward", loading)
        monkeypatch.setattr(CpuOffload, "init_hook", offloading)
        monkeypatch.setattr(type(pipe), "maybe_free_model_hooks", freeing)
        monkeypatch.setattr(offload, "_on_device", lambda module: id(module) in self.held)

    @property
    def models(self) -> list[str]:
        return sorted(self.names.get(i, "?") for i in self.held)


@pytest.fixture
def model() -> LoadedModel:
    pipe = build_reference_pipeline()
    Variant.parse("offload=model").apply(pipe, "cpu")
    return LoadedModel(ModelSpec(ProfileKind.REFERENCE, "reference"), pipe, "cpu", torch.float32, 0.0)


def test_the_ledger_sees_what_the_hooks_do(model: LoadedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    device = Device(monkeypatch, model.pipe)
    model.generate(CASE.prompt, 64, 64, 2, 0)
    assert device.models == [] and device.frees == 1  # the call ends with maybe_free_model_hooks
    model.pipe.transformer(*zero_inputs(model))  # a component called outside pipe(...)
    assert device.models == ["transformer"]
    assert offload.resident_models(model.pipe) == ("transformer",)
    offload.release(model.pipe)
    assert device.models == [] and offload.resident_models(model.pipe) == ()


def zero_inputs(model: LoadedModel) -> tuple[Any, ...]:
    call = capture_first_forward(model.pipe.transformer, lambda: model.generate(CASE.prompt, 64, 64, 1, 0))
    return call.args


def test_no_model_is_on_the_device_when_a_timed_generation_starts(
    model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The H200 run of issue 14: the latency rounds' roofline counted FLOPs with one transformer forward
    outside pipe(...), which left the transformer on the device; the first back-to-back image then skipped
    its host-to-device copy, started with two models held, and the later images read as a creep."""
    device = Device(monkeypatch, model.pipe)
    runner = ScenarioRunner(model)
    at_start: list[list[str]] = []
    generate = model.generate

    def watched(*args: Any, **kwargs: Any) -> Any:
        at_start.append(device.models)
        return generate(*args, **kwargs)

    monkeypatch.setattr(model, "generate", watched)
    with runner.run(CASE, warmup=1) as latency:
        for _ in range(3):
            latency.generate()
    assert latency.result is not None and latency.result.roofline is None  # not counted when offloaded
    assert runner._count_flops(CASE) > 0  # a FLOP count all the same: a short generation and a bare forward
    with runner.run(CASE, warmup=0, record=False, label="back-to-back drift") as drift:
        for _ in range(3):
            drift.generate()
    runner.close()
    assert at_start == [[]] * len(at_start) and len(at_start) == 3 + 1 + 3  # rounds, the FLOP count's, drift
    assert device.models == []
    assert latency.released_before == drift.released_before == []  # nothing was left for the guard to fix


def test_a_generation_that_raises_halfway_leaves_no_model_on_the_device(
    model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = Device(monkeypatch, model.pipe)
    forwards = []

    def out_of_memory_on_the_second_forward(module: Any, args: Any) -> None:
        forwards.append(1)
        if len(forwards) == 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB.")

    handle = model.pipe.transformer.register_forward_pre_hook(out_of_memory_on_the_second_forward)
    with pytest.raises(torch.OutOfMemoryError):
        model.generate(CASE.prompt, 64, 64, 2, 0)
    handle.remove()
    assert device.models == [] and device.frees == 1
    model.generate(CASE.prompt, 64, 64, 2, 0)  # and the pipeline still runs, hooks in place
    assert device.models == [] and device.frees == 2


def test_a_model_left_on_the_device_is_released_before_the_timed_call(
    model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard for what the gate does not know about (a loader hook's pipeline, a future check): the
    release happens outside the timed span, and the run says it had to."""
    device = Device(monkeypatch, model.pipe)
    runner = ScenarioRunner(model)
    inputs = zero_inputs(model)
    with runner.run(CASE, warmup=0, record=False) as run:
        model.pipe.transformer(*inputs)
        assert device.models == ["transformer"]
        run.generate()
        run.generate()
    runner.close()
    assert run.released_before == [("transformer",)]
    assert run.result is not None and run.result.extra_info("cpu", "reference")["released_before_timing"] == [
        ["transformer"]
    ]
    assert len(run.result.extra_info("cpu", "reference")["rounds_transfer_ms"]) == 2
    assert device.models == []
    # the release was not timed: the first generation made as many transfers as the clean second one
    assert run.timings[0].transfer_calls == run.timings[1].transfer_calls


def test_pipelines_without_model_offload_are_left_alone() -> None:
    class Plain:
        def maybe_free_model_hooks(self) -> None:
            raise AssertionError("not offloaded: nothing to free")

    offload.release(Plain())
    assert offload.resident_models(Plain()) == ()
    assert not offload.model_offloaded(Plain())
    sequential = build_reference_pipeline()
    Variant.parse("offload=sequential").apply(sequential, "cpu")
    assert not offload.model_offloaded(sequential)  # its hooks bring each layer back themselves
    offload.release(sequential)


@pytest.mark.filterwarnings(
    "ignore:`torch.jit.script_method` is deprecated:DeprecationWarning"
)  # torch's own
def test_a_compiled_and_offloaded_transformer_is_seen_on_the_device(
    model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compile=wrap,offload=model: once `maybe_free_model_hooks` re-applies the offload after a call, the
    hook holds the torch.compile wrapper, not the module inside it; both must count as the transformer."""
    model.pipe.transformer = torch.compile(model.pipe.transformer)  # lazy: nothing compiles until a call
    model.pipe.enable_model_cpu_offload(device="cpu")  # what maybe_free_model_hooks does after a call
    held = {id(getattr(hook, "model", None)) for hook in model.pipe._all_hooks}
    assert id(model.pipe.transformer) in held and id(model.pipe.transformer._orig_mod) not in held
    monkeypatch.setattr(offload, "_on_device", lambda module: True)
    assert "transformer" in offload.resident_models(model.pipe)
