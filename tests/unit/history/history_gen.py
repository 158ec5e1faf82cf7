"""Generated histories for the history tests: series for the detector, saved-run files for the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from zimage_qa.history.records import Fingerprint, RunRef
from zimage_qa.history.series import Series

H100 = {
    "cpu": {"brand_raw": "AMD EPYC 9454 48-Core Processor"},
    "zimage_qa": {"gpu": "NVIDIA H100 80GB HBM3", "driver": "570.133.20", "cuda": "12.8"},
}


def series_of(values: object, metric: str = "median", se: object = None) -> Series:
    x = np.asarray(values, dtype=float)
    refs = tuple(RunRef(i, f"{i + 1:04d}_run.json", f"c{i:03d}", None) for i in range(len(x)))
    spread = np.zeros(len(x)) if se is None else np.asarray(se, dtype=float)
    return Series(
        "tests/gate/test_latency.py::test_latency[1024]", metric, Fingerprint(()), refs, x, x, x, spread
    )


def noise(
    rng: np.random.Generator, n: int, cv: float, outliers: bool = False, base: float = 1.4
) -> np.ndarray:
    """Run-to-run noise of a GPU runner: normal with `cv`, plus (noisy) 5% of runs 15-30% slow."""
    e = cv * rng.standard_normal(n)
    if outliers:
        hit = rng.random(n) < 0.05
        e[hit] += rng.uniform(0.15, 0.30, int(hit.sum()))
    return base * (1 + e)


def saved_run(
    index: int,
    benchmarks: Mapping[str, float],
    extra: Mapping[str, Mapping[str, object]] | None = None,
    machine: Mapping[str, object] | None = None,
    start: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc),
) -> dict[str, object]:
    when = start + timedelta(hours=index)
    return {
        "machine_info": dict(H100 if machine is None else machine),
        "commit_info": {"id": f"{index:040x}", "time": when.isoformat(), "dirty": False},
        "benchmarks": [
            {
                "group": None,
                "name": name.rpartition("::")[2],
                "fullname": name,
                "extra_info": dict((extra or {}).get(name, {})),
                "stats": {
                    "min": median * 0.99,
                    "max": median * 1.02,
                    "mean": median,
                    "stddev": median * 0.005,
                    "rounds": 5,
                    "median": median,
                    "iqr": median * 0.006,
                    "q1": median * 0.997,
                    "q3": median * 1.003,
                },
            }
            for name, median in benchmarks.items()
        ],
        "datetime": when.isoformat(),
        "version": "5.3.1",
    }


def write_history(
    folder: Path,
    medians: Mapping[str, np.ndarray],
    extra: Callable[[int, str], Mapping[str, object]] | None = None,
    machine: Mapping[str, object] | None = None,
    machine_id: str = "Linux-CPython-3.11-64bit",
) -> Path:
    """Saved runs `<folder>/<machine_id>/NNNN_<commit>.json`, one per index of the median arrays."""
    target = folder / machine_id
    target.mkdir(parents=True, exist_ok=True)
    n = len(next(iter(medians.values())))
    for i in range(n):
        extras = {name: extra(i, name) for name in medians} if extra else None
        data = saved_run(i, {name: float(v[i]) for name, v in medians.items()}, extras, machine)
        (target / f"{i + 1:04d}_{i:07x}_run.json").write_text(json.dumps(data), encoding="utf-8")
    return folder
