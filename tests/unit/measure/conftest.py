"""Fakes for the measurement core: a pipeline whose stages sleep known amounts, and a fake NVML."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from torch import nn

from zimage_qa.measure import _nvml


class SleepModule(nn.Module):
    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(self.seconds)
        return x + self.weight


class SleepVae(nn.Module):
    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(self.seconds)
        return x * 2


@dataclass
class SleepPipeline:
    """ZImagePipeline's shape: text encoder, one transformer forward per step with a scheduler step
    between, VAE decode; plus work outside the stages (tokenise before, post-process after)."""

    text_s: float = 0.020
    dit_s: float = 0.010
    scheduler_s: float = 0.002
    vae_s: float = 0.015
    outside_s: float = 0.003

    def __post_init__(self) -> None:
        self.text_encoder = SleepModule(self.text_s)
        self.transformer = SleepModule(self.dit_s)
        self.vae = SleepVae(self.vae_s)

    def __call__(self, num_inference_steps: int = 8) -> torch.Tensor:
        time.sleep(self.outside_s)
        x = self.text_encoder(torch.zeros(2))
        for _ in range(num_inference_steps):
            x = self.transformer(x)
            time.sleep(self.scheduler_s)
        image = self.vae.decode(x)
        time.sleep(self.outside_s)
        return image

    def expected_ms(self, steps: int) -> dict[str, float]:
        return {
            "text_encode": self.text_s * 1000,
            "denoise": (steps * self.dit_s + (steps - 1) * self.scheduler_s) * 1000,
            "vae_decode": self.vae_s * 1000,
        }


@pytest.fixture
def sleep_pipe() -> SleepPipeline:
    return SleepPipeline()


class FakeNvml:
    """Just enough of pynvml for the sampler, the GPU state and the fingerprint."""

    def __init__(self) -> None:
        self.used = 1 * 2**30
        self.total = 80 * 2**30
        self.reasons = 0x4
        self.clock = 1965
        self.temperature = 59
        self.power_mw = 650_300
        self.processes: list[Any] = []
        self.lock = threading.Lock()
        self.memory_calls = 0

    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        if index != 0:
            raise RuntimeError("no such device")
        return "gpu0"

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> str:
        return "gpu0"

    def nvmlDeviceGetMemoryInfo(self, handle: str) -> Any:
        with self.lock:
            self.memory_calls += 1
            return SimpleNamespace(used=self.used, total=self.total, free=self.total - self.used)

    def nvmlDeviceGetName(self, handle: str) -> bytes:
        return b"NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetUUID(self, handle: str) -> str:
        return "GPU-1234"

    def nvmlDeviceGetCudaComputeCapability(self, handle: str) -> tuple[int, int]:
        return (9, 0)

    def nvmlDeviceGetClockInfo(self, handle: str, kind: int) -> int:
        return self.clock

    def nvmlDeviceGetMaxClockInfo(self, handle: str, kind: int) -> int:
        return 1980

    def nvmlDeviceGetTemperature(self, handle: str, kind: int) -> int:
        return self.temperature

    def nvmlDeviceGetPowerUsage(self, handle: str) -> int:
        return self.power_mw

    def nvmlDeviceGetPowerManagementLimit(self, handle: str) -> int:
        return 700_000

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: str) -> int:
        return self.reasons

    def nvmlDeviceGetComputeRunningProcesses(self, handle: str) -> list[Any]:
        return list(self.processes)

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: str) -> list[Any]:
        return []

    def nvmlSystemGetDriverVersion(self) -> str:
        return "580.95.05"

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        return 13000


@pytest.fixture
def fake_nvml(monkeypatch: pytest.MonkeyPatch) -> FakeNvml:
    fake = FakeNvml()
    monkeypatch.setattr(_nvml, "library", lambda: fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return fake


@pytest.fixture
def no_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_nvml, "library", lambda: None)
