"""Pure statistics over latency samples: summaries, spread and back-to-back drift. No I/O, no torch."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from zimage_qa.errors import QAUsageError


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
