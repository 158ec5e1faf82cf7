"""The back-to-back drift verdict: K images in a row must not creep up or jump from one to the next.

The creep compares the median of the last half of the images with that of the first half (the middle
image of an odd count belongs to neither; with 3 images it is image 3 against image 1). For an offloaded
deployment each image's time is split into its offload transfers (the weights' host<->device copies,
13-18 s of a 15-20 s image on an H200) and the rest (the device work and the host steps, about 1.3 s):

- the rest is judged as a resident image is, against `drift_max_work_creep` and `drift_max_jitter_ms`: a
  DiT that slows by 30 % moves the total of an offloaded image by 2 %, inside the transfers' noise, and
  would pass on totals alone;
- the transfers are host-memory work, seconds apart from image to image: a creep of the totals is judged
  by whether the later images' transfers rose past what the same scenario's latency rounds took (their
  median, plus the `drift_max_creep` margin). Past it: failed, naming host memory. Within it: passed, the
  message says so. With no latency rounds to compare (the check ran alone, or in another shard): unstable.
  Their jumps from image to image are reported, not judged.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from zimage_qa.measure.stats import drift_check, drift_report
from zimage_qa.measure.units import format_change, format_seconds
from zimage_qa.verdict import Verdict


@dataclass(frozen=True)
class DriftImage:
    """One back-to-back image: its total, and its offload transfers (None when not offloaded)."""

    total_s: float
    transfer_s: float | None = None

    @property
    def work_s(self) -> float:
        """The total less the transfers: the device work and the host steps."""
        return self.total_s - (self.transfer_s or 0.0)


@dataclass(frozen=True)
class DriftLimits:
    max_creep: float  # of the totals, relative (0.10: +10 %)
    max_jitter_ms: float
    max_work_creep: float = 0.10  # offloaded: of each image less its transfers


def judge_drift(
    label: str, images: Sequence[DriftImage], limits: DriftLimits, seen_s: Sequence[float | None] = ()
) -> Verdict:
    """The verdict on K back-to-back images; `seen_s` are the offload transfers of the same scenario's
    latency rounds in this session (the noise a transfer creep is measured against; None: not offloaded)."""
    transfers_seen_s = [t for t in seen_s if t is not None]
    totals = [image.total_s for image in images]
    report = drift_report(totals)
    values: dict[str, object] = {"times_s": [round(t, 5) for t in totals], "creep": report.creep_rel,
                                 "max_jitter_ms": report.max_jitter_s * 1000.0}  # fmt: skip
    transfers = [image.transfer_s for image in images]
    if any(t is None for t in transfers):
        listing = ", ".join(format_seconds(t) for t in totals)
        problem = drift_check(totals, limits.max_creep, limits.max_jitter_ms)
        if problem:
            return Verdict.failed(f"{label} x{len(totals)}: {problem} (times: {listing})", **values)
        return Verdict.passed(f"{label} x{len(totals)}: {listing}", **values)
    moved = [float(t or 0.0) for t in transfers]
    work = [image.work_s for image in images]
    work_creep = drift_report(work).creep_rel
    transfer_report = drift_report(moved)
    values |= {"transfer_s": [round(t, 5) for t in moved], "work_s": [round(w, 5) for w in work],
               "work_creep": work_creep, "transfer_creep": transfer_report.creep_rel,
               "transfer_max_jump_ms": transfer_report.max_jitter_s * 1000.0}  # fmt: skip
    listing = ", ".join(f"{format_seconds(i.total_s)} (transfer {format_seconds(i.transfer_s or 0.0)})"
                        for i in images)  # fmt: skip
    head = f"{label} x{len(images)}"
    work_problem = drift_check(work, limits.max_work_creep, limits.max_jitter_ms)
    if work_problem:
        return Verdict.failed(
            f"{head}: the device work (transfers excluded, {_halves(work, work_creep)}): {work_problem} "
            f"(times: {listing})",
            **values,
        )  # fmt: skip
    steady = f"device work {_halves(work, work_creep)}"
    creep = report.creep_rel
    if creep <= limits.max_creep:
        return Verdict.passed(f"{head}: {listing}; {steady}", **values)
    where = (f"the totals creep up {format_change(creep)} (> limit {format_change(limits.max_creep)}), all in the "
             f"offload transfers ({_halves(moved, transfer_report.creep_rel)}); {steady}")  # fmt: skip
    late = statistics.median(moved[len(moved) - len(moved) // 2 :])
    if not transfers_seen_s:
        return Verdict.unstable(
            f"{head}: {where}; no latency rounds of {label} ran in this session to tell a host-memory creep "
            f"from transfer noise: run its latency check with it (times: {listing})",
            **values,
        )  # fmt: skip
    bound = statistics.median(transfers_seen_s) * (1 + limits.max_creep)
    values["transfer_bound_s"] = bound
    if late <= bound:
        return Verdict.passed(
            f"{head}: {where}; the later images' transfers ({format_seconds(late)}) stay within this "
            f"scenario's latency rounds (median {format_seconds(statistics.median(transfers_seen_s))}, "
            f"+{limits.max_creep:.0%} margin): no slowdown (times: {listing})",
            **values,
        )  # fmt: skip
    return Verdict.failed(
        f"{head}: {where}; the later images' transfers ({format_seconds(late)}) exceed this scenario's latency "
        f"rounds (median {format_seconds(statistics.median(transfers_seen_s))}) by more than "
        f"{format_change(limits.max_creep)}: look at host memory (swap, NUMA, page faults on the offloaded "
        f"weights) before the DiT (times: {listing})",
        **values,
    )  # fmt: skip


def _halves(series: Sequence[float], creep: float) -> str:
    """'1.30 s -> 1.69 s (+30.0 %)': the first half's median, the last half's, the change."""
    half = len(series) // 2
    first, last = statistics.median(series[:half]), statistics.median(series[len(series) - half :])
    shown = creep if abs(creep) >= 0.0005 else 0.0  # no "-0.0 %"
    return f"{format_seconds(first)} -> {format_seconds(last)} ({format_change(shown)})"
