"""Does the NVML sampler slow a generation, and which settings keep it cheap? Interleaves a bare
StageRecorder-timed generation with the same generation under samplers of different settings, and
prints every round, so that a bimodal GPU (clock or power states) shows as such rather than as cost.

    python benchmarks/sampler_sweep.py --workload profile:synthetic --size 512x512
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SETTINGS: dict[str, tuple[float, float | None] | None] = {
    "none": None,
    "5ms+state": (0.005, 0.25),
    "5ms": (0.005, None),
    "10ms": (0.010, None),
    "2ms": (0.002, None),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", default="toy-gpu")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", default="1024x1024")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)

    from benchmarks.workload import load_workload
    from zimage_qa.measure.memory import NvmlSampler
    from zimage_qa.measure.stages import StageRecorder

    width, _, height = args.size.partition("x")
    work = load_workload(args.workload, args.device, int(height), int(width), args.steps)
    recorder = StageRecorder().attach(work.pipe)
    for _ in range(3):
        work.generate()
    times: dict[str, list[float]] = {name: [] for name in SETTINGS}
    names = list(SETTINGS)
    for i in range(args.rounds):
        for name in names if i % 2 == 0 else names[::-1]:  # mirrored pairs: drift falls on all alike
            setting = SETTINGS[name]
            sampler = NvmlSampler(0, setting[0], setting[1]) if setting else None
            if sampler:
                sampler.start()
            with recorder.generation() as g:
                work.generate()
            if sampler:
                sampler.stop()
            times[name].append(g.timing.total_ms)
        print(f"round {i:2d}: " + "  ".join(f"{n} {times[n][-1]:7.1f}" for n in names), flush=True)
    print(f"stages of the last: {g.timing.stages_ms}, dit forwards {g.timing.dit_forward_ms:.1f} ms")
    base = times["none"]
    for name in names:
        t = times[name]
        pairs = range(0, len(t) - 1, 2)
        paired = statistics.median((t[i] + t[i + 1]) / (base[i] + base[i + 1]) for i in pairs) - 1
        print(f"{name:10s} median {statistics.median(times[name]):8.1f} ms  paired vs none {paired:+.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
