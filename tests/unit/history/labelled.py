"""Labelled benchmark histories, built apart from `zimage_qa.history`'s thresholds, to measure its calls.

Each history is one runner's saved runs of one benchmark in the gate's format (median with warm
`rounds_s`, stage times, NFE, VRAM peaks), drawn from a seed, with the truth it was built with:

- `step`: a lasting step of +5-20 % after 3-12 runs, seen for 1-6 runs; half of them at an upgrade;
- `creep`: 0-10 flat runs, then 10-30 runs creeping +0.5-2 % a run;
- `noise`: 6-60 runs, no change, 0-2 upgrades that change nothing;
- `spike`: 10-40 runs, no change but one or two runs +15-40 % slow, at least two runs before the end;
- `upgrade`: one run before an upgrade and one after, 3-10 rounds each, +0 % (half) or +5-20 %.

Every run sits at its own level (run-to-run noise 0.5-3 %; 0.5-1.5 % for `upgrade`) and its 3-10 rounds
spread around it by 0.5-2 %; stage times jitter by 1-6 % (text encode) and 1-3 % (VAE decode) a run.
`truth` is the median's relative change at the latest run against the runs before anything moved.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

THRESHOLD = 0.05
KINDS = ("step", "creep", "noise", "spike", "upgrade")
BENCH = "zimage_qa/gate/test_latency.py::test_latency[1024-simple]"
HARDWARE = {
    "gpus": [{"index": 0, "name": "NVIDIA H200", "uuid": "GPU-7"}],
    "device_class": "NVIDIA H200",
    "cpu": "AMD EPYC 9534 64-Core Processor",
    "cpu_count": 32,
}
STACKS = (
    {"driver": "580.95.05", "torch": "2.10.0", "diffusers": "0.41.0"},
    {"driver": "580.95.05", "torch": "2.11.0", "diffusers": "0.42.1"},
    {"driver": "590.44.01", "torch": "2.11.0", "diffusers": "0.42.1"},
)


@dataclass(frozen=True)
class Labelled:
    """What a history was built with."""

    kind: str
    seed: int
    truth: float  # the median's relative change at the latest run (0: nothing changed)
    runs: int
    rounds: int  # per run
    detail: str

    @property
    def regression(self) -> bool:
        return self.truth >= THRESHOLD

    @property
    def clear(self) -> bool:
        """A regression of at least 1.5 times the threshold."""
        return self.truth >= 1.5 * THRESHOLD


class _Runner:
    """Writes one runner's saved runs: each run at its own level, its rounds around it."""

    def __init__(self, folder: Path, rng: random.Random, noise: float) -> None:
        self.folder, self.rng, self.noise = folder, rng, noise
        self.rounds = rng.randint(3, 10)
        self.round_cv = rng.uniform(0.005, 0.02)
        self.text_cv, self.vae_cv = rng.uniform(0.01, 0.06), rng.uniform(0.01, 0.03)
        self.base = rng.choice((0.47, 0.81, 1.33))
        self.n = 0
        self.when = datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc)

    def run(self, factor: float, stack: int = 0) -> None:
        rng = self.rng
        self.n += 1
        self.when += timedelta(hours=rng.uniform(8, 30))
        level = self.base * factor * (1 + self.noise * rng.gauss(0, 1))
        rounds = [level * (1 + self.round_cv * rng.gauss(0, 1)) for _ in range(self.rounds)]
        mid = sorted(rounds)[len(rounds) // 2]
        extra = {
            "stages_ms": {
                "text_encode": 40 * (1 + self.text_cv * rng.gauss(0, 1)),
                "denoise": mid * 880 * (1 + 0.004 * rng.gauss(0, 1)),
                "vae_decode": 30 * (1 + self.vae_cv * rng.gauss(0, 1)),
            },
            "nfe": 8,
            "device": "NVIDIA H200",
            "model": "Tongyi-MAI/Z-Image-Turbo@rev-a",
            "rounds_s": [round(r, 6) for r in rounds],
            "vram": {"peak_allocated_gib": 21.69, "peak_reserved_gib": 24.49 * (1 + 0.002 * rng.gauss(0, 1))},
        }
        data: dict[str, Any] = {
            "machine_info": {"zimage_qa": {**HARDWARE, **STACKS[stack]}},
            "commit_info": {"id": f"{self.n:040x}"},
            "benchmarks": [
                {
                    "group": "latency",
                    "name": BENCH.rpartition("::")[2],
                    "fullname": BENCH,
                    "extra_info": extra,
                    "stats": {"median": mid, "rounds": len(rounds), "data": rounds},
                }
            ],
            "datetime": self.when.isoformat(),
            "version": "5.2.3",
        }
        path = self.folder / f"{self.n:04d}_{self.n:07x}.json"
        path.write_text(json.dumps(data), encoding="utf-8")


def make(kind: str, seed: int, folder: Path) -> Labelled:
    """Write the history of `kind` drawn from `seed` into `folder`; return its label."""
    rng = random.Random(f"{kind}:{seed}")
    folder.mkdir(parents=True, exist_ok=True)
    return _MAKERS[kind](rng, seed, folder)


def _step(rng: random.Random, seed: int, folder: Path) -> Labelled:
    before, after, size = rng.randint(3, 12), rng.randint(1, 6), rng.uniform(0.05, 0.20)
    noise = rng.uniform(0.005, 0.03)
    upgrade = rng.random() < 0.5
    runner = _Runner(folder, rng, noise)
    for _ in range(before):
        runner.run(1.0)
    for _ in range(after):
        runner.run(1 + size, stack=1 if upgrade else 0)
    where = "at an upgrade" if upgrade else "no upgrade"
    detail = f"+{size:.1%} after {before} runs, {after} after, noise {noise:.1%}, {where}"
    return Labelled("step", seed, size, before + after, runner.rounds, detail)


def _creep(rng: random.Random, seed: int, folder: Path) -> Labelled:
    flat, creeping, rate = rng.randint(0, 10), rng.randint(10, 30), rng.uniform(0.005, 0.02)
    noise = rng.uniform(0.005, 0.03)
    runner = _Runner(folder, rng, noise)
    for _ in range(flat):
        runner.run(1.0)
    for i in range(1, creeping + 1):
        runner.run((1 + rate) ** i)
    truth = (1 + rate) ** creeping - 1
    detail = f"{flat} flat runs, then {creeping} runs +{rate:.2%} a run, noise {noise:.1%}"
    return Labelled("creep", seed, truth, flat + creeping, runner.rounds, detail)


def _noise(rng: random.Random, seed: int, folder: Path) -> Labelled:
    n, noise = rng.randint(6, 60), rng.uniform(0.005, 0.03)
    upgrades = sorted(rng.sample(range(1, n), rng.randint(0, min(2, n - 1))))
    runner = _Runner(folder, rng, noise)
    for i in range(n):
        runner.run(1.0, stack=sum(i >= u for u in upgrades))
    detail = f"{n} runs, noise {noise:.1%}, upgrades at {upgrades}"
    return Labelled("noise", seed, 0.0, n, runner.rounds, detail)


def _spike(rng: random.Random, seed: int, folder: Path) -> Labelled:
    n, noise = rng.randint(10, 40), rng.uniform(0.005, 0.03)
    width, size = rng.randint(1, 2), rng.uniform(0.15, 0.40)
    at = rng.randint(1, n - width - 2)
    runner = _Runner(folder, rng, noise)
    for i in range(n):
        runner.run(1 + size if at <= i < at + width else 1.0)
    detail = f"{n} runs, noise {noise:.1%}, +{size:.0%} for {width} run(s) at run {at + 1}"
    return Labelled("spike", seed, 0.0, n, runner.rounds, detail)


def _upgrade(rng: random.Random, seed: int, folder: Path) -> Labelled:
    effect = 0.0 if rng.random() < 0.5 else rng.uniform(0.05, 0.20)
    runner = _Runner(folder, rng, rng.uniform(0.005, 0.015))
    runner.run(1.0)
    runner.run(1 + effect, stack=1)
    detail = f"1 run a side, {runner.rounds} rounds each, +{effect:.1%}"
    return Labelled("upgrade", seed, effect, 2, runner.rounds, detail)


_MAKERS = {"step": _step, "creep": _creep, "noise": _noise, "spike": _spike, "upgrade": _upgrade}
