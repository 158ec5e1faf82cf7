"""The back-to-back drift verdict: K images in a row must not creep up or jump from one to the next.

Creep is the first-to-last change of a Theil-Sen line fitted over all the images, judged by the one
decision rule (`zimage_qa.decision`) with the configured creep as the minimum effect: *regressed* when
the fit's creep reaches the limit and its interval excludes no change, *same* when the interval stays
under the limit, otherwise not yet decided (the check adds images while it may, then says *not judged*).
Images the host probe saw slow are set aside from the fit and from the jumps.

For an offloaded deployment each image's time is split into its offload transfers (the weights'
host<->device copies, 13-18 s of a 15-20 s image on an H200) and the rest (the device work and the host
steps, about 1.3 s). Both are fitted: the rest against `drift_max_work_creep` (a DiT that slows by 30 %
moves an offloaded total by 2 %), the transfers against `drift_max_creep` (host memory: swap, NUMA,
page faults); jumps are judged on the rest, and the transfers' jumps reported.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from zimage_qa.decision import ALPHA, Decision, Outcome, decide, trend
from zimage_qa.measure.units import format_seconds
from zimage_qa.verdict import Verdict, worst

MIN_IMAGES = 5  # Sen's interval at alpha 0.05 is bounded from 5 points


@dataclass(frozen=True)
class DriftImage:
    """One back-to-back image: its total, its offload transfers (None when not offloaded), and whether the
    host probe saw the host slow around it."""

    total_s: float
    transfer_s: float | None = None
    host_slow: bool = False

    @property
    def work_s(self) -> float:
        """The total less the transfers: the device work and the host steps."""
        return self.total_s - (self.transfer_s or 0.0)


@dataclass(frozen=True)
class DriftLimits:
    max_creep: float  # of the totals (of the transfers when offloaded), relative (0.10: +10 %)
    max_jitter_ms: float
    max_work_creep: float = 0.10  # offloaded: of each image less its transfers


def judge_drift(
    label: str, images: Sequence[DriftImage], limits: DriftLimits, alpha: float = ALPHA, host: str = ""
) -> Verdict:
    """The verdict on K back-to-back images (see the module docstring); `host` describes the host probe's
    readings (`HostState.describe`) for a verdict the host left undecided."""
    kept = [(i, image) for i, image in enumerate(images) if not image.host_slow]
    totals = [image.total_s for image in images]
    listing = ", ".join(
        format_seconds(t) + (" (host slow)" if im.host_slow else "")
        for t, im in zip(totals, images, strict=True)
    )
    head = f"{label} x{len(images)}"
    values: dict[str, object] = {
        "times_s": [round(t, 5) for t in totals],
        "host_slow": [i for i, im in enumerate(images) if im.host_slow],
    }
    if len(kept) < MIN_IMAGES:
        return Verdict.not_run(
            f"{head}: not judged: {len(kept)} images at normal host speed, {MIN_IMAGES} "
            f"needed for a creep interval{'; ' + host if host else ''} (times: {listing})",
            **values,
        )
    offloaded = all(image.transfer_s is not None for _, image in kept)
    series = (
        (
            ("the device work", lambda im: im.work_s, limits.max_work_creep),
            ("the offload transfers", lambda im: im.transfer_s or 0.0, limits.max_creep),
        )
        if offloaded
        else (("back-to-back latency", lambda im: im.total_s, limits.max_creep),)
    )
    parts: list[Verdict] = []
    for name, value_of, limit in series:
        decision = _creep(kept, value_of, limit, alpha)
        key = name.split()[-1]
        values[f"creep_{key}"] = decision.change
        values[f"creep_{key}_ci"] = [decision.interval.low, decision.interval.high]
        parts.append(_creep_verdict(name, decision, limit))
    work = [(i, im.work_s if offloaded else im.total_s) for i, im in kept]
    jump = _largest_jump(work)
    values["max_jitter_ms"] = jump[0] * 1000.0
    if jump[0] * 1000.0 > limits.max_jitter_ms:
        sentence = (
            f"jitter: image {jump[1] + 1} took {format_seconds(jump[2])}, {jump[0] * 1000:.0f} ms "
            f"{'more' if jump[3] else 'less'} than the image before it (limit {limits.max_jitter_ms:.0f} ms)"
        )
        slow = len(images) - len(kept)
        if slow:  # the probe saw the host slow in this sequence: it may have missed some of its images too
            parts.append(
                Verdict.not_run(
                    f"{sentence}: not judged, the host ran slow in {slow} of {len(images)} images"
                )
            )
        else:
            parts.append(Verdict.failed(sentence))
    verdict = worst(*parts)
    text = "; ".join(p.message for p in parts if p.status is verdict.status and p.message)
    return Verdict(verdict.status, f"{head}: {text} (times: {listing})", {**verdict.values, **values})


def _creep(kept: list[tuple[int, DriftImage]], value_of: object, limit: float, alpha: float) -> Decision:
    positions = [i - kept[0][0] for i, _ in kept]
    fit = trend([value_of(im) for _, im in kept], alpha, positions)  # type: ignore[operator]
    return decide(fit.relative("Theil-Sen creep, first to last image"), limit, alpha)


def _creep_verdict(name: str, decision: Decision, limit: float) -> Verdict:
    described = decision.describe()
    if decision.outcome is Outcome.REGRESSED:
        return Verdict.failed(
            f"{name} rose {described} from the first to the last image (limit +{limit:.0%})"
        )
    if decision.outcome is Outcome.INCONCLUSIVE:
        return Verdict.not_run(f"{name}: creep not judged, {described}: {decision.why_undecided()}")
    return Verdict.passed(f"{name} steady: creep {described} (limit +{limit:.0%})")


def _largest_jump(series: list[tuple[int, float]]) -> tuple[float, int, float, bool]:
    """(size in s, index of the later image, its time, whether it was slower) of the largest change
    between consecutive kept images."""
    best = (0.0, series[0][0], series[0][1], False)
    for (_, a), (j, b) in itertools.pairwise(series):
        if abs(b - a) > best[0]:
            best = (abs(b - a), j, b, b > a)
    return best
