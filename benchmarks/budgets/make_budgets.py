"""Write the built-in budgets (`zimage_qa/builtin_budgets.toml`) from the recorded runs in `runs/`.

    python benchmarks/budgets/make_budgets.py          # rewrites zimage_qa/builtin_budgets.toml
    python benchmarks/budgets/make_budgets.py --check  # exit 1 when the shipped file is not what it writes

One rule, the one `--qa-update-budgets` applies to a runner's own run (`zimage_qa.budgets`), taken over
every recorded run of a device class: per scenario, the slowest run's median and worst round (counting
only rounds the host probe saw at normal speed, where a run recorded its probes) become
`median x1.10 (x1.25 under 0.7 s: launch-bound)` and `max(worst x1.15, median budget x1.10)`; memory
ceilings are each peak's highest reading + 1 GiB; a class's probe normal is the median of its runs'.
A CPU budget covers any CPU, busy or not, not only the one that was recorded, so its latency limits are
four times that; its probe normal is the recording host's speed, never a runner's own normal: a failure on
a host whose normal probe is slower than that by the slow factor is not judged (`zimage_qa.checks.timing`). Load and first-image budgets are not in the saved runs: fixed guards, stated below. Runs are read
through the gate's own reader (`zimage_qa.measure.runs`); only eager, solo runs of the built-in profiles
count. `tests/unit/core/test_builtin_budgets.py` checks that the shipped file is what this script writes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zimage_qa.budgets import MEMORY_MARGIN_BYTES, ScenarioMeasurement, latency_limits
from zimage_qa.measure.probe import host_state_of
from zimage_qa.measure.runs import load_runs

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
TARGET = HERE.parents[1] / "zimage_qa" / "builtin_budgets.toml"
GIB = 2**30
CPU_FACTOR = 4.0  # a CPU budget covers any CPU a laptop or CI runner has, busy or not
# Not in the saved runs: the synthetic model builds on the GPU in 12-17 s, real weights load in about 16 s
# from a local disk (DESIGN.md); the first image is 3.7 s cold on an H100. The CPU model loads in seconds.
FIXED = {"gpu": {"load": "60s", "first_image": "10s"}, "cpu": {"load": "30s", "first_image": "30s"}}
PEAKS = (("allocated", "peak_allocated_gib"), ("reserved", "peak_reserved_gib"), ("nvml", "nvml_peak_gib"))


@dataclass
class Scenario:
    medians: list[float] = field(default_factory=list)
    worsts: list[float] = field(default_factory=list)
    peaks: dict[str, float] = field(default_factory=dict)


@dataclass
class DeviceClass:
    profile: str
    pattern: str  # the device a budget matches: 'NVIDIA H200*', or 'cpu'
    runs: list[str] = field(default_factory=list)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    probes: list[float] = field(default_factory=list)

    @property
    def on_cpu(self) -> bool:
        return self.pattern == "cpu"


def pattern_of(device: str) -> str:
    """'NVIDIA H200' -> 'NVIDIA H200*'; 'NVIDIA H100 80GB HBM3' -> 'NVIDIA H100*'; 'cpu' -> 'cpu'."""
    return "cpu" if device == "cpu" else " ".join(device.split()[:2]) + "*"


def collect(paths: Iterable[Path]) -> list[DeviceClass]:
    classes: dict[tuple[str, str], DeviceClass] = {}
    loaded = load_runs(sorted(paths))
    for run in loaded.runs:
        for entry in run.entries:
            extra, context = entry.extra, dict(entry.context)
            if "test_latency[" not in entry.fullname or not entry.rounds:
                continue
            if (
                context.get("profile") not in ("reference", "synthetic")
                or "variant" in context
                or "mode" in context
            ):
                continue  # eager and solo only: the shipped budgets are for the deployment as loaded
            key = (context["profile"], pattern_of(str(extra.get("device", "cpu"))))
            device = classes.setdefault(key, DeviceClass(*key))
            if Path(run.file).name not in device.runs:
                device.runs.append(Path(run.file).name)
            _add(device, entry.fullname.split("[", 1)[1].rstrip("]"), entry.rounds, extra)
    return sorted(classes.values(), key=lambda d: (d.profile != "reference", d.pattern))


def _add(device: DeviceClass, scenario: str, rounds: Sequence[float], extra: dict[str, object]) -> None:
    host = host_state_of(extra.get("host"))
    kept = list(rounds)
    if host is not None and len(host.round_ms) == len(rounds):
        normal = [r for r, slow in zip(rounds, host.slow, strict=True) if not slow]
        kept = normal if len(normal) >= 2 else kept
        if host.normal_ms is not None:  # a CPU class keeps it as the recording host's speed (checks.timing)
            device.probes.append(host.normal_ms)
    entry = device.scenarios.setdefault(scenario, Scenario())
    entry.medians.append(statistics.median(kept))
    entry.worsts.append(max(kept))
    vram = extra.get("vram")
    for name, key in PEAKS if isinstance(vram, dict) else ():
        value = vram.get(key)
        if isinstance(value, int | float):
            entry.peaks[name] = max(entry.peaks.get(name, 0.0), float(value))


def render(classes: Sequence[DeviceClass]) -> str:
    lines = [
        "# The built-in budgets, written by benchmarks/budgets/make_budgets.py from the runs recorded in",
        "# benchmarks/budgets/runs/ (its docstring states the rule). Do not edit by hand: record a run, add it",
        "# there, and run the script. A runner's own budgets (--qa-update-budgets) win over these.",
    ]
    for device in classes:
        factor = CPU_FACTOR if device.on_cpu else 1.0
        fixed = FIXED["cpu" if device.on_cpu else "gpu"]
        lines += [
            "",
            "[[budgets]]",
            f'profile = "{device.profile}"',
            f'device = "{device.pattern}"',
            f"# {len(device.runs)} runs: {', '.join(device.runs)}",
            f'load = "{fixed["load"]}"',
            f'first_image = "{fixed["first_image"]}"',
        ]
        if device.probes:
            lines.append(f'probe = "{statistics.median(device.probes):.2f}ms"')
        for scenario, data in sorted(device.scenarios.items()):
            median, worst = latency_limits(ScenarioMeasurement(max(data.medians), max(data.worsts)))
            limits = [f'median = "{_s(median * factor)}"', f'worst = "{_s(worst * factor)}"']
            limits += [
                f'{name} = "{value + MEMORY_MARGIN_BYTES / GIB:.2f}GiB"' for name, value in data.peaks.items()
            ]
            lines.append(f'scenarios."{scenario}" = {{ {", ".join(limits)} }}')
    return "\n".join(lines) + "\n"


def _s(seconds: float) -> str:
    return f"{seconds:.3f}s" if seconds < 10 else f"{seconds:.1f}s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the shipped file differs")
    args = parser.parse_args(argv)
    text = render(collect(RUNS.glob("*.json")))
    if args.check:
        same = TARGET.read_text(encoding="utf-8") == text
        print(f"{TARGET}: {'up to date' if same else 'differs from what the recorded runs give'}")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
