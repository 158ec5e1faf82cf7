"""Stub pipelines for the plugin's own tests: real torch modules with controlled time, memory and pictures.

A stub behaves like ZImagePipeline where the gate looks (text_encoder, transformer, vae.decode, the
scheduler, `do_classifier_free_guidance`) and draws a picture chosen by the test, so each gate can be
shown to pass what it should and fail what it should.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from PIL import Image

from zimage_qa.models.profiles import LoadedModel, ModelSpec


class _Sleeper(torch.nn.Module):
    """Sleeps `seconds` per call, or `seconds()` when it is a callable (a changing speed)."""

    def __init__(self, seconds: float | Callable[[], float]) -> None:
        super().__init__()
        self.seconds = seconds
        self.weight = torch.nn.Parameter(torch.zeros(1))

    @property
    def dtype(self) -> torch.dtype:
        return self.weight.dtype

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        time.sleep(self.seconds() if callable(self.seconds) else self.seconds)
        return self.weight


class _Vae(_Sleeper):
    def decode(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        decoded: torch.Tensor = self(*args)
        return decoded


def noise_picture(seed: int, width: int, height: int) -> np.ndarray:
    """Smooth structured noise: a real-looking test picture that depends only on the seed and size."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(max(2, height // 32), max(2, width // 32), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))


@dataclass
class StubPipe:
    """`picture(prompt, seed, width, height) -> uint8 array` decides what comes out."""

    encode_s: float = 0.001
    forward_s: float | Callable[[], float] = 0.002
    decode_s: float = 0.001
    forwards_per_step: int = 1
    picture: Callable[[str, int, int, int], np.ndarray] = lambda p, s, w, h: noise_picture(s, w, h)
    calls: int = 0
    scheduler: Any = field(default_factory=lambda: FlowMatchEulerDiscreteScheduler(shift=3.0))
    do_classifier_free_guidance: bool = False
    fault: Callable[[StubPipe, int, int], None] | None = None  # (pipe, width, height): raise to inject
    generating: bool = False  # inside a call (a FakeCard reads the memory of a generation only then)

    def __post_init__(self) -> None:
        self.text_encoder = _Sleeper(self.encode_s)
        self.transformer = _Sleeper(self.forward_s)
        self.vae = _Vae(self.decode_s)

    def __call__(
        self,
        prompt: str,
        *,
        height: int,
        width: int,
        num_inference_steps: int,
        guidance_scale: float,
        generator: torch.Generator,
        output_type: str = "pil",
    ) -> Any:
        self.calls += 1
        if self.fault is not None:
            self.fault(self, width, height)
        self.do_classifier_free_guidance = guidance_scale > 0
        self.generating = True
        try:
            self.text_encoder(prompt)
            for _ in range(num_inference_steps * self.forwards_per_step):
                self.transformer(None)
            self.vae.decode(None)
        finally:
            self.generating = False
        seed = int(generator.initial_seed())
        pixels = self.picture(prompt, seed, width, height)
        if pixels.dtype != np.uint8:  # float in [0, 1], cast as diffusers' numpy_to_pil does (NaN warns)
            pixels = (pixels * 255).round().astype("uint8")
        image = Image.fromarray(pixels)
        return type("Output", (), {"images": [image]})()


def stub_loader(
    pipe: StubPipe, loads: list[int] | None = None
) -> Callable[[ModelSpec, str, str], LoadedModel]:
    """A `pytest_zqa_loader` result that hands out `pipe` and counts loads in `loads`."""

    def load(spec: ModelSpec, device: str, dtype: str) -> LoadedModel:
        if loads is not None:
            loads.append(1)
        return LoadedModel(spec, pipe, "cpu", torch.float32, 0.01)

    return load


def pair_loader(pipes: dict[str, StubPipe]) -> Callable[[ModelSpec, str, str], LoadedModel]:
    """A loader that hands out the stub named by the spec's label (the model and its --qa-candidate)."""

    def load(spec: ModelSpec, device: str, dtype: str) -> LoadedModel:
        return LoadedModel(spec, pipes[spec.label.rsplit("/", 1)[-1]], "cpu", torch.float32, 0.01)

    return load


FONT = Path(__file__).resolve().parents[2] / "zimage_qa" / "glyphs" / "fonts" / "zqa-sans.otf"


