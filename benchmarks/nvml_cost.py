"""What each NVML reading costs on this machine and how regularly the sampler thread gets to run
(idle main thread, and a main thread busy in pure Python, which holds the GIL).

    python benchmarks/nvml_cost.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _per_call_us(fn: object, *args: object, n: int = 200) -> tuple[float, float]:
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    for _ in range(n):
        fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - wall0) / n * 1e6, (time.thread_time() - cpu0) / n * 1e6


def main() -> int:
    from zimage_qa.measure import _nvml
    from zimage_qa.measure.memory import NvmlSampler

    nvml, handle = _nvml.library(), _nvml.handle(0)
    if nvml is None or handle is None:
        print("no NVML here")
        return 1
    calls = {
        "memory info": (nvml.nvmlDeviceGetMemoryInfo, handle),
        "sm clock": (nvml.nvmlDeviceGetClockInfo, handle, 1),
        "temperature": (nvml.nvmlDeviceGetTemperature, handle, 0),
        "power": (nvml.nvmlDeviceGetPowerUsage, handle),
        "clock reasons": (nvml.nvmlDeviceGetCurrentClocksEventReasons, handle),
        "compute processes": (nvml.nvmlDeviceGetComputeRunningProcesses, handle),
        "graphics processes": (nvml.nvmlDeviceGetGraphicsRunningProcesses, handle),
    }
    for name, (fn, *args) in calls.items():
        wall, cpu = _per_call_us(fn, *args)
        print(f"{name:20s} {wall:8.1f} us wall {cpu:8.1f} us cpu")
    for state in (None, 0.1, 0.25):
        for busy in (False, True):
            with NvmlSampler(0, 0.005, state) as sampler:
                end = time.perf_counter() + 1.0
                while time.perf_counter() < end:
                    if not busy:
                        time.sleep(0.01)
            r = sampler.result
            print(
                f"state every {state} s, main {'busy' if busy else 'idle'}: {r.samples} samples, "
                f"mean {r.mean_interval_ms:.2f} ms, max gap {r.max_gap_ms:.1f} ms, "
                f"thread busy {r.busy_fraction:.2%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
