"""How far the DiT runs from what the card can do: FLOPs of one forward (torch's FLOP counter, counted
once per shape), the measured matmul peak (once per device), and the achieved TFLOP/s of denoise."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from zimage_qa.device import synchronize
from zimage_qa.errors import QAUsageError


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs that `fn()` performs, counted by torch.utils.flop_counter.FlopCounterMode under no_grad."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def forward_flops(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> int:
    """FLOPs of one `module(*args, **kwargs)`."""
    return count_flops(lambda: module(*args, **(kwargs or {})))


@dataclass(frozen=True)
class CapturedCall:
    """The arguments of one forward call, kept to replay it under the FLOP counter."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def capture_first_forward(module: Any, run: Callable[[], object]) -> CapturedCall:
    """Run `run()` (e.g. one short generation) and keep the arguments of `module`'s first forward.
    `forward_flops(module, call.args, call.kwargs)` then counts exactly the shapes the pipeline uses."""
    captured: list[CapturedCall] = []

    def pre(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not captured:
            captured.append(CapturedCall(tuple(args), dict(kwargs)))

    handle = module.register_forward_pre_hook(pre, with_kwargs=True)
    try:
        run()
    finally:
        handle.remove()
    if not captured:
        raise QAUsageError(f"{type(module).__name__} never ran a forward during the call; nothing to count")
    return captured[0]


def zimage_dit_inputs(
    transformer: Any, height: int, width: int, caption_len: int = 64, vae_scale_factor: int = 8
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Inputs of one ZImageTransformer2DModel forward at `height`x`width` (batch 1), on the
    transformer's device and dtype: ([latent C,1,H,W], t, [caption L,D]), return_dict=False."""
    import torch

    param = next(transformer.parameters())
    config = transformer.config
    h = 2 * (height // (vae_scale_factor * 2))
    w = 2 * (width // (vae_scale_factor * 2))
    gen = torch.Generator(device="cpu").manual_seed(0)
    latent = torch.randn(config.in_channels, 1, h, w, generator=gen).to(param.device, param.dtype)
    caption = torch.randn(caption_len, config.cap_feat_dim, generator=gen).to(param.device, param.dtype)
    t = torch.tensor([0.5], device=param.device, dtype=param.dtype)
    return ([latent], t, [caption]), {"return_dict": False}


class FlopCache:
    """FLOPs per key (resolution, caption length, model id...), each counted once."""

    def __init__(self) -> None:
        self._flops: dict[Hashable, int] = {}

    def get(self, key: Hashable, count: Callable[[], int]) -> int:
        if key not in self._flops:
            self._flops[key] = count()
        return self._flops[key]

    def __contains__(self, key: Hashable) -> bool:
        return key in self._flops

    def __len__(self) -> int:
        return len(self._flops)


@functools.cache
def _peak(device: str, dtype_name: str, n: int, reps: int) -> float:
    import torch

    dev = torch.device(device)
    dtype = getattr(torch, dtype_name)
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(dev, dtype)
    b = torch.randn(n, n, generator=gen).to(dev, dtype)
    with torch.no_grad():
        for _ in range(3):
            torch.mm(a, b)
        synchronize(dev)
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        synchronize(dev)
    elapsed = time.perf_counter() - start
    return reps * 2 * n**3 / elapsed / 1e12


def matmul_peak_tflops(
    device: str = "cuda", dtype: str | None = None, n: int | None = None, reps: int | None = None
) -> float:
    """Measured dense matmul throughput (TFLOP/s), once per (device, dtype, n, reps) per process.

    Defaults: CUDA bf16 8192^3 x 20 (about 0.3 s on an H100); CPU float32 1024^3 x 5. `dtype` is a
    torch dtype name ('bfloat16', 'float16', 'float32')."""
    on_cpu = str(device).startswith("cpu")
    dtype = dtype or ("float32" if on_cpu else "bfloat16")
    n = n or (1024 if on_cpu else 8192)
    reps = reps or (5 if on_cpu else 20)
    if n <= 0 or reps <= 0:
        raise QAUsageError(f"matmul size {n} and repetitions {reps} must be positive")
    return _peak(str(device), dtype, n, reps)


def achieved_tflops(flops_per_forward: float, nfe: int, denoise_ms: float) -> float:
    """TFLOP/s the denoise stage achieved: nfe forwards of `flops_per_forward` in `denoise_ms`."""
    if denoise_ms <= 0:
        raise QAUsageError(f"denoise time {denoise_ms} ms must be positive to compute TFLOP/s")
    return flops_per_forward * nfe / (denoise_ms / 1000.0) / 1e12


@dataclass(frozen=True)
class Roofline:
    flops_per_forward: float
    nfe: int
    denoise_ms: float
    peak_tflops: float

    @property
    def achieved_tflops(self) -> float:
        return achieved_tflops(self.flops_per_forward, self.nfe, self.denoise_ms)

    @property
    def fraction_of_peak(self) -> float:
        return self.achieved_tflops / self.peak_tflops if self.peak_tflops > 0 else 0.0

    @property
    def floor_ms(self) -> float:
        """Denoise time at the measured peak: the compute floor."""
        return (
            self.flops_per_forward * self.nfe / (self.peak_tflops * 1e12) * 1000.0
            if self.peak_tflops
            else 0.0
        )

    def describe(self) -> str:
        """'DiT 55.6 TFLOP/forward x 8 in 1237 ms: 360 TFLOP/s, 46 % of the measured 777 TFLOP/s
        peak (floor 572 ms)'."""
        return (
            f"DiT {self.flops_per_forward / 1e12:.3g} TFLOP/forward x {self.nfe} "
            f"in {self.denoise_ms:.0f} ms: "
            f"{self.achieved_tflops:.3g} TFLOP/s, {self.fraction_of_peak * 100:.0f} % of the measured "
            f"{self.peak_tflops:.3g} TFLOP/s peak (floor {self.floor_ms:.0f} ms)"
        )

    def to_dict(self) -> dict[str, float]:
        return {
            "flops_per_forward": self.flops_per_forward,
            "nfe": self.nfe,
            "denoise_ms": round(self.denoise_ms, 3),
            "achieved_tflops": round(self.achieved_tflops, 3),
            "peak_tflops": round(self.peak_tflops, 3),
            "fraction_of_peak": round(self.fraction_of_peak, 4),
            "floor_ms": round(self.floor_ms, 3),
        }
