"""`python -m zimage_qa.measure.selftest [--device cuda:0] [--workload toy-gpu]`: exercises the parts of the
measurement core that need a real GPU (CUDA events, NVML sampling, GPU state, CUDA context share,
matmul peak, the out-of-memory path) and prints one line per check. Exit 0 when every check holds."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zimage_qa.measure.units import format_bytes


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _run(name: str, fn: Callable[[], tuple[bool, str]]) -> Check:
    try:
        ok, detail = fn()
    except Exception as exc:  # a self-test reports every failure, it does not stop at the first
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Check(name, ok, detail)


def run_checks(device: str, workload_spec: str, rounds: int = 5) -> tuple[list[Check], dict[str, Any]]:
    from zimage_qa.measure import memory, oom, roofline, stages
    from zimage_qa.measure.fingerprint import device_class, fingerprint
    from zimage_qa.measure.gpu_state import read_gpu_state

    idle = memory.nvml_used_bytes(device)  # before this process touches CUDA
    import torch

    from zimage_qa.measure.workload import load_workload

    facts: dict[str, Any] = {}
    checks: list[Check] = []
    fp = fingerprint(use_torch=True)
    facts["fingerprint"] = fp.to_dict()
    checks.append(Check("fingerprint", device_class(fp, device) != "cpu", device_class(fp, device)))
    context = memory.cuda_context_bytes(idle, device)
    checks.append(Check("cuda context share", context is not None, format_bytes(context or 0)))
    work = load_workload(workload_spec, device)
    loaded = memory.read_memory(device)
    recorder = stages.StageRecorder().attach(work.pipe)
    for _ in range(2):
        work.generate()
    baseline = torch.cuda.memory_allocated(device)
    timings, after = [], []
    with memory.MemoryWatch(device) as watch:
        for _ in range(rounds):
            with recorder.generation() as g:
                work.generate()
            timings.append(g.timing)
            after.append(torch.cuda.memory_allocated(device))
    recorder.detach()
    best = max(timings, key=lambda t: t.coverage)
    facts["timings"] = [t.to_extra_info() | {"total_ms": t.total_ms} for t in timings]
    checks.append(Check("cuda events", all(t.clock == "cuda-events" for t in timings), best.clock))
    checks.append(
        Check("nfe", all(t.nfe == work.steps for t in timings), f"{best.nfe} forwards, {work.steps} steps")
    )
    low = min(t.coverage for t in timings)
    checks.append(Check("stage coverage >= 95 %", low >= 0.95, f"lowest {low:.1%}, stages {best.stages_ms}"))
    with stages.count_forwards(work.pipe.transformer) as forwards:
        work.generate()
    checks.append(Check("count_forwards", forwards.count == work.steps, str(forwards.count)))
    peak, sampled = watch.peak, watch.nvml
    facts["peak"] = peak.to_dict()
    checks.append(
        Check(
            "nvml sampler",
            sampled.samples > 2 and sampled.mean_interval_ms <= 10.0,
            f"{sampled.samples} samples, mean {sampled.mean_interval_ms:.1f} ms, "
            f"max gap {sampled.max_gap_ms:.1f} ms, "
            f"thread busy {sampled.busy_fraction:.2%}",
        )
    )
    nvml_peak, reserved_peak, allocated_peak = peak.nvml_bytes, peak.reserved_bytes, peak.allocated_bytes
    ordered = (
        nvml_peak is not None
        and reserved_peak is not None
        and allocated_peak is not None
        and nvml_peak >= reserved_peak >= allocated_peak
    )
    checks.append(Check("peaks (nvml >= reserved >= allocated)", ordered, peak.describe()))
    state = sampled.gpu_state or read_gpu_state(device)
    facts["gpu_state"] = state.to_dict() if state else None
    checks.append(Check("gpu state", state is not None, state.describe() if state else "no NVML"))
    leak = memory.leak_verdict(after, baseline, 64 * 2**20, 2**30)
    checks.append(
        Check("leak check", leak.ok, leak.message or f"{format_bytes(after[-1] - baseline)} over baseline")
    )
    snapshot = memory.MemorySnapshot(
        memory.MemoryReading(None, None, idle), loaded, peak, memory.read_memory(device)
    )
    facts["snapshot"] = snapshot.to_dict() | {"cuda_context_bytes": context}

    def peak_check() -> tuple[bool, str]:
        tflops = roofline.matmul_peak_tflops(device)
        facts["matmul_peak_tflops"] = tflops
        return tflops > 1.0, f"{tflops:.1f} TFLOP/s bf16"

    checks.append(_run("matmul peak", peak_check))

    def roofline_check() -> tuple[bool, str]:
        call = roofline.capture_first_forward(work.pipe.transformer, work.generate)
        flops = roofline.forward_flops(work.pipe.transformer, call.args, call.kwargs)
        line = roofline.Roofline(flops, best.nfe, best.dit_forward_ms, facts["matmul_peak_tflops"])
        facts["roofline"] = line.to_dict()
        return 0.0 < line.fraction_of_peak <= 1.2, line.describe()

    checks.append(_run("roofline", roofline_check))

    def oom_check() -> tuple[bool, str]:
        before = torch.cuda.memory_allocated(device)
        with oom.OomGuard("selftest", device) as guard:
            torch.empty(2**50, dtype=torch.uint8, device=device)
        work.generate()  # the session goes on
        ok = (
            guard.failure is not None
            and "asked" in guard.failure
            and torch.cuda.memory_allocated(device) == before
        )
        return ok, guard.failure or "no OOM raised"

    checks.append(_run("out of memory", oom_check))
    return checks, facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m zimage_qa.measure.selftest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--workload", default="toy-gpu", help="toy, toy-gpu, profile:NAME or MODULE:FUNCTION")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="write the checks and the figures here")
    args = parser.parse_args(argv)
    checks, facts = run_checks(args.device, args.workload, args.rounds)
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    if args.json is not None:
        payload = {"checks": [c.__dict__ for c in checks], "facts": facts}
        args.json.write_text(json.dumps(payload, indent=1, default=str))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
