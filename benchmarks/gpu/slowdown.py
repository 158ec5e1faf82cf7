"""A pytest plugin for the GPU benchmarks (`-p slowdown`, with benchmarks/gpu on PYTHONPATH): loads the
model with the gate's own loader and, when ZQA_SLOW_MS > 0, adds that much device time to every DiT call,
after its work: ZQA_SLOW_KIND=sleep (default) a kernel that spins; `matmul` real tensor-core work, bf16
4096x4096 matrix products, as many as take that long (calibrated once). ZQA_SLOW_WHICH=all (default) slows
every load; `candidate` only the second (the --qa-candidate)."""

from __future__ import annotations

import os
from typing import Any

import torch

from zimage_qa.models.profiles import LoadedModel, ModelSpec, load_model

_CYCLES_PER_MS: list[float] = []


def cycles_per_ms(device: str) -> float:
    """Calibrate torch.cuda._sleep once: GPU cycles per millisecond at the current clocks."""
    if not _CYCLES_PER_MS:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda._sleep(10_000_000)  # warm
        start.record()
        torch.cuda._sleep(100_000_000)
        end.record()
        torch.cuda.synchronize(device)
        _CYCLES_PER_MS.append(100_000_000 / start.elapsed_time(end))
    return _CYCLES_PER_MS[0]


@torch.compiler.disable
def gpu_sleep(cycles: int) -> None:
    """Outside any compiled graph (a graph break): inductor would drop a sleep that has no output."""
    torch.cuda._sleep(cycles)


_MATMULS_PER_MS: list[float] = []


def matmuls_per_ms(device: str) -> float:
    """Calibrate the real-work slowdown once: bf16 4096^3 products per millisecond on this card."""
    if not _MATMULS_PER_MS:
        a = torch.randn(4096, 4096, device=device, dtype=torch.bfloat16)
        for _ in range(5):
            a @ a
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(200):
            a @ a
        end.record()
        torch.cuda.synchronize(device)
        _MATMULS_PER_MS.append(200 / start.elapsed_time(end))
    return _MATMULS_PER_MS[0]


@torch.compiler.disable
def gpu_work(a: torch.Tensor, count: int) -> None:
    for _ in range(count):
        a @ a


class SlowDiT(torch.nn.Module):
    """The transformer, then extra device time (a sleep, or real matrix products): every attribute the
    pipeline reads comes from the inner model."""

    def __init__(self, inner: torch.nn.Module, cycles: int, matmuls: int = 0) -> None:
        super().__init__()
        self.inner = inner
        self.cycles = cycles
        self.matmuls = matmuls
        self.work = torch.randn(4096, 4096, device=next(inner.parameters()).device, dtype=torch.bfloat16)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(*args, **kwargs)
        if self.matmuls:
            gpu_work(self.work, self.matmuls)
        else:
            gpu_sleep(self.cycles)
        return out

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["inner"], name)


def pytest_zqa_loader() -> Any:
    slow_ms = float(os.environ.get("ZQA_SLOW_MS", "0"))
    which = os.environ.get("ZQA_SLOW_WHICH", "all")
    loads: list[str] = []

    def load(spec: ModelSpec, device: str, dtype: str) -> LoadedModel:
        model = load_model(spec, device, dtype)
        loads.append(spec.label)
        if slow_ms > 0 and (which == "all" or (which == "candidate" and len(loads) == 2)):
            if os.environ.get("ZQA_SLOW_KIND", "sleep") == "matmul":
                count = max(1, round(slow_ms * matmuls_per_ms(model.device)))
                model.pipe.transformer = SlowDiT(model.pipe.transformer, 0, count)
                what = f"{count} bf16 4096^3 matrix products (about {slow_ms} ms)"
            else:
                model.pipe.transformer = SlowDiT(
                    model.pipe.transformer, int(slow_ms * cycles_per_ms(model.device))
                )
                what = f"{slow_ms} ms of GPU sleep"
            print(f"\nslowdown: {what} after every DiT call of load {len(loads)} ({spec.label})")
        return model

    return load
