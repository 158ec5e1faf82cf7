"""What the GPU was doing while the gate measured it: temperature, clocks, power, clock-event
reasons and other processes (NVML). A run taken while the card throttled or was shared says so.

Throttled means the clocks were really held down: a thermal or hardware slowdown reason, or a busy SM
clock under `SLOW_CLOCK` of its maximum. The software power cap (0x4) alone is set on every H100 and
H200 at full load, at 1965-1980 of 1980 MHz; with clocks at full speed it reads "power-capped", a fact
worth printing, not a fault."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from zimage_qa.measure import _nvml

# NVML clock-event ("throttle") reason bits, nvml.h names in words.
CLOCK_EVENT_REASONS: dict[int, str] = {
    0x1: "gpu idle",
    0x2: "applications clocks setting",
    0x4: "sw power cap",
    0x8: "hw slowdown",
    0x10: "sync boost",
    0x20: "sw thermal slowdown",
    0x40: "hw thermal slowdown",
    0x80: "hw power brake slowdown",
    0x100: "display clock setting",
}
IDLE = 0x1
SW_POWER_CAP = 0x4
# Reasons that always mean the card slowed itself down: hardware slowdown, thermal, power brake.
THROTTLE_MASK = 0x8 | 0x20 | 0x40 | 0x80
# A busy SM clock under this fraction of its maximum is throttling, whatever the reason bits say.
SLOW_CLOCK = 0.90


def decode_reasons(mask: int) -> tuple[str, ...]:
    """0x44 -> ('sw power cap', 'hw thermal slowdown'); unknown bits print as hex."""
    names = [name for bit, name in CLOCK_EVENT_REASONS.items() if mask & bit]
    unknown = mask & ~sum(CLOCK_EVENT_REASONS)
    if unknown:
        names.append(hex(unknown))
    return tuple(names)


class GpuVerdict(Enum):
    CLEAN = "clean"
    POWER_CAPPED = "power-capped"  # sw power cap set, clocks at full speed: informational
    THROTTLED = "throttled"
    SHARED = "shared"
    THROTTLED_AND_SHARED = "throttled and shared"


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    used_bytes: int | None


@dataclass(frozen=True)
class GpuState:
    """One NVML reading, or several merged (max temperature and power, min clock, OR of reasons)."""

    index: int
    name: str
    temperature_c: int | None
    sm_clock_mhz: int | None
    max_sm_clock_mhz: int | None
    power_w: float | None
    power_limit_w: float | None
    clock_event_reasons: int
    processes: tuple[GpuProcess, ...]
    other_process_count: int
    samples: int = 1

    @property
    def reason_names(self) -> tuple[str, ...]:
        return decode_reasons(self.clock_event_reasons)

    @property
    def clock_fraction(self) -> float | None:
        """Busy SM clock over its maximum (None when either is unknown or the card was idle)."""
        if self.clock_event_reasons & IDLE or not self.sm_clock_mhz or not self.max_sm_clock_mhz:
            return None
        return self.sm_clock_mhz / self.max_sm_clock_mhz

    @property
    def slow_clock(self) -> bool:
        fraction = self.clock_fraction
        return fraction is not None and fraction < SLOW_CLOCK

    @property
    def throttled(self) -> bool:
        return bool(self.clock_event_reasons & THROTTLE_MASK) or self.slow_clock

    @property
    def power_capped(self) -> bool:
        """The software power cap was set while the clocks held (not throttling)."""
        return bool(self.clock_event_reasons & SW_POWER_CAP) and not self.throttled

    @property
    def throttle_reasons(self) -> tuple[str, ...]:
        """Why the card counts as throttled: the slowdown reasons, and the clock when it fell."""
        if not self.throttled:
            return ()
        mask = THROTTLE_MASK | (SW_POWER_CAP if self.slow_clock else 0)
        names = decode_reasons(self.clock_event_reasons & mask)
        fraction = self.clock_fraction
        if self.slow_clock and fraction is not None:
            names += (f"SM clock at {fraction:.0%} of max",)
        return names

    @property
    def moves_latency(self) -> bool:
        """Whether a latency figure taken in this state is suspect: throttled or shared, not power-capped."""
        return self.throttled or self.shared

    @property
    def shared(self) -> bool:
        return self.other_process_count > 0

    @property
    def verdict(self) -> GpuVerdict:
        if self.throttled and self.shared:
            return GpuVerdict.THROTTLED_AND_SHARED
        if self.throttled:
            return GpuVerdict.THROTTLED
        if self.shared:
            return GpuVerdict.SHARED
        return GpuVerdict.POWER_CAPPED if self.power_capped else GpuVerdict.CLEAN

    def describe(self) -> str:
        """'power-capped: 1965 MHz of 1980 MHz, 59 C, 650 W of 700 W',
        'throttled (hw thermal slowdown): 1500 MHz of 1980 MHz, 83 C, ...' and the like."""
        facts = []
        if self.sm_clock_mhz is not None:
            top = f" of {self.max_sm_clock_mhz} MHz" if self.max_sm_clock_mhz else ""
            facts.append(f"{self.sm_clock_mhz} MHz{top}")
        if self.temperature_c is not None:
            facts.append(f"{self.temperature_c} C")
        if self.power_w is not None:
            limit = f" of {self.power_limit_w:.0f} W" if self.power_limit_w else ""
            facts.append(f"{self.power_w:.0f} W{limit}")
        head = self.verdict.value
        if self.throttled:
            head += f" ({', '.join(self.throttle_reasons)})"
        if self.shared:
            head += f", {self.other_process_count} other process(es) on the GPU"
        return f"{head}: {', '.join(facts)}" if facts else head

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "name": self.name,
            "verdict": self.verdict.value,
            "temperature_c": self.temperature_c,
            "sm_clock_mhz": self.sm_clock_mhz,
            "max_sm_clock_mhz": self.max_sm_clock_mhz,
            "power_w": None if self.power_w is None else round(self.power_w, 1),
            "power_limit_w": None if self.power_limit_w is None else round(self.power_limit_w, 1),
            "clock_event_reasons": hex(self.clock_event_reasons),
            "clock_event_reason_names": list(self.reason_names),
            "throttle_reasons": list(self.throttle_reasons),
            "other_processes": self.other_process_count,
            "process_pids": [p.pid for p in self.processes],
            "samples": self.samples,
        }


def _holds_cuda_context() -> bool:
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_initialized())


def _processes(handle: Any) -> tuple[GpuProcess, ...]:
    seen: dict[int, GpuProcess] = {}
    for fn in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
        for proc in _nvml.call(fn, handle) or ():
            used = getattr(proc, "usedGpuMemory", None)
            seen[int(proc.pid)] = GpuProcess(int(proc.pid), int(used) if isinstance(used, int) else None)
    return tuple(sorted(seen.values(), key=lambda p: p.pid))


def _other_count(processes: tuple[GpuProcess, ...]) -> int:
    """Processes other than this one. Inside a container NVML may list this process under a host pid
    it cannot see; when this process holds a CUDA context but is not listed, one entry is taken as it."""
    own = os.getpid()
    if any(p.pid == own for p in processes):
        return len(processes) - 1
    return max(0, len(processes) - (1 if _holds_cuda_context() else 0))


def _reasons(handle: Any) -> int:
    for fn in ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"):
        value = _nvml.call(fn, handle)
        if value is not None:
            return int(value)
    return 0


def _watts(milliwatts: object) -> float | None:
    return float(milliwatts) / 1000.0 if isinstance(milliwatts, (int, float)) else None


def read_gpu_state(device: object = 0, handle: Any | None = None) -> GpuState | None:
    """One reading of CUDA device `device` (index, 'cuda:1', torch.device); None without NVML or GPU."""
    index = _nvml.cuda_index(device)
    handle = handle if handle is not None else _nvml.handle(index)
    if handle is None:
        return None
    processes = _processes(handle)
    clock = _nvml.call("nvmlDeviceGetClockInfo", handle, 1)  # NVML_CLOCK_SM
    max_clock = _nvml.call("nvmlDeviceGetMaxClockInfo", handle, 1)
    temp = _nvml.call("nvmlDeviceGetTemperature", handle, 0)  # NVML_TEMPERATURE_GPU
    name = _nvml.call("nvmlDeviceGetName", handle)
    return GpuState(
        index=index,
        name=_nvml.text(name) if name is not None else "unknown GPU",
        temperature_c=int(temp) if temp is not None else None,
        sm_clock_mhz=int(clock) if clock is not None else None,
        max_sm_clock_mhz=int(max_clock) if max_clock is not None else None,
        power_w=_watts(_nvml.call("nvmlDeviceGetPowerUsage", handle)),
        power_limit_w=_watts(_nvml.call("nvmlDeviceGetPowerManagementLimit", handle)),
        clock_event_reasons=_reasons(handle),
        processes=processes,
        other_process_count=_other_count(processes),
    )


def _extreme(values: Sequence[float | None], pick: Any) -> Any:
    present = [v for v in values if v is not None]
    return pick(present) if present else None


def merge_states(states: Sequence[GpuState | None]) -> GpuState | None:
    """Readings taken during one run folded into one: hottest, highest power, every reason seen (idle
    only when every reading was), every process seen, and the typical busy clock (the lower median of
    the readings not idle: at its power limit an H200 dips to 1470 MHz for a sample at 1024x1024, which
    is its normal; a throttled card stays down). None when there is no reading."""
    present = [s for s in states if s is not None]
    if not present:
        return None
    busy = [s for s in present if not s.clock_event_reasons & IDLE]  # idle clocks say nothing
    procs: dict[int, GpuProcess] = {}
    for state in present:
        for proc in state.processes:
            procs[proc.pid] = proc
    reasons = 0
    for state in present:
        reasons |= state.clock_event_reasons
    if busy:
        reasons &= ~IDLE  # the merged clock is a busy one: judge it as such
    return replace(
        present[-1],
        temperature_c=_extreme([s.temperature_c for s in present], max),
        sm_clock_mhz=_extreme([s.sm_clock_mhz for s in (busy or present)], statistics.median_low),
        power_w=_extreme([s.power_w for s in present], max),
        clock_event_reasons=reasons,
        processes=tuple(sorted(procs.values(), key=lambda p: p.pid)),
        other_process_count=max(s.other_process_count for s in present),
        samples=sum(s.samples for s in present),
    )
