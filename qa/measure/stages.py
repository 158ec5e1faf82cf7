"""Timing of one generation with its stage split and DiT forward count (NFE).

`StageRecorder` hooks a ZImagePipeline-like object once (`text_encoder`, `transformer`, `vae.decode`)
and then times each generation:

    recorder = StageRecorder().attach(pipe)
    with recorder.generation() as g:
        pipe(prompt, ...)
    g.timing  # GenerationTiming(total_ms, stages_ms={text_encode, denoise, vae_decode}, nfe, ...)

On CUDA the hooks record CUDA events (no synchronisation inside the generation; one at the end,
then `elapsed_time`); elsewhere they read `time.perf_counter`. The total is wall time with
`torch.cuda.synchronize()` before the start and after the end.

Stage definitions (so that stage sums cover the total): each stage is the span from the start of
its first call to the end of its last call in the generation. For `denoise` that is first DiT
forward start .. last DiT forward end, so it includes the scheduler steps between forwards; the sum
of the DiT forwards alone is `dit_forward_ms` (what the roofline divides by). Outside the stages
stay tokenisation, latent preparation and image post-processing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from qa.errors import QAUsageError


class Stage(Enum):
    TEXT_ENCODE = "text_encode"
    DENOISE = "denoise"
    VAE_DECODE = "vae_decode"


@dataclass(frozen=True)
class GenerationTiming:
    """One generation: synchronised total, stage spans (ms), DiT forwards (NFE) and call counts."""

    total_ms: float
    stages_ms: dict[str, float]  # text_encode, denoise, vae_decode (0.0 for a stage that did not run)
    nfe: int
    dit_forward_ms: float = 0.0
    text_encoder_calls: int = 0
    vae_decode_calls: int = 0
    clock: str = "wall"  # "cuda-events" or "wall"

    @property
    def stage_sum_ms(self) -> float:
        return sum(self.stages_ms.values())

    @property
    def coverage(self) -> float:
        """Share of the total that the stages account for (>= 0.95 on GPU, >= 0.70 on CPU expected)."""
        return self.stage_sum_ms / self.total_ms if self.total_ms > 0 else 0.0

    def to_extra_info(self) -> dict[str, object]:
        """The pytest-benchmark `extra_info` fields this record owns (`stages_ms`, `nfe`)."""
        return {"stages_ms": {k: round(v, 3) for k, v in self.stages_ms.items()}, "nfe": self.nfe}


class _WallClock:
    name = "wall"

    def mark(self) -> float:
        return time.perf_counter()

    def elapsed_ms(self, start: Any, end: Any) -> float:
        return (float(end) - float(start)) * 1000.0

    def sync(self) -> None:
        return None

    def begin(self) -> None:
        return None


class _CudaClock:
    """CUDA events from a pool reused across generations; recorded on the stream current at begin()."""

    name = "cuda-events"

    def __init__(self, torch: Any, device: Any):
        self._torch = torch
        self._device = device
        self._pool: list[Any] = []
        self._used = 0
        self._stream: Any = None

    def begin(self) -> None:
        self._used = 0
        self._stream = self._torch.cuda.current_stream(self._device)

    def mark(self) -> Any:
        if self._used == len(self._pool):
            self._pool.append(self._torch.cuda.Event(enable_timing=True))
        event = self._pool[self._used]
        self._used += 1
        event.record(self._stream)
        return event

    def elapsed_ms(self, start: Any, end: Any) -> float:
        return float(start.elapsed_time(end))

    def sync(self) -> None:
        self._torch.cuda.synchronize(self._device)


@dataclass
class GenerationHandle:
    """What `StageRecorder.generation()` yields; `timing` is filled when the block ends."""

    _timing: GenerationTiming | None = field(default=None, repr=False)

    @property
    def timing(self) -> GenerationTiming:
        if self._timing is None:
            raise QAUsageError("GenerationHandle.timing is read after the `with recorder.generation()` block")
        return self._timing


def _resolve_device(module: Any, device: str | None) -> Any:
    import torch

    if device is not None:
        return torch.device(device)
    params = getattr(module, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    return first.device if first is not None else torch.device("cpu")


class StageRecorder:
    """Hooks a pipeline once and times generations. See the module docstring."""

    def __init__(self, device: str | None = None):
        self._device_arg = device
        self._clock: _WallClock | _CudaClock = _WallClock()
        self._handles: list[Any] = []
        self._vae: Any = None
        self._vae_had_decode = False
        self._vae_old_decode: Any = None
        self._spans: dict[Stage, list[list[Any]]] | None = None
        self.last: GenerationTiming | None = None

    @property
    def attached(self) -> bool:
        return bool(self._handles)

    def attach(self, pipe: Any) -> StageRecorder:
        """Install hooks on `pipe.text_encoder`, `pipe.transformer` and `pipe.vae.decode` (once)."""
        if self._handles:
            raise QAUsageError("StageRecorder is already attached; call detach() before attaching again")
        transformer = getattr(pipe, "transformer", None)
        if transformer is None or not hasattr(transformer, "register_forward_pre_hook"):
            raise QAUsageError(
                f"{type(pipe).__name__} has no torch `transformer` to time; pass a ZImagePipeline"
            )
        device = _resolve_device(transformer, self._device_arg)
        if device.type == "cuda":
            import torch

            self._clock = _CudaClock(torch, device)
        else:
            self._clock = _WallClock()
        self._hook(transformer, Stage.DENOISE)
        text_encoder = getattr(pipe, "text_encoder", None)
        if text_encoder is not None and hasattr(text_encoder, "register_forward_pre_hook"):
            self._hook(text_encoder, Stage.TEXT_ENCODE)
        vae = getattr(pipe, "vae", None)
        if vae is not None and callable(getattr(vae, "decode", None)):
            self._wrap_decode(vae)
        return self

    def detach(self) -> None:
        """Remove every hook and restore `vae.decode`. Safe to call twice."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._vae is not None:
            if self._vae_had_decode:
                self._vae.__dict__["decode"] = self._vae_old_decode
            else:
                self._vae.__dict__.pop("decode", None)
            self._vae = None

    def __enter__(self) -> StageRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()

    def _hook(self, module: Any, stage: Stage) -> None:
        def pre(_module: Any, _args: Any) -> None:
            self._begin(stage)

        def post(_module: Any, _args: Any, _output: Any) -> None:
            self._end(stage)

        self._handles.append(module.register_forward_pre_hook(pre))
        self._handles.append(module.register_forward_hook(post))

    def _wrap_decode(self, vae: Any) -> None:
        self._vae = vae
        self._vae_had_decode = "decode" in vae.__dict__
        self._vae_old_decode = vae.__dict__.get("decode")
        inner: Callable[..., Any] = vae.decode

        def decode(*args: Any, **kwargs: Any) -> Any:
            self._begin(Stage.VAE_DECODE)
            result = inner(*args, **kwargs)
            self._end(Stage.VAE_DECODE)
            return result

        vae.__dict__["decode"] = decode
        self._handles.append(_NoHandle())  # keeps `attached` true for a pipe whose only hook is the VAE

    def _begin(self, stage: Stage) -> None:
        if self._spans is not None:
            self._spans[stage].append([self._clock.mark(), None])

    def _end(self, stage: Stage) -> None:
        if self._spans is not None and self._spans[stage]:
            self._spans[stage][-1][1] = self._clock.mark()

    @contextmanager
    def generation(self) -> Iterator[GenerationHandle]:
        """Time one generation; the handle's `timing` is set when the block ends without error."""
        if not self._handles:
            raise QAUsageError("StageRecorder.generation() needs attach(pipe) first")
        if self._spans is not None:
            raise QAUsageError("StageRecorder.generation() blocks cannot nest; time one generation at a time")
        handle = GenerationHandle()
        self._clock.sync()
        self._clock.begin()
        spans: dict[Stage, list[list[Any]]] = {stage: [] for stage in Stage}
        start = time.perf_counter()
        self._spans = spans
        try:
            yield handle
            self._clock.sync()
            total_ms = (time.perf_counter() - start) * 1000.0
        finally:
            self._spans = None
        handle._timing = self.last = self._timing(total_ms, spans)

    def _timing(self, total_ms: float, spans: dict[Stage, list[list[Any]]]) -> GenerationTiming:
        done = {stage: [s for s in found if s[1] is not None] for stage, found in spans.items()}
        elapsed = self._clock.elapsed_ms
        stages_ms = {
            stage.value: elapsed(found[0][0], found[-1][1]) if found else 0.0 for stage, found in done.items()
        }
        return GenerationTiming(
            total_ms=total_ms,
            stages_ms=stages_ms,
            nfe=len(done[Stage.DENOISE]),
            dit_forward_ms=sum(elapsed(s, e) for s, e in done[Stage.DENOISE]),
            text_encoder_calls=len(done[Stage.TEXT_ENCODE]),
            vae_decode_calls=len(done[Stage.VAE_DECODE]),
            clock=self._clock.name,
        )


class _NoHandle:
    def remove(self) -> None:
        return None


@dataclass
class ForwardCounter:
    """How many times a module's forward ran inside `count_forwards(module)`."""

    count: int = 0


@contextmanager
def count_forwards(module: Any) -> Iterator[ForwardCounter]:
    """Count forward calls of `module` (e.g. `pipe.transformer`: NFE per image) inside the block.

    with count_forwards(pipe.transformer) as forwards:
        pipe(prompt, num_inference_steps=9)
    forwards.count  # 9 with diffusers 0.42.1
    """
    if not hasattr(module, "register_forward_pre_hook"):
        raise QAUsageError(f"count_forwards needs a torch module, got {type(module).__name__}")
    counter = ForwardCounter()

    def pre(_module: Any, _args: Any) -> None:
        counter.count += 1

    handle = module.register_forward_pre_hook(pre)
    try:
        yield counter
    finally:
        handle.remove()
