"""How fast the host ran the launch path around each timed round: a probe between rounds.

At a launch-bound size (512x512 on an H200) the GPU waits on the thread that launches its kernels, so a
round takes as long as that thread needs. On the lent H200 virtual machines that thread runs at two
speeds in spells of seconds to tens of seconds (512x512 images 406 vs 597 ms); on a busy laptop the CPU
reference model shares its cores. The probe times a fixed piece of that path in the timing thread,
between rounds, with the NVML sampler paused:

- CUDA: 2,000 launches of a one-element add on the device, timed on the CPU (about 14 ms on an H200 VM);
- CPU: a fixed set of small matrix products on torch's intra-op threads (about 10 ms on two cores).

A round is *host-slow* when the slower of the probes around it reads more than `SLOW_FACTOR` times the
normal probe: the quicker of this runner's stored normal (written with its budgets) and the quick quartile
of the probes this session has read. On the CPU a session that is busy from its first probe has no quick
probe to compare with, so there a round is also host-slow when the load average around it shows other work
holding at least half the CPUs (`busy_cpu`). A slow host can only make rounds slower, so it never turns a regression
into a pass; the checks use it to set slow rounds aside (and wait a spell out) instead of failing them.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zimage_qa.device import on_cuda

SLOW_FACTOR = 1.25  # a probe this much slower than normal marks the host as slow
LAUNCH_BOUND_S = 0.7  # an image quicker than this is CPU/launch-bound: it moves with the host's speed
CUDA_LAUNCHES = 2000
CPU_PRODUCTS = 300  # 128x128 float32 matrix products: about 10 ms on two cores
MIN_SESSION_READINGS = 5  # before this many readings, the session has no normal of its own
QUICK_QUANTILE = 0.25


BUSY_SHARE = 0.5  # other runnable work on this share of the CPUs makes a CPU host busy


def busy_cpu(own_threads: int) -> bool:
    """Whether other processes keep at least BUSY_SHARE of the CPUs busy: the 1-minute load average less
    this process's own threads (False where the platform has no load average)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return False
    return load - own_threads >= BUSY_SHARE * (os.cpu_count() or 1)


