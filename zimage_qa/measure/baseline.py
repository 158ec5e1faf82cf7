"""A latency baseline: the rounds, host probes, peaks and identity of saved pytest-benchmark runs, per
scenario.

`load_baseline(path, here)` reads one saved run (a JSON file) or a folder of them, searched recursively
(`--benchmark-autosave` output, `.benchmarks/<machine>/NNNN_*.json`, or the history folder the GPU
workflow keeps), through the one reader of saved runs (`zimage_qa.measure.runs`). Only records of the
same deployment on the same machine as `here` count (`zimage_qa.identity.Deployment`: hardware,
profile, variant, measuring mode); per scenario it takes the newest of them (by the run's `datetime`,
then file name). A folder that holds other deployments only, or a single file of another one, is refused
with a one-line `QAUsageError` naming both. Software and weights may differ: that is what a baseline is
for.

A scenario is matched by its id, the parameter of the gate's `test_latency[<id>]`, whatever the path
before it (`zimage_qa.identity.stable_name`).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.identity import Deployment
from zimage_qa.measure.probe import HostState, host_state_of
from zimage_qa.measure.runs import SavedRun, load_runs

_LATENCY = re.compile(r"(?:^|::)test_latency\[(?P<id>.+)\]$")
_VRAM_KEYS = ("peak_allocated_gib", "peak_reserved_gib", "nvml_peak_gib")


@dataclass(frozen=True)
class BaselineEntry:
    """One latency scenario of one saved run: its warm rounds (and the host's speed around each), peaks,
    NFE and where it came from."""

    scenario: str  # '1024-simple'
    fullname: str
    rounds_s: tuple[float, ...]
    vram_gib: Mapping[str, float]  # peak_allocated_gib, peak_reserved_gib, nvml_peak_gib (those present)
    nfe: int | None
    device: str | None
    model: str | None
    stages_ms: Mapping[str, float]
    deployment: Deployment
    source: str  # the saved-run file
    date: str | None
    host: HostState | None = None
    weights: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return float(statistics.median(self.rounds_s))

    @property
    def normal_rounds_s(self) -> tuple[float, ...]:
        """The rounds its host probe saw at normal speed (all of them when it recorded no probe)."""
        if self.host is None or len(self.host.round_ms) != len(self.rounds_s):
            return self.rounds_s
        kept = tuple(t for t, slow in zip(self.rounds_s, self.host.slow, strict=True) if not slow)
        return kept if len(kept) >= 2 else self.rounds_s

    @property
    def label(self) -> str:
        """'1024-simple from .benchmarks/Linux-.../0007_x.json (2026-11-25 23:10, NVIDIA H200; synthetic, eager)'."""
        when = (self.date or "no date")[:16].replace("T", " ")
        return f"{self.scenario} from {self.source} ({when}, {self.deployment.label})"


@dataclass(frozen=True)
class Baseline:
    """The entries picked per scenario id, every file that was read, and the library warnings its runs
    recorded (`extra_info.warnings` of every benchmark in those files: (category, message))."""

    entries: Mapping[str, BaselineEntry]
    files: tuple[str, ...]
    passed_over: int = 0  # records of other deployments in the folder
    warnings: tuple[tuple[str, str], ...] = ()

    def get(self, scenario: str) -> BaselineEntry | None:
        return self.entries.get(scenario)


def load_baseline(path: str | Path, here: Deployment | None = None) -> Baseline:
    """Read `path` (a saved run or a folder of them). With `here` (this run's deployment), only records of
    that deployment count and a baseline of another is refused; without it, a folder that mixes
    deployments is refused."""
    try:
        loaded = load_runs([path])
    except QAUsageError as exc:
        raise QAUsageError(f"--qa-baseline {path}: {exc}") from None
    entries = [e for run in loaded.runs for e in _entries(run)]
    if not entries:
        raise QAUsageError(
            f"--qa-baseline {path}: no saved run with latency rounds among {loaded.files} JSON file(s); "
            "save one with 'pytest -m gpu --benchmark-autosave' (or --benchmark-json FILE) and pass it"
        )
    kinds = {e.deployment.key: e.deployment for e in entries}
    if here is None and len(kinds) > 1:
        listed = "; ".join(sorted(d.label for d in kinds.values()))
        raise QAUsageError(
            f"--qa-baseline {path}: runs of {len(kinds)} deployments ({listed}); pass a folder of one "
            "deployment's runs"
        )
    mine = entries if here is None else [e for e in entries if e.deployment.mismatch(here) is None]
    if not mine:
        newest = entries[-1]
        raise QAUsageError(
            f"--qa-baseline {path}: no run of this deployment ({here.label if here else ''}); the newest, "
            f"{newest.source}, is {newest.deployment.label} ({newest.deployment.mismatch(here) if here else ''}): "
            "a baseline must be this deployment on this runner: record one here with "
            "'pytest -m gpu --benchmark-autosave'"
        )
    picked: dict[str, BaselineEntry] = {}
    for entry in mine:  # the runs come oldest first: a newer one overwrites
        picked[entry.scenario] = entry
    files = tuple(sorted({e.source for e in entries}))
    recorded = tuple(
        w for run in loaded.runs if run.file in files for e in run.entries for w in _warnings(e.extra)
    )
    return Baseline(dict(sorted(picked.items())), files, len(entries) - len(mine), recorded)


def _warnings(extra: Mapping[str, Any]) -> list[tuple[str, str]]:
    items = extra.get("warnings") or []
    return [
        (str(w["category"]), str(w["message"]))
        for w in items
        if isinstance(w, dict) and "category" in w and "message" in w
    ]


def _entries(run: SavedRun) -> list[BaselineEntry]:
    found = []
    for item in run.entries:
        match = _LATENCY.search(item.fullname)
        if match is None or not item.rounds:
            continue
        extra = item.extra
        vram, stages = _mapping(extra.get("vram")), _mapping(extra.get("stages_ms"))
        nfe = extra.get("nfe")
        found.append(
            BaselineEntry(
                scenario=match.group("id"),
                fullname=item.fullname,
                rounds_s=item.rounds,
                vram_gib={k: float(vram[k]) for k in _VRAM_KEYS if _number(vram.get(k))},
                nfe=nfe if isinstance(nfe, int) and not isinstance(nfe, bool) else None,
                device=_text(extra.get("device")),
                model=_text(extra.get("model")),
                stages_ms={str(k): float(v) for k, v in stages.items() if _number(v)},
                deployment=Deployment(run.machine, item.context),
                source=run.file,
                date=run.date,
                host=host_state_of(extra.get("host")),
                weights=item.weights,
                extra=extra,
            )
        )
    return found


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
