"""Measurement core of the latency and VRAM gate. Import the submodule you need; this package imports
nothing heavy (torch and NVML load on first use).

- `stages`: StageRecorder (total, stage split, NFE per generation), count_forwards
- `memory`: torch peaks, NvmlSampler, MemoryWatch, readings by stage, leak_check; `oom`: OomGuard
- `gpu_state`: clocks, power, temperature, clock-event reasons, other processes; throttled/shared
- `fingerprint`: the environment for machine_info and `zqa doctor`; device_class
- `roofline`: FLOPs of a DiT forward, measured matmul peak, achieved TFLOP/s
- `budget`: LatencyBudget, MemoryCeiling (evaluate -> Verdict); `units`: parsing and formatting; `stats`: pure math
- `runs`: pytest-benchmark's saved runs, read once for the baseline (`baseline`), `zqa history` and `zqa gate`
"""
