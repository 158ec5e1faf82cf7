"""One scenario's measured rounds as the checks read them: latency statistics, stage medians, NFE, memory
peaks, GPU state, roofline and host probe (`ScenarioResult`), and the back-to-back images the drift check
made, which the leak check reads (`BackToBack`)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any, Protocol

from zimage_qa.measure.gpu_state import GpuState
from zimage_qa.measure.memory import PeakMemory
from zimage_qa.measure.probe import HostState
from zimage_qa.measure.roofline import Roofline
from zimage_qa.measure.stages import GenerationTiming
from zimage_qa.measure.stats import Summary

GIB = 2**30


class Shape(Protocol):
    """What a result tells of its case (`zimage_qa.config.Case`): its id, size, steps and seed."""

    @property
    def id(self) -> str: ...
    @property
    def size(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def steps(self) -> int: ...
    @property
    def seed(self) -> int: ...


@dataclass(frozen=True)
class ScenarioResult:
    """Warm rounds of one scenario: latency statistics, stage medians, NFE, peaks, GPU state."""

    case: Shape
    timings: tuple[GenerationTiming, ...]
    summary: Summary  # seconds, from the synchronised totals
    peak: PeakMemory | None
    gpu_state: GpuState | None
    roofline: Roofline | None
    released_before: tuple[tuple[str, ...], ...] = ()  # offloaded models found on the device before a round
    host: HostState | None = None  # the host probe around each round

    @property
    def times_s(self) -> tuple[float, ...]:
        return tuple(t.total_ms / 1000.0 for t in self.timings)

    @property
    def stages_ms(self) -> dict[str, float]:
        return {k: median(t.stages_ms[k] for t in self.timings) for k in self.timings[0].stages_ms}

    @property
    def nfe(self) -> int:
        return max(t.nfe for t in self.timings)

    @property
    def coverage(self) -> float:
        """Share of the median total that the median stages account for."""
        return sum(self.stages_ms.values()) / (self.summary.median * 1000.0) if self.summary.median else 0.0

    def vram_gib(self) -> dict[str, float]:
        """The memory peaks in GiB as records carry them (empty without allocator readings)."""
        if self.peak is None:
            return {}
        return {
            name: round(value / GIB, 3)
            for name, value in (
                ("peak_allocated_gib", self.peak.allocated_bytes),
                ("peak_reserved_gib", self.peak.reserved_bytes),
                ("nvml_peak_gib", self.peak.nvml_bytes),
            )
            if value is not None
        }

    def extra_info(self, device: str, model: str) -> dict[str, Any]:
        """What each latency benchmark record carries (pytest-benchmark `extra_info`)."""
        info: dict[str, Any] = {
            "stages_ms": {k: round(v, 3) for k, v in self.stages_ms.items()},
            "nfe": self.nfe,
            "device": device,
            "model": model,
            "resolution": self.case.size,
            "width": self.case.width,
            "height": self.case.height,
            "steps": self.case.steps,
            "seed": self.case.seed,
            "stage_coverage": round(self.coverage, 4),
            "rounds_s": [round(t, 5) for t in self.times_s],
            "clock": self.timings[0].clock,
        }
        if "transfer" in self.timings[0].stages_ms:  # offloaded: each round's weight copies, as rounds_s
            info["rounds_transfer_ms"] = [round(t.stages_ms["transfer"], 1) for t in self.timings]
        if self.released_before:  # the gate left a model on the device: released, untimed, before the round
            info["released_before_timing"] = [list(names) for names in self.released_before]
        if self.peak is not None:
            info["vram"] = self.vram_gib()
            host = getattr(self.peak, "host_bytes", None)
            if host is not None:
                info["host_peak_gib"] = round(host / GIB, 3)
        if self.host is not None:
            info["host"] = self.host.to_dict()
        if self.gpu_state is not None:
            info["gpu_state"] = self.gpu_state.to_dict()
        if self.roofline is not None:
            info["roofline"] = self.roofline.to_dict()
        return info


@dataclass(frozen=True)
class BackToBack:
    """Images of one scenario in a row, as the drift check made them: the allocated memory before the first
    and after each, and the run's result (peaks). The leak check reads it instead of generating its own."""

    allocated_before: int
    allocated_after: tuple[int, ...]
    result: ScenarioResult | None
