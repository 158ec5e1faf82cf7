"""Histories around upgrades, held out: labelled cases and seeded rates, built here in the gate's format.

Nothing in `zimage_qa.history` was fitted on these: the generator below is apart from the example and from
the detector's own tests (other noise, other run counts, other effects). Each case says what a
reviewer must be told; the rates count every case, misses included.
"""

from __future__ import annotations

import json
import random
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from zimage_qa.history.analysis import analyse

H200 = {
    "gpus": [{"index": 0, "name": "NVIDIA H200", "uuid": "GPU-a"}],
    "device_class": "NVIDIA H200",
    "cpu": "Intel(R) Xeon(R) Platinum 8480+",
    "cpu_count": 16,
}
H100 = {
    "gpus": [{"index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-b"}],
    "device_class": "NVIDIA H100 80GB HBM3",
    "cpu": "Intel(R) Xeon(R) Platinum 8480+",
    "cpu_count": 16,
}
STACK = {
    "driver": "580.159.04",
    "cuda_driver": "13.0",
    "cuda_runtime": "13.0",
    "torch": "2.11.0",
    "diffusers": "0.42.1",
    "transformers": "5.17.0",
    "python": "3.12.3",
}
WEIGHTS = "Tongyi-MAI/Z-Image-Turbo@rev-a"
UPGRADES: dict[str, tuple[dict[str, str], str | None]] = {
    "diffusers+torch": ({"diffusers": "0.43.0", "torch": "2.12.0"}, None),
    "driver": ({"driver": "590.44.01", "cuda_driver": "13.1"}, None),
    "weights": ({}, "Tongyi-MAI/Z-Image-Turbo@rev-b"),
}
SCENARIOS = {"1024-simple": (1.33, 1024), "512-simple": (0.47, 512)}