def text_picture(text: str, width: int, height: int) -> np.ndarray:
    """`text` in black on a light background, large and centred: what a model that renders text draws."""
    from PIL import ImageDraw, ImageFont

    canvas = Image.new("RGB", (width, height), (236, 228, 210))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.truetype(str(FONT), size=max(24, width // (len(text) + 2)))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(
        ((width - (right - left)) / 2 - left, (height - (bottom - top)) / 2 - top),
        text,
        font=font,
        fill=(20, 20, 20),
    )
    return np.asarray(canvas)


def oom_at(width: int, height: int) -> Callable[[StubPipe, int, int], None]:
    """A fault: CUDA's out-of-memory error, with its numbers, for generations of one size only."""

    def fault(pipe: StubPipe, w: int, h: int) -> None:
        if (w, h) == (width, height):
            raise torch.OutOfMemoryError(
                "CUDA out of memory. Tried to allocate 9.00 GiB. GPU 0 has a total capacity of 79.19 GiB of "
                "which 1.10 GiB is free. Including non-PyTorch memory, this process has 78.08 GiB memory in use."
            )

    return fault


def sticky_from(call: int) -> Callable[[StubPipe, int, int], None]:
    """A fault: from generation `call` on, every generation fails as a poisoned CUDA context does."""

    def fault(pipe: StubPipe, w: int, h: int) -> None:
        if pipe.calls >= call:
            raise RuntimeError(
                "CUDA error: an illegal memory access was encountered\nCUDA kernel errors might be "
                "asynchronously reported at some other API call, so the stacktrace below might be incorrect."
            )

    return fault


def hang(seconds: float, *, native: bool = False) -> Callable[[StubPipe, int, int], None]:
    """A fault: the generation does not return for `seconds`. `native` blocks SIGALRM first, as a CUDA
    call does in effect (a signal handler only runs when the native call returns)."""

    def fault(pipe: StubPipe, w: int, h: int) -> None:
        if native:
            import signal

            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
        time.sleep(seconds)

    return fault


def nan_picture(seed: int, width: int, height: int) -> np.ndarray:
    """What NaN latents decode to: float pixels, all NaN."""
    return np.full((height, width, 3), np.nan, dtype=np.float32)


def flat_picture(width: int, height: int, level: int = 128) -> np.ndarray:
    return np.full((height, width, 3), level, dtype=np.uint8)


class Ramp:
    """A per-call time that grows by `step` seconds each call: a pipeline that slows down as it runs."""

    def __init__(self, start: float, step: float) -> None:
        self.value, self.step = start, step

    def __call__(self) -> float:
        self.value += self.step
        return self.value


class Spell:
    """A per-call time that is `slow` on the calls in `slow_calls` (a range of forward calls) and `fast`
    otherwise: images made while the host ran slow."""

    def __init__(self, slow: float, fast: float, slow_calls: range) -> None:
        self.slow, self.fast, self.slow_calls, self.calls = slow, fast, slow_calls, 0

    def __call__(self) -> float:
        self.calls += 1
        return self.slow if self.calls - 1 in self.slow_calls else self.fast


class Burst:
    """Slow for the first `slow_images` images (per_image calls each), then fast: noise that settles."""

    def __init__(self, slow: float, fast: float, slow_images: int = 2, per_image: int = 8) -> None:
        self.slow, self.fast, self.limit, self.calls = slow, fast, slow_images * per_image, 0

    def __call__(self) -> float:
        self.calls += 1
        return self.slow if self.calls <= self.limit else self.fast


class Jitter:
    """A slow image every `every` images (2: alternating), fast otherwise (`per_image` calls each)."""

    def __init__(self, fast: float, slow: float, per_image: int = 8, every: int = 2) -> None:
        self.fast, self.slow, self.per_image, self.every, self.calls = fast, slow, per_image, every, 0

    def __call__(self) -> float:
        self.calls += 1
        return self.slow if (self.calls // self.per_image) % self.every == self.every - 1 else self.fast


GIB = 2**30


class FakeCard:
    """pynvml, as far as the gate reads it, for one GPU whose used memory is `held(n)` while the stub makes
    its n-th image (from 1) and `idle` otherwise: a device-level peak chosen by the test, image by image."""

    def __init__(self, pipe: StubPipe, held: Callable[[int], int], idle: int = 1 * GIB) -> None:
        self.pipe, self.held, self.idle = pipe, held, idle

    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        return "gpu0"

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> str:
        return "gpu0"

    def nvmlDeviceGetName(self, handle: str) -> str:
        return "Stub GPU 80GB"

    def nvmlDeviceGetUUID(self, handle: str) -> str:
        return "GPU-stub"

    def nvmlDeviceGetMemoryInfo(self, handle: str) -> Any:
        used = self.held(self.pipe.calls) if self.pipe.generating else self.idle
        return SimpleNamespace(used=used, total=80 * GIB, free=80 * GIB - used)


def on_a_fake_gpu(patch: Any, card: FakeCard | None) -> None:
    """The VRAM checks run on the CPU stub as on a GPU (`gpu_reason` says none is missing), with NVML reading
    `card` (None: no NVML). `patch` is a pytest.MonkeyPatch the caller undoes."""
    from zimage_qa.measure import _nvml
    from zimage_qa.session import GateSession

    patch.setattr(GateSession, "gpu_reason", lambda self: None)
    patch.setattr(_nvml, "library", lambda: card)


class QuietHost:
    """A host probe that always reads the same: the host never runs slow (this machine's load is left out)."""

    def __init__(self, ms: float = 10.0) -> None:
        self.ms, self.calls = ms, 0

    def __call__(self) -> float:
        self.calls += 1
        return self.ms


class SlowHost(QuietHost):
    """A host probe that reads `slow_ms` on the calls in `slow_calls` (a range of probe calls, warm-up
    probes included), `ms` otherwise: a slow spell of the host, as the probe sees it."""

    def __init__(self, slow_calls: range, ms: float = 10.0, slow_ms: float = 20.0) -> None:
        super().__init__(ms)
        self.slow_calls, self.slow_ms = slow_calls, slow_ms

    def __call__(self) -> float:
        self.calls += 1
        return self.slow_ms if self.calls - 1 in self.slow_calls else self.ms


def on_a_scripted_host(patch: Any, host: QuietHost) -> None:
    """Every host probe of the run reads what `host` says. `patch` is a pytest.MonkeyPatch the caller undoes."""
    from zimage_qa.measure.probe import HostProbe

    patch.setattr(HostProbe, "read_ms", lambda self: host())
    patch.setattr(HostProbe, "busy", lambda self: False)  # the load of the machine running the tests
