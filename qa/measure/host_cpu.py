"""How fast the host CPU ran around each timed round.

At a launch-bound size (512x512 on an H200) the GPU waits on the Python thread that launches its
kernels, so the round takes as long as that thread needs. On the lent H200 virtual machines that thread
ran in two speeds, switching every few seconds whatever the gate did: 0.39 s per 512x512 image in one,
0.60-0.70 s in the other, with the GPU at full clock in both (benchmarks/gpu/study_contention.py,
nvidia-h200-x2). A sibling gate process working on the other GPU made the slow spells more frequent
(23 % of rounds to 38 %), a CPU-heavy one more still (69 %); pinning threads inside the virtual machine
did not help. A median of five rounds then measures the host, not the model.

So every round is bracketed by a probe: a fixed piece of the work that launches kernels (PyTorch
dispatcher calls on a tiny CPU tensor, and plain Python), timed just before the round and just after
it, outside the timed call. Its speed against the fastest probe of the session says whether the host
CPU ran at its own speed; a round with either side slower than `DISTURBED_BELOW` is "disturbed" and the
latency verdict re-measures instead of judging it (`qa.checks.timing`). The probe is relative to the
session's own best, so a slower torch or pipeline does not hide in it; its absolute time is recorded
too, so a slow host shows in the history.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DISTURBED_BELOW = 0.80  # a round bracketed by a probe under this share of the session's best speed
PROBE_OPS = 150  # dispatcher calls per probe: about 0.5 ms on a server core
REPEATS = 3  # the probe is the fastest of these (one interrupt must not read as a slow host)


@dataclass(frozen=True)
class HostSpeed:
    """Per measured round: the host CPU's speed around it (1.0 = the session's best), None when unprobed."""

    speeds: tuple[float | None, ...]
    best_probe_us: float | None

    @property
    def disturbed(self) -> tuple[int, ...]:
        """Indices of the rounds measured while the host CPU ran under `DISTURBED_BELOW` of its speed."""
        return tuple(k for k, s in enumerate(self.speeds) if s is not None and s < DISTURBED_BELOW)

    @property
    def probed(self) -> bool:
        return any(s is not None for s in self.speeds)

    def slowest(self) -> float | None:
        known = [s for s in self.speeds if s is not None]
        return min(known) if known else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "speed": [None if s is None else round(s, 3) for s in self.speeds],
            "disturbed_rounds": list(self.disturbed),
            "best_probe_us": None if self.best_probe_us is None else round(self.best_probe_us, 1),
            "disturbed_below": DISTURBED_BELOW,
        }

    def describe(self) -> str:
        """'host CPU under 80 % of its speed in 3 of 8 rounds (slowest 0.62)', or '' when none was."""
        bad = self.disturbed
        if not bad:
            return ""
        slowest = self.slowest()
        return (
            f"host CPU under {DISTURBED_BELOW * 100:.0f} % of its speed in {len(bad)} of {len(self.speeds)} rounds"
            + (f" (slowest {slowest:.2f})" if slowest is not None else "")
        )


class HostProbe:
    """One per session: times the probe and keeps the session's fastest."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.best_s: float | None = None
        self._tensor: Any = None

    def probe(self) -> float | None:
        """The probe's time in seconds (fastest of `REPEATS`); None when disabled."""
        if not self.enabled:
            return None
        if self._tensor is None:
            import torch

            self._tensor = torch.zeros(8)
        fastest = min(self._once() for _ in range(REPEATS))
        if self.best_s is None or fastest < self.best_s:
            self.best_s = fastest
        return fastest

    def _once(self) -> float:
        tensor = self._tensor
        started = time.perf_counter()
        for _ in range(PROBE_OPS):
            tensor.add_(1.0)
        total = 0
        for k in range(400):
            total += k * k
        return time.perf_counter() - started

    def speeds(self, before: Sequence[float | None], after: Sequence[float | None]) -> HostSpeed:
        """Each round's speed from the probes on its two sides (the slower side counts)."""
        best = self.best_s
        out: list[float | None] = []
        for b, a in zip(before, after, strict=True):
            sides = [p for p in (b, a) if p is not None]
            out.append(best / max(sides) if best and sides else None)
        return HostSpeed(tuple(out), None if best is None else best * 1e6)
