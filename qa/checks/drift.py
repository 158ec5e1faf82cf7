"""The back-to-back drift verdict: K images in a row must not creep up or jump from one to the next.

The creep compares the median of the last half of the images with that of the first half (the middle
image of an odd count belongs to neither; with 3 images it is image 3 against image 1). For an offloaded
deployment each image's time is split into its offload transfers (the weights' host<->device copies,
16-23 s of a 19 s image on an H200) and the rest (the device work and the host steps, about 1.3 s):

- the rest must not creep by more than `drift_max_work_creep` on its own (the resident limit: it is the
  same work as a resident image's): a DiT that slows by 30 % moves the total of an offloaded image by 2 %,
  inside the transfers' noise, and would pass on totals alone;
- a creep of the totals that is all transfer is named as such, and when the later images' transfers stay
  within what the same scenario's latency rounds took, a few images cannot tell a host-memory creep from
  transfer noise: the verdict is unstable (never a pass), and says how to get more images.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from qa.measure.stats import drift_check, drift_report
from qa.measure.units import format_change, format_seconds
from qa.verdict import Verdict


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
    problem = drift_check(totals, limits.max_creep, limits.max_jitter_ms)
    transfers = [image.transfer_s for image in images]
    if any(t is None for t in transfers):
        listing = ", ".join(format_seconds(t) for t in totals)
        if problem:
            return Verdict.failed(f"{label} x{len(totals)}: {problem} (times: {listing})", **values)
        return Verdict.passed(f"{label} x{len(totals)}: {listing}", **values)
    moved = [float(t or 0.0) for t in transfers]
    work = [image.work_s for image in images]
    work_creep = drift_report(work).creep_rel
    values |= {"transfer_s": [round(t, 5) for t in moved], "work_s": [round(w, 5) for w in work],
               "work_creep": work_creep, "transfer_creep": drift_report(moved).creep_rel}  # fmt: skip
    listing = ", ".join(f"{format_seconds(i.total_s)} (transfer {format_seconds(i.transfer_s or 0.0)})"
                        for i in images)  # fmt: skip
    head = f"{label} x{len(images)}"
    if work_creep > limits.max_work_creep:
        return Verdict.failed(
            f"{head}: the device work creeps up, transfers excluded: {_halves(work, work_creep)} (> limit "
            f"{format_change(limits.max_work_creep)}){'; ' + problem if problem else ''} (times: {listing})",
            **values,
        )  # fmt: skip
    if not problem:
        return Verdict.passed(f"{head}: {listing}; device work {_halves(work, work_creep)}", **values)
    where = (f"{problem}; it is in the offload transfers (host<->device weight copies "
             f"{_halves(moved, drift_report(moved).creep_rel)}), the device work is steady "
             f"({_halves(work, work_creep)})")  # fmt: skip
    late = statistics.median(moved[len(moved) - len(moved) // 2 :])
    if transfers_seen_s and late <= max(transfers_seen_s):
        return Verdict.unstable(
            f"{head}: {where}; the later images' transfers ({format_seconds(late)}) stay within what this "
            f"scenario's latency rounds took ({format_seconds(min(transfers_seen_s))}-"
            f"{format_seconds(max(transfers_seen_s))}): {len(images)} images cannot tell a host-memory creep "
            f"from transfer noise; give this deployment more [run] drift_images (times: {listing})",
            **values,
        )  # fmt: skip
    return Verdict.failed(
        f"{head}: {where}: look at host memory (swap, NUMA, page faults on the offloaded weights) before "
        f"the DiT (times: {listing})",
        **values,
    )


def _halves(series: Sequence[float], creep: float) -> str:
    """'1.30 s -> 1.69 s (+30.0 %)': the first half's median, the last half's, the change."""
    half = len(series) // 2
    first, last = statistics.median(series[:half]), statistics.median(series[len(series) - half :])
    return f"{format_seconds(first)} -> {format_seconds(last)} ({format_change(round(creep, 4) + 0.0)})"
