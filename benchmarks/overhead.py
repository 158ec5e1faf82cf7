"""How much the gate's measurement costs: one pipeline timed by a bare synchronised loop and by the
gate's own measurement (StageRecorder, then StageRecorder with the NVML sampler), interleaved in one
process. Targets: the gate's median within 1 % of the bare loop; the sampler under 0.5 %.

    python benchmarks/overhead.py                                # profile when zimage_qa.models exists, else toy
    python benchmarks/overhead.py --workload profile:synthetic --rounds 15
    python benchmarks/overhead.py --workload profile:synthetic --size 1024x1024 --steps 8
    python benchmarks/overhead.py --device cpu --workload toy --json overhead.json

Workloads: `toy`, `toy-gpu`, `profile:NAME` (zimage_qa.models) or `MODULE:FUNCTION` (a builder called with
the device that returns a ZImagePipeline-like object). Exit 0 when both targets hold; 1 when one is
missed or when the bare loop itself spreads too much (relative IQR > 2 %) to resolve them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runnable from a checkout


def _parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="cuda, cuda:1 or cpu (default: cuda when available)")
    parser.add_argument("--workload", default=None, help="toy, toy-gpu, profile:NAME or MODULE:FUNCTION")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per arm (default 15)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--size", default="1024x1024", help="WIDTHxHEIGHT for pipeline workloads")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--interval-ms", type=float, default=5.0, help="NVML sampling interval")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)

    import torch

    from benchmarks.measurement_overhead import measure_overhead
    from benchmarks.workload import default_workload_spec, load_workload
    from zimage_qa.measure.budget import BudgetStatus
    from zimage_qa.measure.fingerprint import device_class, fingerprint

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    spec = args.workload or default_workload_spec(device)
    width, height = _parse_size(args.size)
    started = time.perf_counter()
    workload = load_workload(spec, device, height=height, width=width, steps=args.steps)
    build_s = time.perf_counter() - started

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)

    report = measure_overhead(
        workload.generate,
        sync,
        rounds=args.rounds,
        pipe=workload.pipe,
        device_index=torch.device(device).index or 0,
        warmup=args.warmup,
        interval_s=args.interval_ms / 1000.0,
    )
    fp = fingerprint()
    where = device_class(fp, device)
    print(
        f"overhead on {where}, workload {spec} "
        f"({width}x{height}, {args.steps} steps, built in {build_s:.1f} s)"
    )
    print(report.describe())
    status = report.status()
    verdict = {"pass": "hold", "fail": "MISSED", "unstable": "cannot be judged, the bare loop is too noisy"}
    print(
        f"targets (gate <= +1 %, sampler < +0.5 %) {verdict[status.value]}: gate {report.gate_ratio - 1:+.2%}, "
        f"sampler {report.sampler_cost_rel:+.2%}"
    )
    if args.json is not None:
        payload = {"device": where, "workload": spec, "build_s": build_s, "report": report.to_dict()}
        payload["fingerprint"] = fp.to_dict()
        args.json.write_text(json.dumps(payload, indent=1))
    return 0 if status is BudgetStatus.PASS else 1


if __name__ == "__main__":
    sys.exit(main())