class HostProbe:
    """Times the launch path of `device` ("cpu" or "cuda:N"). Built lazily: the first reading imports torch."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.on_cuda = on_cuda(device)
        self._work: Callable[[], None] | None = None
        self._finish: Callable[[], None] = lambda: None

    def busy(self) -> bool:
        """On the CPU: whether other processes hold the CPUs now (`busy_cpu`); never on a GPU."""
        if self.on_cuda:
            return False
        import torch

        return busy_cpu(torch.get_num_threads())

    @property
    def kind(self) -> str:
        return f"{CUDA_LAUNCHES} kernel launches" if self.on_cuda else "CPU matrix products"

    def read_ms(self) -> float:
        """One probe, in milliseconds (launch loop only on CUDA; the device is synchronised after)."""
        if self._work is None:
            self._build()
        work = self._work
        if work is None:  # pragma: no cover - _build always sets it
            raise RuntimeError("probe not built")
        started = time.perf_counter()
        work()
        elapsed = time.perf_counter() - started
        self._finish()
        return elapsed * 1000.0

    def _build(self) -> None:
        import torch

        if self.on_cuda:
            x = torch.zeros(1, device=self.device)
            torch.cuda.synchronize(self.device)

            def launches() -> None:
                for _ in range(CUDA_LAUNCHES):
                    x.add_(1.0)

            self._work = launches
            self._finish = lambda: torch.cuda.synchronize(self.device)
        else:
            generator = torch.Generator().manual_seed(0)
            a = torch.randn(128, 128, generator=generator)

            def products() -> None:
                with torch.inference_mode():
                    for _ in range(CPU_PRODUCTS):
                        torch.mm(a, a)

            self._work = products
        self.read_ms()  # the first call pays for allocation and kernel loading


SESSION_SOURCE = "this session's quick probes"  # a normal measured on the host being judged, none stored


@dataclass
class HostCalibration:
    """The normal probe of this session: a stored one (this runner's budgets), else the quick quartile
    of the session's own readings once there are `MIN_SESSION_READINGS` of them."""

    stored_ms: float | None = None
    stored_source: str = ""
    readings: list[float] = field(default_factory=list)

    def add(self, reading_ms: float) -> None:
        if math.isfinite(reading_ms) and reading_ms > 0:
            self.readings.append(reading_ms)

    @property
    def session_ms(self) -> float | None:
        if len(self.readings) < MIN_SESSION_READINGS:
            return None
        ordered = sorted(self.readings)
        return ordered[int(QUICK_QUANTILE * (len(ordered) - 1))]

    def normal(self) -> tuple[float | None, str]:
        """(normal probe in ms, where it comes from): the quicker of the stored normal and the session's
        quick quartile, so that a host slow for a whole session is still seen as slow."""
        session, stored = self.session_ms, self.stored_ms
        if stored is not None and (session is None or stored < session):
            return stored, self.stored_source or "this runner's budgets"
        if session is not None and stored is not None:  # a stored normal exists: the session's is quicker
            stored_source = self.stored_source or "this runner's budgets"
            return session, f"{SESSION_SOURCE}, quicker than {stored_source}"
        return session, SESSION_SOURCE if session is not None else "none yet"

    def is_slow(self, reading_ms: float) -> bool:
        normal, _ = self.normal()
        return normal is not None and reading_ms > SLOW_FACTOR * normal


@dataclass(frozen=True)
class HostState:
    """The probes around each round of one measurement and what they say about the host."""

    round_ms: tuple[float | None, ...]  # per round: the slower probe around it (None: not probed)
    normal_ms: float | None
    normal_source: str
    kind: str = ""
    busy: tuple[bool, ...] = ()  # per round: other processes held the CPUs around it (CPU hosts)

    @property
    def slow(self) -> tuple[bool, ...]:
        return self.slow_against(self.normal_ms)

    def slow_against(self, normal_ms: float | None) -> tuple[bool, ...]:
        """Which rounds ran with the probe over SLOW_FACTOR times `normal_ms` (none when it is None), or on a
        busy CPU host."""
        limit = None if normal_ms is None else SLOW_FACTOR * normal_ms
        busy = self.busy or (False,) * len(self.round_ms)
        return tuple(
            (limit is not None and r is not None and r > limit) or b
            for r, b in zip(self.round_ms, busy, strict=True)
        )

    @property
    def slow_count(self) -> int:
        return sum(self.slow)

    def slowest_ms(self) -> float | None:
        known = [r for r in self.round_ms if r is not None]
        return max(known) if known else None

    def describe(self) -> str:
        """'host slow in 3 of 8 rounds: probe up to 20.5 ms vs 13.9 ms normal (this session's quick probes)'."""
        slowest, normal = self.slowest_ms(), self.normal_ms
        if normal is None or slowest is None:
            return "host speed not known (no probe)"
        reading = f"probe up to {slowest:.1f} ms vs {normal:.1f} ms normal ({self.normal_source})"
        if any(self.busy):
            reading += f"; other processes held the CPUs in {sum(self.busy)}"
        if not self.slow_count:
            return f"host at normal speed: {reading}"
        return f"host slow in {self.slow_count} of {len(self.round_ms)} rounds: {reading}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "probe_ms": [None if r is None else round(r, 3) for r in self.round_ms],
            "normal_ms": None if self.normal_ms is None else round(self.normal_ms, 3),
            "normal_source": self.normal_source,
            "slow_rounds": [i for i, s in enumerate(self.slow) if s],
            "busy_rounds": [i for i, b in enumerate(self.busy) if b],
            "slow_factor": SLOW_FACTOR,
            "probe": self.kind,
        }


def bracketed(marks: Sequence[float | None], rounds: int) -> tuple[float | None, ...]:
    """Per round i, the slower of the probes before it (marks[i]) and after it (marks[i + 1])."""
    out: list[float | None] = []
    for i in range(rounds):
        around = [
            m
            for m in (marks[i] if i < len(marks) else None, marks[i + 1] if i + 1 < len(marks) else None)
            if m is not None
        ]
        out.append(max(around) if around else None)
    return tuple(out)


def host_state_of(record: Any) -> HostState | None:
    """A saved record's host state (`extra_info["host"]`), None when it has none."""
    if not isinstance(record, dict):
        return None
    probes = record.get("probe_ms")
    if not isinstance(probes, list):
        return None
    rounds = tuple(
        float(p) if isinstance(p, int | float) and not isinstance(p, bool) else None for p in probes
    )
    normal = record.get("normal_ms")
    normal_ms = float(normal) if isinstance(normal, int | float) and not isinstance(normal, bool) else None
    marked = record.get("busy_rounds")
    busy = tuple(i in marked for i in range(len(rounds))) if isinstance(marked, list) else ()
    return HostState(
        rounds, normal_ms, str(record.get("normal_source", "")), str(record.get("probe", "")), busy
    )
