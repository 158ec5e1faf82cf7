"""Pure statistics over latency samples: summaries, spread and back-to-back drift. No I/O, no torch."""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.units import format_change, format_seconds, seconds_unit


def _checked(values: Sequence[float], needed: int = 1, what: str = "values") -> list[float]:
    data = [float(v) for v in values]
    if len(data) < needed:
        raise QAUsageError(f"need at least {needed} {what}, got {len(data)}: run more rounds")
    if not all(math.isfinite(v) for v in data):
        raise QAUsageError(f"{what} must be finite numbers, got {data}")
    return data


def median(values: Sequence[float]) -> float:
    return float(statistics.median(_checked(values)))


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default 'linear' method)."""
    if not 0.0 <= q <= 1.0:
        raise QAUsageError(f"quantile {q} is outside [0, 1]")
    data = sorted(_checked(values))
    position = (len(data) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    return quantile(values, 0.25), quantile(values, 0.75)


def iqr(values: Sequence[float]) -> float:
    q1, q3 = quartiles(values)
    return q3 - q1


def relative_iqr(values: Sequence[float]) -> float:
    """IQR / median; 0 for identical values, inf when the median is 0 but the values spread."""
    spread, mid = iqr(values), median(values)
    if mid == 0:
        return 0.0 if spread == 0 else math.inf
    return spread / abs(mid)


def cv(values: Sequence[float]) -> float:
    """Coefficient of variation (sample standard deviation / mean); 0 for fewer than two values."""
    data = _checked(values)
    if len(data) < 2:
        return 0.0
    mean = statistics.fmean(data)
    return statistics.stdev(data) / abs(mean) if mean else math.inf


def slope(values: Sequence[float]) -> float:
    """Least-squares slope of values against their index (units of value per step)."""
    data = _checked(values)
    n = len(data)
    if n < 2:
        return 0.0
    x_mean = (n - 1) / 2.0
    y_mean = statistics.fmean(data)
    num = sum((i - x_mean) * (y - y_mean) for i, y in enumerate(data))
    den = sum((i - x_mean) ** 2 for i in range(n))
    return num / den


@dataclass(frozen=True)
class Summary:
    """Order statistics of one sample (seconds for latency, bytes for memory: the caller knows)."""

    n: int
    median: float
    mean: float
    min: float
    max: float
    q1: float
    q3: float
    stdev: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def rel_iqr(self) -> float:
        if self.median == 0:
            return 0.0 if self.iqr == 0 else math.inf
        return self.iqr / abs(self.median)

    @property
    def cv(self) -> float:
        return self.stdev / abs(self.mean) if self.mean else 0.0


def summarize(values: Sequence[float]) -> Summary:
    data = _checked(values)
    q1, q3 = quartiles(data)
    return Summary(
        n=len(data),
        median=float(statistics.median(data)),
        mean=statistics.fmean(data),
        min=min(data),
        max=max(data),
        q1=q1,
        q3=q3,
        stdev=statistics.stdev(data) if len(data) > 1 else 0.0,
    )


@dataclass(frozen=True)
class DriftReport:
    """What K back-to-back generations did: creep (last half vs first half) and image-to-image jitter."""

    times_s: tuple[float, ...]
    first_half_median_s: float
    last_half_median_s: float
    slope_s_per_image: float
    max_jitter_s: float
    jitter_image: int  # 1-based number of the image whose time jumped most from the one before

    @property
    def creep_rel(self) -> float:
        return self.last_half_median_s / self.first_half_median_s - 1.0 if self.first_half_median_s else 0.0


def drift_report(times_s: Sequence[float]) -> DriftReport:
    data = _checked(times_s, needed=2, what="back-to-back times")
    half = len(data) // 2
    jumps = [abs(b - a) for a, b in itertools.pairwise(data)]
    worst = max(range(len(jumps)), key=jumps.__getitem__)
    return DriftReport(
        times_s=tuple(data),
        first_half_median_s=float(statistics.median(data[:half])),
        last_half_median_s=float(statistics.median(data[len(data) - half :])),
        slope_s_per_image=slope(data),
        max_jitter_s=jumps[worst],
        jitter_image=worst + 2,
    )


def drift_check(times_s: Sequence[float], max_creep_rel: float, max_jitter_ms: float) -> str | None:
    """Failure sentence when later images creep up or jump beyond the limits, else None.

    Creep compares the median of the last half with the median of the first half (a middle image of
    an odd count belongs to neither); jitter is the largest change from one image to the next.
    """
    __tracebackhide__ = True
    report = drift_report(times_s)
    n, half = len(report.times_s), len(report.times_s) // 2
    unit = seconds_unit(*report.times_s)
    problems: list[str] = []
    if report.creep_rel > max_creep_rel:
        problems.append(
            f"back-to-back latency creeps up: median of images {n - half + 1}-{n} "
            f"{format_seconds(report.last_half_median_s, unit)} vs images 1-{half} "
            f"{format_seconds(report.first_half_median_s, unit)} ({format_change(report.creep_rel)} "
            f"> limit {format_change(max_creep_rel)})"
        )
    if report.max_jitter_s * 1000.0 > max_jitter_ms:
        i = report.jitter_image
        now, before = report.times_s[i - 1], report.times_s[i - 2]
        direction = "more" if now > before else "less"
        problems.append(
            f"jitter: image {i} took {format_seconds(now, unit)}, {report.max_jitter_s * 1000:.0f} ms "
            f"{direction} than image {i - 1} (limit {max_jitter_ms:.0f} ms)"
        )
    if not problems:
        return None
    times = " ".join(f"{t:.3f}" for t in report.times_s)
    return "; ".join(problems) + f" (times s: {times})"
