"""What the gate's own measurement costs: the same generation timed by a bare synchronised loop, by
the StageRecorder, and by the StageRecorder with the NVML sampler running, interleaved in one process.

Rounds come in mirrored pairs (bare, recorder, gate, then gate, recorder, bare), and each ratio is
taken over a pair's sums, so a steady drift (a GPU warming towards its power cap) falls on every arm
alike; a plain rotation would charge it to whichever arm more often runs later. The ratios reported
are medians over the pairs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.memory import NvmlSampler
from zimage_qa.measure.stages import StageRecorder
from zimage_qa.measure.stats import summarize
from zimage_qa.verdict import Status

ARMS = ("bare", "recorder", "gate")
MAX_NOISE_REL = 0.02  # a bare loop spreading wider than this cannot resolve a 1 % overhead


@dataclass(frozen=True)
class OverheadReport:
    """Medians of each arm (seconds), the paired ratios (see the module docstring) and every round."""

    rounds: int
    bare_median_s: float
    recorder_median_s: float  # reported by StageRecorder (total_ms), no sampler
    gate_median_s: float  # reported by StageRecorder while the NVML sampler runs
    gate_ratio: float  # gate / bare, paired: the target is <= 1.01
    recorder_ratio: float  # recorder / bare, paired
    sampler_cost_rel: float  # gate / recorder - 1, paired: the target is < 0.005
    sampler_samples_per_round: float
    sampler_max_gap_ms: float
    sampler_busy_fraction: float  # CPU time of the sampler thread / its wall time
    nvml: bool
    nfe: int
    times_s: dict[str, tuple[float, ...]] = field(default_factory=dict)  # every round, per arm

    @property
    def bare_rel_iqr(self) -> float:
        """Spread of the bare loop itself: above MAX_NOISE_REL the ratios cannot resolve 1 %."""
        bare = self.times_s.get("bare", ())
        return summarize(bare).rel_iqr if bare else 0.0

    def within_targets(self, max_gate_rel: float = 0.01, max_sampler_rel: float = 0.005) -> bool:
        return self.gate_ratio - 1.0 <= max_gate_rel and self.sampler_cost_rel < max_sampler_rel

    def status(self, max_gate_rel: float = 0.01, max_sampler_rel: float = 0.005) -> Status:
        """PASS or FAIL against the targets; UNSTABLE when the bare loop spreads too much to tell."""
        if self.bare_rel_iqr > MAX_NOISE_REL:
            return Status.UNSTABLE
        return Status.PASSED if self.within_targets(max_gate_rel, max_sampler_rel) else Status.FAILED

    def describe(self) -> str:
        sampler = (
            f"sampler {self.sampler_cost_rel * 100:+.2f} % "
            f"({self.sampler_samples_per_round:.0f} samples/round, "
            f"max gap {self.sampler_max_gap_ms:.1f} ms, thread busy {self.sampler_busy_fraction * 100:.2f} %)"
            if self.nvml
            else f"sampler {self.sampler_cost_rel * 100:+.2f} % (no NVML here: the sampler idles)"
        )
        return (
            f"{self.rounds} interleaved rounds, NFE {self.nfe}: bare {self.bare_median_s * 1000:.2f} ms, "
            f"recorder {self.recorder_median_s * 1000:.2f} ms, gate {self.gate_median_s * 1000:.2f} ms; "
            f"gate/bare {self.gate_ratio:.4f} (recorder/bare {self.recorder_ratio:.4f}); {sampler}; "
            f"bare loop relative IQR {self.bare_rel_iqr * 100:.2f} %"
        )

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return data | {"bare_rel_iqr": self.bare_rel_iqr, "status": self.status().value}


def round_order(i: int) -> tuple[str, ...]:
    """Arms of round `i`: forward on even rounds, mirrored on odd ones."""
    return ARMS if i % 2 == 0 else ARMS[::-1]


def paired_ratio(numer: list[float], denom: list[float]) -> float:
    """Median over mirrored round pairs of sum(numer) / sum(denom)."""
    pairs = range(0, len(numer) - 1, 2)
    return statistics.median((numer[i] + numer[i + 1]) / (denom[i] + denom[i + 1]) for i in pairs)


def measure_overhead(
    generate: Callable[[], object],
    sync: Callable[[], None],
    rounds: int = 20,
    *,
    pipe: Any = None,
    device_index: int = 0,
    warmup: int = 2,
    interval_s: float = 0.005,
) -> OverheadReport:
    """Time `generate()` `rounds` times (rounded up to even) in each arm. `sync` is
    torch.cuda.synchronize on GPU (a no-op on CPU). `pipe` is what StageRecorder attaches to
    (defaults to `generate` itself when it has a `transformer`)."""
    if rounds < 4:
        raise QAUsageError(f"measure_overhead needs at least 4 rounds (2 mirrored pairs), got {rounds}")
    rounds += rounds % 2
    target = pipe if pipe is not None else generate
    recorder = StageRecorder().attach(target)
    times: dict[str, list[float]] = {arm: [] for arm in ARMS}
    samples, gaps, busy = [], [], []
    nvml, nfe = False, 0
    try:
        for _ in range(warmup):
            sync()
            generate()
            sync()
        for i in range(rounds):
            for arm in round_order(i):
                if arm == "bare":
                    sync()
                    start = time.perf_counter()
                    generate()
                    sync()
                    times[arm].append(time.perf_counter() - start)
                    continue
                sampler = NvmlSampler(device_index, interval_s) if arm == "gate" else None
                if sampler is not None:
                    sampler.start()
                with recorder.generation() as g:
                    generate()
                if sampler is not None:
                    result = sampler.stop()
                    nvml = nvml or result.samples > 0
                    samples.append(result.samples)
                    gaps.append(result.max_gap_ms)
                    busy.append(result.busy_fraction)
                times[arm].append(g.timing.total_ms / 1000.0)
                nfe = g.timing.nfe
    finally:
        recorder.detach()
    return OverheadReport(
        rounds=rounds,
        bare_median_s=statistics.median(times["bare"]),
        recorder_median_s=statistics.median(times["recorder"]),
        gate_median_s=statistics.median(times["gate"]),
        gate_ratio=paired_ratio(times["gate"], times["bare"]),
        recorder_ratio=paired_ratio(times["recorder"], times["bare"]),
        sampler_cost_rel=paired_ratio(times["gate"], times["recorder"]) - 1.0,
        sampler_samples_per_round=statistics.fmean(samples),
        sampler_max_gap_ms=max(gaps),
        sampler_busy_fraction=statistics.fmean(busy),
        nvml=nvml,
        nfe=nfe,
        times_s={arm: tuple(values) for arm, values in times.items()},
    )
