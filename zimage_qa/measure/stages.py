"""Timing of one generation with its stage split and DiT forward count (NFE), measured from outside
the modules so that it stays true for compiled (`torch.compile(m)` or `m.compile()`) and offloaded
(accelerate's `CpuOffload` / `AlignDevicesHook`) deployments.

`StageRecorder` instruments a ZImagePipeline-like object once (`text_encoder`, `transformer`,
`vae.decode`) and then times each generation:

    recorder = StageRecorder().attach(pipe)
    with recorder.generation() as g:
        pipe(prompt, ...)
    g.timing  # GenerationTiming(total_ms, stages_ms={text_encode, denoise, vae_decode[, transfer]}, nfe)

How it sees the calls: a module's forward hooks run inside the graph of an in-place compiled module,
where CUDA events are not recorded. So the recorder gives the module instance a subclass whose
`__call__` wraps the original one (a "call probe"): it runs before and after the compiled call, never
inside it. Offload transfers are timed by wrapping accelerate's hook methods (`pre_forward`,
`post_forward`) for the span of each generation, plus the pipeline's `maybe_free_model_hooks`.

Clocks: on CUDA each mark records a CUDA event (no synchronisation inside the generation; one at the
end) and the host time; elsewhere only the host time. A mark whose event was not recorded falls back
to host time and the timing says so (`clock`, `notes`) instead of raising.

Stage definitions (so that stage sums cover the total): each stage is the span from the start of
its first call to the end of its last call in the generation, minus the offload transfers inside that
span; `transfer` is the time spent in the offload hooks (present when the pipeline is offloaded).
`denoise` includes the scheduler steps between forwards; the DiT forwards alone (transfers excluded)
are `dit_forward_ms` (what the roofline divides by). Outside the stages stay tokenisation, latent
preparation and image post-processing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from zimage_qa.errors import QAUsageError


class Stage(Enum):
    TEXT_ENCODE = "text_encode"
    DENOISE = "denoise"
    VAE_DECODE = "vae_decode"
    TRANSFER = "transfer"  # offload hooks moving weights between host and device


# accelerate's offload hooks and diffusers' group offloading: (module, class, methods that move weights)
TRANSFER_HOOKS = (
    ("accelerate.hooks", "CpuOffload", ("pre_forward",)),
    ("accelerate.hooks", "AlignDevicesHook", ("pre_forward", "post_forward")),
    ("diffusers.hooks.group_offloading", "GroupOffloadingHook", ("pre_forward", "post_forward")),
)


@dataclass(frozen=True)
class GenerationTiming:
    """One generation: synchronised total, stage spans (ms), DiT forwards (NFE) and call counts."""

    total_ms: float
    stages_ms: dict[str, float]  # text_encode, denoise, vae_decode (+ transfer when offloaded)
    nfe: int
    dit_forward_ms: float = 0.0
    text_encoder_calls: int = 0
    vae_decode_calls: int = 0
    clock: str = "wall"  # "cuda-events", "wall", or "cuda-events+wall" when some events fell back
    fallback_marks: int = 0  # marks whose CUDA event was not recorded, read from host time instead
    transfer_calls: int = 0

    @property
    def stage_sum_ms(self) -> float:
        return sum(self.stages_ms.values())

    @property
    def coverage(self) -> float:
        """Share of the total that the stages account for (>= 0.95 on GPU, >= 0.70 on CPU expected)."""
        return self.stage_sum_ms / self.total_ms if self.total_ms > 0 else 0.0

    @property
    def notes(self) -> tuple[str, ...]:
        if not self.fallback_marks:
            return ()
        return (
            f"{self.fallback_marks} CUDA events were not recorded (a mark inside a compiled graph?); "
            "those marks use host time, which runs ahead of the device",
        )


@dataclass(frozen=True)
class _Mark:
    event: Any  # a recorded torch.cuda.Event, or None on the wall clock
    wall: float  # time.perf_counter()


class _WallClock:
    name = "wall"

    def begin(self) -> None:
        return None

    def mark(self) -> _Mark:
        return _Mark(None, time.perf_counter())

    def sync(self) -> None:
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

    def mark(self) -> _Mark:
        if self._used == len(self._pool):
            self._pool.append(self._torch.cuda.Event(enable_timing=True))
        event = self._pool[self._used]
        self._used += 1
        event.record(self._stream)
        return _Mark(event, time.perf_counter())

    def sync(self) -> None:
        self._torch.cuda.synchronize(self._device)


class _Timeline:
    """Positions (ms after the generation's first mark) of marks; a failed event falls back to host time."""

    def __init__(self, base: _Mark):
        self.base = base
        self.fallbacks = 0

    def at(self, mark: _Mark) -> float:
        if mark.event is not None and self.base.event is not None:
            try:
                return float(self.base.event.elapsed_time(mark.event))
            except (RuntimeError, ValueError):
                self.fallbacks += 1
        return (mark.wall - self.base.wall) * 1000.0


@dataclass
class GenerationHandle:
    """What `StageRecorder.generation()` yields; `timing` is filled when the block ends."""

    _timing: GenerationTiming | None = field(default=None, repr=False)

    @property
    def timing(self) -> GenerationTiming:
        if self._timing is None:
            raise QAUsageError("GenerationHandle.timing is read after the `with recorder.generation()` block")
        return self._timing


# --- the call probe: a subclass per module class whose __call__ runs listeners around the original ---

_LISTENERS = "_zqa_call_listeners"
_PROBES: dict[type, type] = {}


class CallListener:
    """`enter()` before and `exit()` after each outermost call of a probed object."""

    def __init__(self, enter: Callable[[], None], exit: Callable[[], None]):
        self.enter, self.exit = enter, exit


def _probe_class(cls: type) -> type:
    probe = _PROBES.get(cls)
    if probe is not None:
        return probe

    original_call = cls.__call__

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        listeners = self.__dict__.get(_LISTENERS)
        if not listeners:
            return original_call(self, *args, **kwargs)
        for listener in listeners:
            listener.enter()
        try:
            return original_call(self, *args, **kwargs)
        finally:
            for listener in reversed(listeners):
                listener.exit()

    namespace = {"__call__": __call__, "__module__": cls.__module__, "__qualname__": cls.__qualname__}
    new: type = type(cls)(cls.__name__, (cls,), namespace)
    new._zqa_probe_of = cls  # type: ignore[attr-defined]
    _PROBES[cls] = new
    return new


def add_call_listener(obj: Any, listener: CallListener) -> None:
    """Run `listener` around every call of `obj` (a module, compiled in place or wrapped, or any object
    whose class allows it). The class becomes a same-named subclass; nothing inside the call changes."""
    cls = type(obj)
    if not callable(obj) or not hasattr(obj, "__dict__"):
        raise QAUsageError(
            f"cannot time calls of {cls.__name__}: it is not a callable object with attributes"
        )
    if getattr(cls, "_zqa_probe_of", None) is None:
        try:
            obj.__class__ = _probe_class(cls)
        except TypeError as exc:
            raise QAUsageError(f"cannot time calls of {cls.__name__} ({exc}); pass a torch module") from exc
    obj.__dict__.setdefault(_LISTENERS, []).append(listener)


def remove_call_listener(obj: Any, listener: CallListener) -> None:
    """Undo `add_call_listener`. The original class comes back unless the module is compiled in place,
    whose compiled call would then be traced again (the probe alone changes nothing)."""
    listeners = obj.__dict__.get(_LISTENERS, [])
    if listener in listeners:
        listeners.remove(listener)
    if listeners:
        return
    obj.__dict__.pop(_LISTENERS, None)
    original = getattr(type(obj), "_zqa_probe_of", None)
    if original is not None and obj.__dict__.get("_compiled_call_impl") is None:
        obj.__class__ = original


def _resolve_device(module: Any, device: str | None) -> Any:
    import torch

    if device is not None:
        return torch.device(device)
    params = getattr(module, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    return first.device if first is not None else torch.device("cpu")


def is_offloaded(pipe: Any) -> bool:
    """True when accelerate's or diffusers' offload hooks sit on the pipeline's components."""
    if getattr(pipe, "_all_hooks", None):
        return True
    for name in ("transformer", "text_encoder", "vae"):
        module: Any = getattr(pipe, name, None)
        modules = module.modules() if callable(getattr(module, "modules", None)) else ()
        if any(getattr(m, "_hf_hook", None) is not None or hasattr(m, "_diffusers_hook") for m in modules):
            return True
    return False


class StageRecorder:
    """Instruments a pipeline once and times generations. See the module docstring."""

    def __init__(self, device: str | None = None):
        self._device_arg = device
        self._clock: _WallClock | _CudaClock = _WallClock()
        self._probed: list[tuple[Any, CallListener]] = []
        self._patched: list[tuple[Any, str, Any]] = []  # (owner, attribute name, our wrapper)
        self._offloaded = False
        self._depth: dict[Stage, int] = {stage: 0 for stage in Stage}
        self._spans: dict[Stage, list[list[Any]]] | None = None
        self.last: GenerationTiming | None = None

    @property
    def attached(self) -> bool:
        return bool(self._probed) or bool(self._patched)

    @property
    def offloaded(self) -> bool:
        return self._offloaded

    def attach(self, pipe: Any) -> StageRecorder:
        """Probe `pipe.text_encoder` and `pipe.transformer` calls and wrap `pipe.vae.decode` (once)."""
        if self.attached:
            raise QAUsageError("StageRecorder is already attached; call detach() before attaching again")
        transformer = getattr(pipe, "transformer", None)
        if transformer is None or not callable(transformer):
            raise QAUsageError(
                f"{type(pipe).__name__} has no callable `transformer` to time; pass a ZImagePipeline"
            )
        device = _resolve_device(transformer, self._device_arg)
        if device.type == "cuda":
            import torch

            self._clock = _CudaClock(torch, device)
        else:
            self._clock = _WallClock()
        self._offloaded = is_offloaded(pipe)
        self._probe(transformer, Stage.DENOISE)
        text_encoder = getattr(pipe, "text_encoder", None)
        if text_encoder is not None and callable(text_encoder):
            self._probe(text_encoder, Stage.TEXT_ENCODE)
        vae = getattr(pipe, "vae", None)
        if vae is not None and callable(getattr(vae, "decode", None)):
            self._wrap(vae, "decode", Stage.VAE_DECODE)
        if self._offloaded and callable(getattr(pipe, "maybe_free_model_hooks", None)):
            self._wrap(pipe, "maybe_free_model_hooks", Stage.TRANSFER)  # moves every model back to the host
        return self

    def detach(self) -> None:
        """Remove every probe and wrapper. Safe to call twice."""
        for obj, listener in self._probed:
            remove_call_listener(obj, listener)
        self._probed = []
        for owner, name, wrapper in reversed(self._patched):
            _unwrap(owner, name, wrapper)
        self._patched = []

    def __enter__(self) -> StageRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()

    def _probe(self, obj: Any, stage: Stage) -> None:
        listener = CallListener(lambda: self._begin(stage), lambda: self._end(stage))
        add_call_listener(obj, listener)
        self._probed.append((obj, listener))

    def _wrap(self, owner: Any, name: str, stage: Stage) -> None:
        had = name in owner.__dict__
        old = owner.__dict__.get(name)
        inner: Callable[..., Any] = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self._begin(stage)
            try:
                return inner(*args, **kwargs)
            finally:
                self._end(stage)

        wrapper._zqa_held = (had, old)  # type: ignore[attr-defined]  # what the instance held before
        owner.__dict__[name] = wrapper
        self._patched.append((owner, name, wrapper))

    def _begin(self, stage: Stage) -> None:
        self._depth[stage] += 1
        if self._spans is not None and self._depth[stage] == 1:
            self._spans[stage].append([self._clock.mark(), None])

    def _end(self, stage: Stage) -> None:
        self._depth[stage] = max(0, self._depth[stage] - 1)
        if self._spans is not None and self._depth[stage] == 0 and self._spans[stage]:
            span = self._spans[stage][-1]
            if span[1] is None:
                span[1] = self._clock.mark()

    @contextmanager
    def _transfer_hooks(self) -> Iterator[None]:
        """Wrap the offload hooks' methods that move weights, for the span of one generation. The class
        gets its own method back afterwards, also when the generation raised; a method that someone else
        replaced meanwhile is left to them."""
        patched: list[tuple[type, str, Any, Any]] = []
        for module_name, class_name, methods in TRANSFER_HOOKS:
            cls = getattr(sys.modules.get(module_name), class_name, None)
            if not isinstance(cls, type):
                continue
            for method in methods:
                original = cls.__dict__.get(method)
                if original is not None:
                    timed = self._timed_method(original)
                    setattr(cls, method, timed)
                    patched.append((cls, method, original, timed))
        try:
            yield
        finally:
            for cls, method, original, timed in reversed(patched):
                if cls.__dict__.get(method) is timed:
                    setattr(cls, method, original)

    def _timed_method(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._begin(Stage.TRANSFER)
            try:
                return original(*args, **kwargs)
            finally:
                self._end(Stage.TRANSFER)

        return timed

    @contextmanager
    def generation(self) -> Iterator[GenerationHandle]:
        """Time one generation; the handle's `timing` is set when the block ends without error."""
        if not self.attached:
            raise QAUsageError("StageRecorder.generation() needs attach(pipe) first")
        if self._spans is not None:
            raise QAUsageError("StageRecorder.generation() blocks cannot nest; time one generation at a time")
        handle = GenerationHandle()
        self._clock.sync()
        self._clock.begin()
        spans: dict[Stage, list[list[Any]]] = {stage: [] for stage in Stage}
        self._depth = {stage: 0 for stage in Stage}
        start = time.perf_counter()
        base = self._clock.mark()
        self._spans = spans
        try:
            with self._transfer_hooks():
                yield handle
            self._clock.sync()
            total_ms = (time.perf_counter() - start) * 1000.0
        finally:
            self._spans = None
        handle._timing = self.last = self._timing(total_ms, base, spans)

    def _timing(self, total_ms: float, base: _Mark, spans: dict[Stage, list[list[Any]]]) -> GenerationTiming:
        line = _Timeline(base)
        done = {
            stage: [(line.at(s), line.at(e)) for s, e in found if e is not None]
            for stage, found in spans.items()
        }
        transfers = done.pop(Stage.TRANSFER)
        stages_ms = {stage.value: _exclusive_span(found, transfers) for stage, found in done.items()}
        if self._offloaded or transfers:
            stages_ms[Stage.TRANSFER.value] = sum(e - s for s, e in transfers)
        forwards = done[Stage.DENOISE]
        return GenerationTiming(
            total_ms=total_ms,
            stages_ms=stages_ms,
            nfe=len(forwards),
            dit_forward_ms=sum(e - s - _overlap(transfers, s, e) for s, e in forwards),
            text_encoder_calls=len(done[Stage.TEXT_ENCODE]),
            vae_decode_calls=len(done[Stage.VAE_DECODE]),
            clock=self._clock.name if not line.fallbacks else f"{self._clock.name}+wall",
            fallback_marks=line.fallbacks,
            transfer_calls=len(transfers),
        )


def _unwrap(owner: Any, name: str, wrapper: Any) -> None:
    """Take `wrapper` off `owner.<name>`. Detached wrappers only pass calls through; one that another
    recorder wrapped since stays inside that one until it detaches, which then restores past both."""
    wrapper._zqa_detached = True
    if owner.__dict__.get(name) is not wrapper:
        return
    had, old = wrapper._zqa_held
    while had and getattr(old, "_zqa_detached", False):
        had, old = old._zqa_held
    if had:
        owner.__dict__[name] = old
    else:
        del owner.__dict__[name]


def _overlap(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    return sum(max(0.0, min(e, end) - max(s, start)) for s, e in intervals)


def _exclusive_span(found: list[tuple[float, float]], transfers: list[tuple[float, float]]) -> float:
    """First start .. last end, less the transfers inside; 0.0 for a stage that did not run."""
    if not found:
        return 0.0
    start, end = found[0][0], found[-1][1]
    return max(0.0, end - start - _overlap(transfers, start, end))


@dataclass
class ForwardCounter:
    """How many times a module was called inside `count_forwards(module)`."""

    count: int = 0


@contextmanager
def count_forwards(module: Any) -> Iterator[ForwardCounter]:
    """Count outermost calls of `module` (e.g. `pipe.transformer`: NFE per image) inside the block;
    true for compiled (either API) and offloaded modules, since it counts from outside the call.

    with count_forwards(pipe.transformer) as forwards:
        pipe(prompt, num_inference_steps=9)
    forwards.count  # 9 with diffusers 0.42.1
    """
    if not hasattr(module, "register_forward_pre_hook"):
        raise QAUsageError(f"count_forwards needs a torch module, got {type(module).__name__}")
    counter = ForwardCounter()
    depth = [0]

    def enter() -> None:
        depth[0] += 1
        counter.count += depth[0] == 1

    def leave() -> None:
        depth[0] -= 1

    listener = CallListener(enter, leave)
    add_call_listener(module, listener)
    try:
        yield counter
    finally:
        remove_call_listener(module, listener)
