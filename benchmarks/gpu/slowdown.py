"""A pytest plugin for the GPU benchmarks (`-p slowdown`, with benchmarks/gpu on PYTHONPATH): loads the
model with the gate's own loader and, when ZQA_SLOW_MS > 0, makes every DiT call sleep that long on the
GPU after its work (a kernel that spins, so the slowdown is device time, as a slower kernel would be).
ZQA_SLOW_WHICH=all (default) slows every load; `candidate` only the second (the --qa-candidate)."""

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


class SlowDiT(torch.nn.Module):
    """The transformer, then a GPU sleep: every attribute the pipeline reads comes from the inner model."""

    def __init__(self, inner: torch.nn.Module, cycles: int) -> None:
        super().__init__()
        self.inner = inner
        self.cycles = cycles

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(*args, **kwargs)
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
            cycles = int(slow_ms * cycles_per_ms(model.device))
            model.pipe.transformer = SlowDiT(model.pipe.transformer, cycles)
            print(
                f"\nslowdown: {slow_ms} ms of GPU sleep after every DiT call of load {len(loads)} ({spec.label})"
            )
        return model

    return load
