"""Finding and reading pytest-benchmark saved runs: paths and JSON only, no statistics.

Accepts a `.benchmarks` folder (`<machine-id>/NNNN_*.json`), any folder of saved-run JSON files
(searched recursively, as CI artifacts unpack) and single files, several at once. A file that is
not JSON, is empty, or is not a saved run is skipped with a reason; the same run found twice (two
artifacts of one chain) is read once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from zimage_qa.errors import QAUsageError
from zimage_qa.history.fingerprint import software_fields, weights_of
from zimage_qa.history.metrics import PRIMARY, MetricPolicy, Value, flatten_extra, stats_point
from zimage_qa.history.records import Skipped
from zimage_qa.identity import Fields, benchmark_fields, machine_fields, stable_name


class Entry(NamedTuple):
    """One benchmark of one saved run: full name, profile/device fields, tracked metrics, the warm
    rounds of its primary metric (seconds; `extra_info.rounds_s`, else `stats.data`) and its weights."""

    fullname: str
    context: Fields
    metrics: dict[str, Value]
    rounds: tuple[float, ...] | None = None
    weights: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # the record's extra_info, as saved


@dataclass(frozen=True)
class SavedRun:
    file: str
    commit: str | None
    date: str | None
    machine: Fields
    entries: tuple[Entry, ...]
    software: Fields = ()

    @property
    def order(self) -> tuple[float, str]:
        """Sort key: the run's datetime (runs without one first), then the file name (NNNN_ order)."""
        stamp = _timestamp(self.date)
        return (stamp if stamp is not None else float("-inf"), Path(self.file).name)


@dataclass(frozen=True)
class Loaded:
    runs: tuple[SavedRun, ...]
    skipped: tuple[Skipped, ...]
    files: int
    duplicates: int


class _NotARun(Exception):
    pass


def find_files(paths: Sequence[str | Path]) -> list[Path]:
    """Every JSON file named by `paths` (files, or folders searched recursively), each once."""
    if not paths:
        raise QAUsageError("no path given: pass a .benchmarks folder or saved-run JSON files")
    found: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found[path] = None
        elif path.is_dir():
            found.update(dict.fromkeys(sorted(p for p in path.rglob("*.json") if p.is_file())))
        else:
            raise QAUsageError(
                f"{raw}: no such file or folder; pass a .benchmarks folder or saved-run JSON files"
            )
    if not found:
        shown = ", ".join(str(p) for p in paths)
        raise QAUsageError(
            f"no saved-run JSON files under {shown}; save runs with "
            "'pytest --benchmark-autosave' (or --benchmark-save NAME) and pass the .benchmarks folder"
        )
    resolved: dict[Path, Path] = {}
    for path in found:
        resolved.setdefault(path.resolve(), path)
    return list(resolved.values())


def load_runs(paths: Sequence[str | Path], policy: MetricPolicy) -> Loaded:
    """Read every saved run under `paths`; raise QAUsageError when none is usable."""
    files = find_files(paths)
    runs: list[SavedRun] = []
    skipped: list[Skipped] = []
    seen: set[tuple[str, str, str, str]] = set()
    duplicates = 0
    tracked: dict[str, bool] = {}
    for path in files:
        try:
            run = _read(path, policy, tracked)
        except _NotARun as exc:
            skipped.append(Skipped(str(path), str(exc)))
            continue
        key = (run.date or "", run.commit or "", repr(run.machine), repr(run.software))
        if run.date and key in seen:
            duplicates += 1
            continue
        seen.add(key)
        runs.append(run)
    if not runs:
        reasons = "; ".join(s.warning for s in skipped[:3])
        raise QAUsageError(
            f"no usable pytest-benchmark saved run among {len(files)} JSON file(s) ({reasons})"
        )
    runs.sort(key=lambda r: r.order)
    return Loaded(tuple(runs), tuple(skipped), len(files), duplicates)


def _read(path: Path, policy: MetricPolicy, tracked: dict[str, bool]) -> SavedRun:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _NotARun(f"cannot read it ({exc.strerror or exc})") from None
    if not raw.strip():
        raise _NotARun("the file is empty")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _NotARun(f"not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("benchmarks"), list):
        raise _NotARun("not a pytest-benchmark saved run (no 'benchmarks' list)")
    entries = [e for e in (_entry(b, policy, tracked) for b in data["benchmarks"]) if e is not None]
    if not entries:
        raise _NotARun("no benchmark in it has a numeric stats.median and a fullname")
    commit = data.get("commit_info")
    commit = commit if isinstance(commit, Mapping) else {}
    date = data.get("datetime")
    return SavedRun(
        file=str(path),
        commit=_opt_text(commit.get("id")),
        date=_opt_text(date) or _opt_text(commit.get("time")),
        machine=machine_fields(data.get("machine_info")),
        entries=tuple(entries),
        software=software_fields(data.get("machine_info")),
    )


def _entry(bench: object, policy: MetricPolicy, tracked: dict[str, bool]) -> Entry | None:
    if type(bench) is not dict or type(bench.get("fullname")) is not str:
        return None
    stats = bench.get("stats")
    point = stats_point(stats) if type(stats) is dict else None
    if point is None:
        return None
    metrics: dict[str, Value] = {}
    if _tracks(PRIMARY, policy, tracked):
        metrics[PRIMARY] = point
    extra = bench.get("extra_info")
    for name, value in flatten_extra(extra):
        if name == PRIMARY:
            name = "extra_info.median"  # stats.median keeps the plain name
        keep = tracked.get(name)
        if keep is None:
            keep = _tracks(name, policy, tracked)
        if keep:
            metrics[name] = value
    return Entry(stable_name(bench["fullname"]), benchmark_fields(extra), metrics, _rounds(extra, stats),
                 weights_of(extra), extra if type(extra) is dict else {})  # fmt: skip


def _rounds(extra: object, stats: object) -> tuple[float, ...] | None:
    """The warm rounds behind the median: the gate's `extra_info.rounds_s`, else pytest-benchmark's data."""
    for source, key in ((extra, "rounds_s"), (stats, "data")):
        values = source.get(key) if type(source) is dict else None
        if type(values) is list and len(values) >= 2:
            numbers = [float(v) for v in values if type(v) in (int, float) and math.isfinite(v) and v > 0]
            if len(numbers) == len(values):
                return tuple(numbers)
    return None


def _tracks(metric: str, policy: MetricPolicy, cache: dict[str, bool]) -> bool:
    known = cache.get(metric)
    if known is None:
        known = cache[metric] = policy.tracks(metric)
    return known


def _opt_text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()  # naive: local time
    except ValueError:
        return None
