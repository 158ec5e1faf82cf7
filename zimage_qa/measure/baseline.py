"""A latency baseline: the rounds, peaks and fingerprint of a saved pytest-benchmark run, per scenario.

`load_baseline(path, hardware)` reads one saved run (a JSON file) or a folder of them, searched
recursively: `--benchmark-autosave` output (`.benchmarks/<machine>/NNNN_*.json`) or the history folder
the GPU workflow keeps. From a folder it takes, per scenario, the newest run that has it (by the run's
`datetime`, then file name), among the runs from the same hardware as `hardware` when that is given:
the newest good state of each scenario on this runner, never a mix of two software stacks. Runs of
other hardware in a shared folder are passed over; when none is left, or a single file is from other
hardware, it refuses with a one-line `QAUsageError`.

A scenario is matched by its id, the parameter of the gate's `test_latency[<id>]` (whether the test
lived in `tests/gate/` or `zimage_qa/gate/`). Hardware means what moves latency and no upgrade changes:
GPU model and count, device class, CPU model and count (two H200 hosts that differ only in 16 against
32 CPUs differ by 25 % at 512x512). Driver, CUDA, torch, diffusers and weights are what the baseline
exists to compare across.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from zimage_qa.errors import QAUsageError

_LATENCY = re.compile(r"(?:^|::)test_latency\[(?P<id>.+)\]$")
_VRAM_KEYS = ("peak_allocated_gib", "peak_reserved_gib", "nvml_peak_gib")


@dataclass(frozen=True)
class Hardware:
    """What must match for two latency samples to be compared: GPUs, device class, runner CPU."""

    gpus: tuple[str, ...]  # one name per GPU, sorted
    device_class: str | None
    cpu: str | None
    cpu_count: int | None

    @property
    def label(self) -> str:
        names = sorted(set(self.gpus))
        gpu = " + ".join(f"{n} x{self.gpus.count(n)}" if self.gpus.count(n) > 1 else n for n in names)
        cpus = f", {self.cpu_count} CPUs" if self.cpu_count else ""
        return f"{gpu or 'no GPU'}; {self.cpu or 'unknown CPU'}{cpus}"

    def mismatch(self, other: Hardware) -> str | None:
        """None when alike, else what differs, 'GPU NVIDIA H100 80GB HBM3 x1 vs NVIDIA H200 x1'.

        A field unknown on one side (an older record) is not held against it, except the GPUs.
        """
        if self.gpus != other.gpus:
            return f"GPU {_gpus(self.gpus)} vs {_gpus(other.gpus)}"
        pairs = (
            ("device class", self.device_class, other.device_class),
            ("CPU", self.cpu, other.cpu),
            ("CPU count", self.cpu_count, other.cpu_count),
        )
        for what, mine, theirs in pairs:
            if mine is not None and theirs is not None and mine != theirs:
                return f"{what} {mine} vs {theirs}"
        return None


def hardware_of(fingerprint: Mapping[str, Any] | None, device: str | None = None) -> Hardware:
    """`Hardware` from a fingerprint dict (`zimage_qa.measure.fingerprint.Fingerprint.to_dict()`, as the gate
    writes it to machine_info["zimage_qa"]); `device` (extra_info.device) names the GPU of older records."""
    fp = fingerprint if isinstance(fingerprint, Mapping) else {}
    raw = fp.get("gpus")
    gpus = [str(g["name"]).strip() for g in raw if isinstance(g, Mapping) and g.get("name")] if raw else []
    device_class = _text(fp.get("device_class")) or (device if device and device != "cpu" else None)
    if not gpus and device_class and device_class != "cpu":
        gpus = [device_class]
    count = fp.get("cpu_count")
    return Hardware(
        gpus=tuple(sorted(gpus)),
        device_class=device_class,
        cpu=_text(fp.get("cpu")),
        cpu_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
    )


def same_hardware(entry: BaselineEntry, fingerprint: Mapping[str, Any]) -> str | None:
    """None when `entry` was measured on the hardware `fingerprint` describes, else what differs."""
    return entry.hardware.mismatch(hardware_of(fingerprint))


@dataclass(frozen=True)
class BaselineEntry:
    """One latency scenario of one saved run: its warm rounds, peaks, NFE and where it came from."""

    scenario: str  # '1024-simple'
    fullname: str
    rounds_s: tuple[float, ...]
    vram_gib: Mapping[str, float]  # peak_allocated_gib, peak_reserved_gib, nvml_peak_gib (those present)
    nfe: int | None
    device: str | None
    model: str | None
    stages_ms: Mapping[str, float]
    fingerprint: Mapping[str, Any]  # machine_info["zimage_qa"]
    source: str  # the saved-run file
    date: str | None
    hardware: Hardware = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hardware", hardware_of(self.fingerprint, self.device))

    @property
    def median_s(self) -> float:
        import statistics

        return float(statistics.median(self.rounds_s))

    @property
    def label(self) -> str:
        """'1024-simple from .benchmarks/Linux-.../0007_x.json (2026-11-25 23:10, NVIDIA H200)'."""
        when = (self.date or "no date")[:16].replace("T", " ")
        return f"{self.scenario} from {self.source} ({when}, {self.hardware.label})"


@dataclass(frozen=True)
class Baseline:
    """The entries picked per scenario id, and every file that was read."""

    entries: Mapping[str, BaselineEntry]
    files: tuple[str, ...]
    passed_over: int = 0  # runs from other hardware in the folder

    def get(self, scenario: str) -> BaselineEntry | None:
        return self.entries.get(scenario)


def load_baseline(path: str | Path, hardware: Mapping[str, Any] | None = None) -> Baseline:
    """Read `path` (a saved run or a folder of them); with `hardware` (this run's fingerprint dict),
    only runs from the same hardware count, and a baseline from other hardware is refused; without it,
    a folder that mixes hardware is refused."""
    files = _files(Path(path))
    runs = [run for run in (_read(f) for f in files) if run is not None]
    if not runs:
        raise QAUsageError(
            f"--qa-baseline {path}: no saved run with latency rounds among {len(files)} JSON file(s); "
            "save one with 'pytest -m gpu --benchmark-autosave' (or --benchmark-json FILE) and pass it"
        )
    mine = runs
    kinds = {r.entries[0].hardware for r in runs}
    if hardware is None and len(kinds) > 1:
        listed = "; ".join(sorted(k.label for k in kinds))
        raise QAUsageError(
            f"--qa-baseline {path}: runs from {len(kinds)} kinds of hardware ({listed}); pass this runner's "
            "fingerprint, or a folder of this runner's runs only"
        )
    if hardware is not None:
        here = hardware_of(hardware)
        mine = [r for r in runs if r.entries[0].hardware.mismatch(here) is None]
        if not mine:
            other = runs[-1].entries[0]
            raise QAUsageError(
                f"--qa-baseline {path}: every run is from other hardware ({other.hardware.mismatch(here)}; "
                f"newest {other.source}); a baseline must come from this runner: record one here with "
                "'pytest -m gpu --benchmark-autosave'"
            )
    mine.sort(key=lambda r: r.order)
    picked: dict[str, BaselineEntry] = {}
    for run in mine:  # oldest first: a newer run overwrites
        for entry in run.entries:
            picked[entry.scenario] = entry
    return Baseline(dict(sorted(picked.items())), tuple(str(f) for f in files), len(runs) - len(mine))


@dataclass(frozen=True)
class _Run:
    order: tuple[float, str]
    entries: tuple[BaselineEntry, ...]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.json") if p.is_file())
        if found:
            return found
        raise QAUsageError(
            f"--qa-baseline {path}: no JSON file in the folder; pass a .benchmarks folder or a saved run "
            "from 'pytest -m gpu --benchmark-autosave'"
        )
    raise QAUsageError(f"--qa-baseline {path}: no such file or folder; pass a saved pytest-benchmark run")


def _read(path: Path) -> _Run | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, Mapping) or not isinstance(data.get("benchmarks"), list):
        return None
    machine = data.get("machine_info")
    fingerprint = machine.get("zimage_qa") if isinstance(machine, Mapping) else None
    fingerprint = fingerprint if isinstance(fingerprint, Mapping) else {}
    date = _text(data.get("datetime"))
    entries = [e for e in (_entry(b, fingerprint, str(path), date) for b in data["benchmarks"]) if e]
    if not entries:
        return None
    return _Run((_timestamp(date), path.name), tuple(entries))


def _entry(
    bench: object, fingerprint: Mapping[str, Any], source: str, date: str | None
) -> BaselineEntry | None:
    if not isinstance(bench, Mapping):
        return None
    match = _LATENCY.search(str(bench.get("fullname") or bench.get("name") or ""))
    extra = bench.get("extra_info")
    if match is None or not isinstance(extra, Mapping):
        return None
    rounds = _floats(extra.get("rounds_s"))
    if not rounds:
        stats = bench.get("stats")
        rounds = _floats(stats.get("data")) if isinstance(stats, Mapping) else ()
    if not rounds:
        return None
    vram = extra.get("vram")
    vram = vram if isinstance(vram, Mapping) else {}
    stages = extra.get("stages_ms")
    stages = stages if isinstance(stages, Mapping) else {}
    nfe = extra.get("nfe")
    return BaselineEntry(
        scenario=match.group("id"),
        fullname=str(bench.get("fullname") or match.group(0)),
        rounds_s=rounds,
        vram_gib={k: float(vram[k]) for k in _VRAM_KEYS if _number(vram.get(k))},
        nfe=nfe if isinstance(nfe, int) and not isinstance(nfe, bool) else None,
        device=_text(extra.get("device")),
        model=_text(extra.get("model")),
        stages_ms={str(k): float(v) for k, v in stages.items() if _number(v)},
        fingerprint=dict(fingerprint),
        source=source,
        date=date,
    )


def _floats(values: object) -> tuple[float, ...]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        return ()
    if not all(_number(v) and float(v) > 0 for v in values):
        return ()
    return tuple(float(v) for v in values)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _timestamp(text: str | None) -> float:
    if not text:
        return float("-inf")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("-inf")


def _gpus(names: tuple[str, ...]) -> str:
    return " + ".join(f"{n} x{names.count(n)}" for n in sorted(set(names))) or "none"
