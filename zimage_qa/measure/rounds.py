"""The rounds of one scenario as they come in, how many there may be, and what the first images at a shape
tell. Pure: no torch.

`Rounds` are the measured rounds so far with the host probe's word on each; a `Question` (the budget, the
baseline) looks at them and says whether it is decided; `LatencyPolicy` says how many rounds the first
look takes and how far an undecided measurement may grow; `Measurement` says how it went.
`compile_seconds(first, warm)` is the first call at a shape minus a warm call (torch.compile's work, or
lazy initialisation when eager); the session keeps load and first image apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from zimage_qa.measure.probe import HostState
from zimage_qa.verdict import Verdict


def compile_seconds(first_call_s: float, warm_call_s: float) -> float:
    """What the first call at a shape cost beyond a warm one (compilation, autotuning, lazy init)."""
    return max(0.0, first_call_s - warm_call_s)


@dataclass(frozen=True)
class LatencyPolicy:
    first_look: int  # rounds before the first look (min_rounds)
    rounds: int  # a pass that is not clear is confirmed on at least this many rounds
    warmup: int
    max_rounds: int  # the most rounds an undecided measurement may grow to
    max_rel_iqr: float
    min_stage_coverage: float
    time_budget_s: float = 120.0  # rounds are added only while they fit
    host_wait_s: float = 40.0  # how long a slow host is waited out, over the whole measurement

    @property
    def step(self) -> int:
        return max(2, self.first_look // 2 + 1)


@dataclass(frozen=True)
class Rounds:
    """The measured rounds so far, in order, with the host probe's verdict on each."""

    times_s: tuple[float, ...]
    host: HostState | None

    @property
    def slow(self) -> tuple[bool, ...]:
        return self.host.slow if self.host is not None else (False,) * len(self.times_s)

    @property
    def normal_s(self) -> tuple[float, ...]:
        """The rounds taken while the host ran at its normal speed."""
        return self.normal_against(None)

    def normal_against(self, normal_ms: float | None) -> tuple[float, ...]:
        """The rounds at normal speed against `normal_ms` (None: the host state's own normal)."""
        if self.host is None:
            return self.times_s
        slow = self.host.slow if normal_ms is None else self.host.slow_against(normal_ms)
        return tuple(t for t, s in zip(self.times_s, slow, strict=True) if not s)

    @property
    def set_aside(self) -> int:
        return len(self.times_s) - len(self.normal_s)


class Question(Protocol):
    """One thing the rounds are measured to answer; `look` says whether it is decided."""

    def look(self, rounds: Rounds, final: bool) -> bool: ...
    def verdict(self) -> Verdict: ...


@dataclass
class Measurement:
    """How the measurement went: rounds added after the first look, time spent waiting for the host."""

    looks: int = 0
    added: int = 0
    waited_s: float = 0.0
    stopped: str = ""
