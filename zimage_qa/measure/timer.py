"""What times the rounds: a `Timer` (pytest-benchmark in the gate, wrapped in `BenchmarkTimer`).

Pytest-free: anything with the `Timer` methods will do; `BenchmarkTimer` only calls the fixture object it
is handed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol


class Timer(Protocol):
    def disabled_reason(self) -> str | None: ...
    def time(
        self, target: Callable[[], None], rounds: int, warmup: int, setup: Callable[[], object]
    ) -> None: ...
    def extend(self, durations_s: list[float]) -> None: ...
    def attach(self, info: dict[str, Any]) -> None: ...


class BenchmarkTimer:
    """pytest-benchmark's fixture as a Timer: `pedantic` for the rounds (the probe as its untimed setup),
    extra rounds appended to its statistics (so the saved JSON holds every round the verdict used),
    `extra_info` for the record."""

    def __init__(self, benchmark: Any) -> None:
        self.benchmark = benchmark

    def disabled_reason(self) -> str | None:
        if not getattr(self.benchmark, "disabled", False):
            return None
        if os.environ.get("PYTEST_XDIST_WORKER"):
            return (
                "pytest-benchmark turns itself off under xdist (pytest -n), so nothing was timed; run the "
                "latency checks without -n, or one process per GPU with `zqa gate --gpus`"
            )
        return "pytest-benchmark is disabled (--benchmark-disable): nothing was timed"

    def time(self, target: Callable[[], None], rounds: int, warmup: int, setup: Callable[[], object]) -> None:
        def before() -> None:
            setup()

        self.benchmark.pedantic(target, setup=before, rounds=rounds, warmup_rounds=warmup, iterations=1)

    def extend(self, durations_s: list[float]) -> None:
        stats = getattr(getattr(self.benchmark, "stats", None), "stats", None)
        if stats is None:
            return
        for duration in durations_s:
            stats.update(duration)
        for name in list(vars(stats)):  # statistics are cached properties: drop them so they are recomputed
            if name != "data":
                del vars(stats)[name]

    def attach(self, info: dict[str, Any]) -> None:
        self.benchmark.extra_info.update(info)