class Gen:
    """Saved runs of one runner: each run at its own level (run-to-run drift), rounds around it."""

    def __init__(self, folder: Path, seed: int, rounds: int = 5, cv: float = 0.01, drift: float = 0.01):
        self.folder, self.rng, self.rounds, self.cv, self.drift = (
            folder,
            random.Random(seed),
            rounds,
            cv,
            drift,
        )
        self.n = 0
        self.when = datetime(2026, 10, 1, 3, 0, tzinfo=timezone.utc)

    def runs(
        self,
        count: int,
        factor: float = 1.0,
        stack: dict[str, str] | None = None,
        weights: str = WEIGHTS,
        hardware: dict[str, Any] | None = None,
        nfe: int = 8,
    ) -> None:
        for _ in range(count):
            self.n += 1
            self.when += timedelta(hours=self.rng.uniform(6, 30))
            level = factor * (1 + self.drift * self.rng.gauss(0, 1))
            fingerprint = {**(hardware or H200), **STACK, **(stack or {})}
            benches = [
                self._bench(case, base * level, size, weights, nfe)
                for case, (base, size) in SCENARIOS.items()
            ]
            data = {
                "machine_info": {"release": "6.8.0", "zimage_qa": fingerprint},
                "commit_info": {"id": f"{self.n:040x}"},
                "benchmarks": benches,
                "datetime": self.when.isoformat(),
                "version": "5.2.3",
            }
            path = self.folder / f"run{self.n:03d}" / "bench.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data))

    def _bench(self, case: str, median: float, size: int, weights: str, nfe: int) -> dict[str, Any]:
        rounds = [median * (1 + self.cv * self.rng.gauss(0, 1)) for _ in range(self.rounds)]  # in time order
        ordered = sorted(rounds)
        mid = ordered[len(rounds) // 2]
        denoise = mid * 1000 * 0.88
        return {
            "group": f"latency {size}x{size}",
            "name": f"test_latency[{case}]",
            "fullname": f"zimage_qa/gate/test_latency.py::test_latency[{case}]",
            "extra_info": {
                "stages_ms": {
                    "text_encode": 40 * (1 + 0.06 * self.rng.gauss(0, 1)),
                    "denoise": denoise,
                    "vae_decode": 30 * (1 + 0.03 * self.rng.gauss(0, 1)),
                },
                "nfe": nfe,
                "device": "NVIDIA H200",
                "model": weights,
                "steps": 8,
                "seed": 42,
                "rounds_s": [round(r, 5) for r in rounds],
                "vram": {
                    "peak_allocated_gib": 21.69,
                    "peak_reserved_gib": 24.49 * (1 + 0.002 * self.rng.gauss(0, 1)),
                    "nvml_peak_gib": 25.77,
                },
            },
            "stats": {
                "median": mid,
                "q1": ordered[1],
                "q3": ordered[-2],
                "rounds": len(rounds),
                "data": rounds,
            },
        }


def upgrade(kind: str) -> dict[str, Any]:
    stack, weights = UPGRADES[kind]
    return {"stack": stack, "weights": weights or WEIGHTS}


def judged(folder: Path) -> tuple[int, dict[str, Any]]:
    report = analyse([folder]).report
    return report.exit_code, report.to_dict()


@pytest.mark.parametrize("kind", sorted(UPGRADES))
def test_slowdown_at_an_upgrade_is_one_event_with_its_attribution(tmp_path: Path, kind: str) -> None:
    gen = Gen(tmp_path, seed=zlib.crc32(kind.encode()) % 1000)  # hash() of a str changes per process
    gen.runs(9)
    gen.runs(6, factor=1.09, **upgrade(kind))
    code, data = judged(tmp_path)
    assert code == 1
    (event,) = [e for e in data["events"] if e["upgrades"]]
    assert event["run"]["number"] == 10 and event["open"]
    names = {u["name"] for u in event["upgrades"]}
    assert names == (
        {"weights"}
        if kind == "weights"
        else set(UPGRADES[kind][0]) - {"cuda_driver"} | ({"cuda driver"} if kind == "driver" else set())
    )
    moved = {(m["benchmark"].rpartition("[")[2], m["metric"]) for m in event["moved"]}
    assert {("1024-simple]", "median"), ("512-simple]", "median")} <= moved
    assert all(r["attribution"] == event["attribution"] for r in data["regressions"] if r["open"])
    assert "+9" in event["headline"] or "+8" in event["headline"] or "+10" in event["headline"]


@pytest.mark.parametrize("kind", sorted(UPGRADES))
def test_an_upgrade_that_changes_nothing_is_listed_and_green(tmp_path: Path, kind: str) -> None:
    gen = Gen(tmp_path, seed=7 + len(kind))
    gen.runs(8)
    gen.runs(7, **upgrade(kind))
    code, data = judged(tmp_path)
    assert code == 0 and data["regressions"] == []
    (event,) = data["events"]
    assert event["moved"] == [] and "no lasting change" in event["headline"]


@pytest.mark.parametrize(("factor", "slower"), [(1.22, True), (1.10, True), (1.0, False), (0.97, False)])
def test_one_run_before_and_one_after_is_judged_on_rounds(
    tmp_path: Path, factor: float, slower: bool
) -> None:
    gen = Gen(tmp_path, seed=int(factor * 100), rounds=10)
    gen.runs(1)
    gen.runs(1, factor=factor, **upgrade("diffusers+torch"))
    code, data = judged(tmp_path)
    assert code == (1 if slower else 0)
    medians = [r for r in data["regressions"] if r["metric"] == "median"]
    if slower:
        assert {r["method"] for r in medians} == {"rounds"} and all(r["ci_low"] > 0 for r in medians)
        assert min(r["change"] for r in medians) > factor - 1 - 0.04
        series = [s for s in data["series"] if s["metric"] == "median"]
        assert all(
            s["baseline"] == pytest.approx(s["latest"] / (1 + r["change"]), rel=0.03)
            for s, r in zip(
                sorted(series, key=lambda s: s["benchmark"]),
                sorted(medians, key=lambda r: r["benchmark"]),
                strict=True,
            )
        )
    else:
        assert medians == []


def test_one_run_after_an_upgrade_at_the_end_of_a_long_history(tmp_path: Path) -> None:
    gen = Gen(tmp_path, seed=31, rounds=8)
    gen.runs(12)
    gen.runs(1, factor=1.12, **upgrade("weights"))
    code, data = judged(tmp_path)
    assert code == 1
    (event,) = data["events"]
    assert event["open"] and event["attribution"].startswith("weights") and event["run"]["number"] == 13


def test_nfe_change_is_reported_with_the_median_in_one_entry(tmp_path: Path) -> None:
    gen = Gen(tmp_path, seed=5)
    gen.runs(8)
    gen.runs(5, factor=1.12, nfe=9, **upgrade("diffusers+torch"))
    code, data = judged(tmp_path)
    assert code == 1
    (event,) = data["events"]
    metrics = {m["metric"] for m in event["moved"]}
    assert {"median", "nfe", "stages_ms.denoise"} <= metrics and "rounds_s" not in metrics


def test_a_swapped_card_starts_a_new_group_and_no_regression(tmp_path: Path) -> None:
    gen = Gen(tmp_path, seed=11)
    gen.runs(8, hardware=H100)
    gen.runs(4, factor=0.7, hardware=H200)
    gen.runs(1, factor=1.4, hardware={**H200, "cpu_count": 32})  # another host of the pool: its own group
    code, data = judged(tmp_path)
    assert code == 0 and data["regressions"] == [] and len(data["groups"]) == 3


def rates(seed: int, trials: int) -> dict[str, float]:
    """False alarms on histories with an upgrade that changes nothing, and detection of +8-15 % at one,
    with random lengths (1-10 runs before, 1-7 after), rounds (5-10) and run-to-run drift (0.5-1.5 %)."""
    import tempfile

    rng = random.Random(seed)
    alarms = found = 0
    for trial in range(trials):
        kind = rng.choice(sorted(UPGRADES))
        before, after, rounds = rng.randint(1, 10), rng.randint(1, 7), rng.randint(5, 10)
        drift = rng.uniform(0.005, 0.015)
        effect = rng.uniform(0.08, 0.15)
        for factor in (1.0, 1 + effect):
            with tempfile.TemporaryDirectory() as tmp:
                gen = Gen(Path(tmp), seed=trial * 7919 + int(factor * 1000), rounds=rounds, drift=drift)
                gen.runs(before)
                gen.runs(after, factor=factor, **upgrade(kind))
                code, _ = judged(Path(tmp))
            if factor == 1.0:
                alarms += code
            else:
                found += code
    return {"false_alarm": alarms / trials, "detection": found / trials}


def test_false_alarm_and_detection_rates_on_random_histories() -> None:
    """A first draw (seed 424242) found 83 % detection: 3-7 runs a side were judged by levels, whose rank
    test cannot reach alpha with 4 runs against 4; such stretches now go to the rounds. This draw is new."""
    measured = rates(seed=777, trials=50)
    assert measured["false_alarm"] <= 0.05
    assert measured["detection"] >= 0.90


def test_a_compiled_deployment_is_its_own_group_not_an_upgrade() -> None:
    """Eager and compiled runs of the same hardware never compare: the variant is part of the group."""
    from zimage_qa.identity import benchmark_fields

    eager = benchmark_fields(
        {"model": "synthetic", "device": "NVIDIA H200", "variant": "eager", "mode": "solo"}
    )
    legacy = benchmark_fields({"model": "synthetic", "device": "NVIDIA H200"})
    compiled = benchmark_fields({"model": "synthetic", "device": "NVIDIA H200", "variant": "compile-wrap"})
    concurrent = benchmark_fields({"model": "synthetic", "device": "NVIDIA H200", "mode": "concurrent"})
    assert eager == legacy  # records written before variants existed stay in the eager group
    assert len({eager, compiled, concurrent}) == 3
