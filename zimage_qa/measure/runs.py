"""pytest-benchmark's saved runs, read in one place for the baseline, `zqa history` and `zqa gate`.

Accepts a `.benchmarks` folder (`<machine-id>/NNNN_*.json`), any folder of saved-run JSON files
(searched recursively, as CI artifacts unpack) and single files, several at once. A file that is
not JSON, is empty, or is not a saved run is skipped with a reason; the same run found twice (two
artifacts of one chain) is read once. Benchmark names are read as `zimage_qa.identity.stable_name`
gives them, so older names and other install paths still meet.

A saved benchmark gives one primary metric, `median` (stats.median, seconds), with its in-run spread
(q1, q3, iqr or stddev, and the raw `data` when saved), plus every numeric value in `extra_info`,
flattened to dotted keys: `stages_ms.denoise`, `nfe`, `vram.peak_reserved_gib`, `glyph.score`. Lists
(`rounds_s`, `times_s`: per-round samples) are data, not metrics: the warm rounds of the primary metric
are read apart. Which metrics a reader keeps is the caller's choice (`tracks`); paths and JSON only,
no judging.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from zimage_qa.errors import QAUsageError
from zimage_qa.identity import (
    Fields,
    benchmark_fields,
    machine_fields,
    software_fields,
    stable_name,
    weights_of,
)

PRIMARY = "median"


class Point(NamedTuple):
    """One run's value of one metric, with the in-run spread: quartiles and the standard error.

    A NamedTuple rather than a frozen dataclass: 1,000 runs make hundreds of thousands of them.
    """

    value: float
    lo: float
    hi: float
    se: float


Value = float | Point  # a plain float is a value without in-run spread (most of extra_info)


class Entry(NamedTuple):
    """One benchmark of one saved run: full name, profile/device fields, tracked metrics, the warm
    rounds of its primary metric (seconds; `extra_info.rounds_s`, else `stats.data`) and its weights."""

    fullname: str
    context: Fields
    metrics: dict[str, Value]
    rounds: tuple[float, ...] | None = None
    weights: str | None = None
    extra: Mapping[str, Any] = MappingProxyType({})  # the record's extra_info, as saved


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
class Skipped:
    file: str
    reason: str

    @property
    def warning(self) -> str:
        return f"skipped {self.file}: {self.reason}"


@dataclass(frozen=True)
class Loaded:
    runs: tuple[SavedRun, ...]
    skipped: tuple[Skipped, ...]
    files: int
    duplicates: int


class NotARun(Exception):
    """A file that is not a readable pytest-benchmark saved run; the message says why."""


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


def _no_metric(metric: str) -> bool:
    return False


def load_runs(paths: Sequence[str | Path], tracks: Callable[[str], bool] = _no_metric) -> Loaded:
    """Read every saved run under `paths`, oldest first, keeping the metrics `tracks` accepts (none by
    default: names, rounds and extra_info only); raise QAUsageError when none is usable."""
    files = find_files(paths)
    runs: list[SavedRun] = []
    skipped: list[Skipped] = []
    seen: set[tuple[str, str, str, str]] = set()
    duplicates = 0
    tracked: dict[str, bool] = {}
    for path in files:
        try:
            run = _read(path, tracks, tracked)
        except NotARun as exc:
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


def read_document(path: Path) -> dict[str, Any]:
    """The JSON of one saved run as written, its `benchmarks` list checked and nothing else; NotARun
    says why it is not one."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotARun(f"cannot read it ({exc.strerror or exc})") from None
    if not raw.strip():
        raise NotARun("the file is empty")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotARun(f"not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise NotARun("not a pytest-benchmark saved run (no 'benchmarks' list)")
    return data


def _read(path: Path, tracks: Callable[[str], bool], tracked: dict[str, bool]) -> SavedRun:
    data = read_document(path)
    entries = [e for e in (_entry(b, tracks, tracked) for b in data["benchmarks"]) if e is not None]
    if not entries:
        raise NotARun("no benchmark in it has a numeric stats.median and a fullname")
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


def _entry(bench: object, tracks: Callable[[str], bool], tracked: dict[str, bool]) -> Entry | None:
    if type(bench) is not dict or type(bench.get("fullname")) is not str:
        return None
    stats = bench.get("stats")
    point = stats_point(stats) if type(stats) is dict else None
    if point is None:
        return None
    metrics: dict[str, Value] = {}
    if _tracks(PRIMARY, tracks, tracked):
        metrics[PRIMARY] = point
    extra = bench.get("extra_info")
    for name, value in flatten_extra(extra):
        if name == PRIMARY:
            name = "extra_info.median"  # stats.median keeps the plain name
        keep = tracked.get(name)
        if keep is None:
            keep = _tracks(name, tracks, tracked)
        if keep:
            metrics[name] = value
    return Entry(
        stable_name(bench["fullname"]),
        benchmark_fields(extra),
        metrics,
        _rounds(extra, stats),
        weights_of(extra),
        extra if type(extra) is dict else {},
    )


def _rounds(extra: object, stats: object) -> tuple[float, ...] | None:
    """The warm rounds behind the median: the gate's `extra_info.rounds_s`, else pytest-benchmark's data."""
    for source, key in ((extra, "rounds_s"), (stats, "data")):
        values = source.get(key) if type(source) is dict else None
        if type(values) is list and len(values) >= 2:
            numbers = [float(v) for v in values if type(v) in (int, float) and math.isfinite(v) and v > 0]
            if len(numbers) == len(values):
                return tuple(numbers)
    return None


def _tracks(metric: str, tracks: Callable[[str], bool], cache: dict[str, bool]) -> bool:
    known = cache.get(metric)
    if known is None:
        known = cache[metric] = tracks(metric)
    return known


def stats_point(stats: Mapping[str, object]) -> Point | None:
    """The primary metric from pytest-benchmark's `stats`; None when the median is missing."""
    median = _number(stats.get("median"))
    if median is None:
        return None
    q1, q3 = _number(stats.get("q1")), _number(stats.get("q3"))
    iqr = _number(stats.get("iqr"))
    data = stats.get("data")
    if iqr is None and q1 is None and isinstance(data, list) and len(data) > 1:
        samples = _numbers(data)
        if samples is not None:
            return _sample_point(samples, median)
    if iqr is None and q1 is not None and q3 is not None:
        iqr = q3 - q1
    sigma = iqr / 1.349 if iqr is not None else _number(stats.get("stddev")) or 0.0
    rounds = _number(stats.get("rounds")) or 1.0
    lo = q1 if q1 is not None else median - 0.6745 * sigma
    hi = q3 if q3 is not None else median + 0.6745 * sigma
    return Point(median, lo, hi, 1.2533 * sigma / math.sqrt(max(rounds, 1.0)))


def flatten_extra(extra: object, prefix: str = "") -> list[tuple[str, Value]]:
    """Numeric values of `extra_info` as (dotted key, value); strings, booleans and NaN are skipped.

    The hot loop of reading a history (a million values for 1,000 runs): concrete type checks, no ABCs,
    and scalars stay plain floats.
    """
    found: list[tuple[str, Value]] = []
    if type(extra) is not dict:
        return found
    for key, value in extra.items():
        kind = type(value)
        if kind is float or kind is int:
            if math.isfinite(value):
                found.append((prefix + key, float(value)))
        elif kind is dict:
            found.extend(flatten_extra(value, f"{prefix}{key}."))
    return found


def _sample_point(samples: list[float], median: float) -> Point:
    if len(samples) < 2:
        return Point(median, median, median, 0.0)
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    sigma = (q3 - q1) / 1.349
    return Point(median, q1, q3, 1.2533 * sigma / math.sqrt(len(samples)))


def _number(value: object) -> float | None:
    kind = type(value)
    if kind is not float and kind is not int:  # bool is not int by type, as intended
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _numbers(values: list[object]) -> list[float] | None:
    numbers = [_number(v) for v in values]
    return None if any(n is None for n in numbers) else [n for n in numbers if n is not None]


def _opt_text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()  # naive: local time
    except ValueError:
        return None
