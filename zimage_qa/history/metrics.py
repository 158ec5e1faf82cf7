"""Which numbers of a saved benchmark are tracked, which way each one gets worse, and by how much.

A saved pytest-benchmark entry gives one primary metric, `median` (stats.median, seconds), with its
in-run spread (q1, q3, iqr or stddev, and the raw `data` when saved), plus every numeric value in
`extra_info`, flattened to dotted keys: `stages_ms.denoise`, `nfe`, `vram.peak_reserved_gib`,
`glyph.score`. Lists (`rounds_s`, `times_s`: per-round samples) are data, not metrics: the rounds of
the primary metric are read apart (`zimage_qa.history.files`) and judged by the rule on rounds at upgrades.
"""

from __future__ import annotations

import argparse
import fnmatch
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from zimage_qa.history.records import Direction

PRIMARY = "median"

# Settings rather than measurements, and facts about the run (the GPU's clocks and temperature, the
# roofline's inputs, the stage coverage): a change in them is not a regression.
DEFAULT_IGNORED = (
    "seed",
    "*.seed",
    "width",
    "height",
    "steps",
    "num_inference_steps",
    "guidance*",
    "rounds",
    "gpu_state.*",
    "roofline.*",
    "stage_coverage",
)
# Scores, rates and similarities get better upwards; times, memory, distances and NFE get better downwards.
DEFAULT_HIGHER_IS_BETTER = (
    "glyph*",
    "*score*",
    "*tflop*",
    "*ssim*",
    "*psnr*",
    "*accuracy*",
    "*similarity*",
    "*throughput*",
    "*per_s",
    "*per_sec*",
    "*_per_second",
    "ops",
)


class Point(NamedTuple):
    """One run's value of one metric, with the in-run spread: quartiles and the standard error.

    A NamedTuple rather than a frozen dataclass: 1,000 runs make hundreds of thousands of them.
    """

    value: float
    lo: float
    hi: float
    se: float


def stage_time(metric: str) -> bool:
    """Whether a metric is a time in milliseconds besides the median (`stages_ms.denoise`, `ms.x`):
    a part of the median, measured once a run, so it moves with the median or jitters."""
    name = metric.lower()
    return name.endswith("_ms") or "_ms." in name or name.startswith("ms.")


def stats_point(stats: Mapping[str, object]) -> Point | None:
    """The primary metric from pytest-benchmark's `stats`; None when the median is missing."""
    median = _number(stats.get("median"))
    if median is None:
        return None
    q1, q3 = _number(stats.get("q1")), _number(stats.get("q3"))
    iqr = _number(stats.get("iqr"))
    data = stats.get("data")
    if iqr is None and q1 is None and isinstance(data, list) and len(data) > 1:
        samples = _numbers(data)
        if samples is not None:
            return _sample_point(samples, median)
    if iqr is None and q1 is not None and q3 is not None:
        iqr = q3 - q1
    sigma = iqr / 1.349 if iqr is not None else _number(stats.get("stddev")) or 0.0
    rounds = _number(stats.get("rounds")) or 1.0
    lo = q1 if q1 is not None else median - 0.6745 * sigma
    hi = q3 if q3 is not None else median + 0.6745 * sigma
    return Point(median, lo, hi, 1.2533 * sigma / math.sqrt(max(rounds, 1.0)))


Value = float | Point  # a plain float is a value without in-run spread (most of extra_info)


def flatten_extra(extra: object, prefix: str = "") -> list[tuple[str, Value]]:
    """Numeric values of `extra_info` as (dotted key, value); strings, booleans and NaN are skipped.

    The hot loop of reading a history (a million values for 1,000 runs): concrete type checks, no ABCs,
    and scalars stay plain floats.
    """
    found: list[tuple[str, Value]] = []
    if type(extra) is not dict:
        return found
    for key, value in extra.items():
        kind = type(value)
        if kind is float or kind is int:
            if math.isfinite(value):
                found.append((prefix + key, float(value)))
        elif kind is dict:
            found.extend(flatten_extra(value, f"{prefix}{key}."))
    return found


def _sample_point(samples: list[float], median: float) -> Point:
    if len(samples) < 2:
        return Point(median, median, median, 0.0)
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    sigma = (q3 - q1) / 1.349
    return Point(median, q1, q3, 1.2533 * sigma / math.sqrt(len(samples)))


def _number(value: object) -> float | None:
    kind = type(value)
    if kind is not float and kind is not int:  # bool is not int by type, as intended
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _numbers(values: list[object]) -> list[float] | None:
    numbers = [_number(v) for v in values]
    return None if any(n is None for n in numbers) else [n for n in numbers if n is not None]


@dataclass(frozen=True)
class MetricPolicy:
    """Per-metric settings, matched by glob pattern; the last matching pattern wins.

    `include` limits tracking to matching metrics (empty: all). `thresholds` are (pattern, fraction)
    overrides of `threshold`. `higher_is_better`/`lower_is_better` set directions on top of the defaults.
    `min_runs` is how many runs a new level needs to count as lasting; `z` and `alpha` are the
    significance bars (level difference over its standard error; the error rate of the rule's intervals,
    `zimage_qa.history.rule`).
    """

    threshold: float = 0.05
    thresholds: tuple[tuple[str, float], ...] = ()
    include: tuple[str, ...] = ()
    higher_is_better: tuple[str, ...] = ()
    lower_is_better: tuple[str, ...] = ()
    ignore: tuple[str, ...] = DEFAULT_IGNORED
    min_runs: int = 3
    z: float = 4.0
    alpha: float = 0.01

    def tracks(self, metric: str) -> bool:
        if self.include:
            return any(fnmatch.fnmatchcase(metric, p) for p in self.include)
        return metric == PRIMARY or not any(fnmatch.fnmatchcase(metric, p) for p in self.ignore)

    def threshold_for(self, metric: str) -> float:
        found = self.threshold
        for pattern, value in self.thresholds:
            if fnmatch.fnmatchcase(metric, pattern):
                found = value
        return found

    def direction_for(self, metric: str) -> Direction:
        direction = Direction.LOWER_IS_BETTER
        rules = [(p, Direction.HIGHER_IS_BETTER) for p in DEFAULT_HIGHER_IS_BETTER + self.higher_is_better]
        rules += [(p, Direction.LOWER_IS_BETTER) for p in self.lower_is_better]
        for pattern, value in rules:
            if fnmatch.fnmatchcase(metric.lower(), pattern.lower()):
                direction = value
        return direction

    def settings(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "thresholds": dict(self.thresholds),
            "include": list(self.include),
            "higher_is_better": list(DEFAULT_HIGHER_IS_BETTER + self.higher_is_better),
            "lower_is_better": list(self.lower_is_better),
            "min_runs": self.min_runs,
            "z": self.z,
            "alpha": self.alpha,
        }


def parse_threshold(text: str) -> tuple[str | None, float]:
    """`0.05`, `5%` or `PATTERN=0.02` -> (pattern or None, fraction); argparse type for --threshold."""
    pattern, _, value = text.rpartition("=")
    value = value.strip()
    try:
        fraction = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        fraction = math.nan
    if not (0 < fraction <= 10):
        raise argparse.ArgumentTypeError(
            f"threshold {text!r} is not a fraction in (0, 10]: write 0.05, 5% or 'stages_ms.*=0.1'"
        )
    return (pattern.strip() or None), fraction


def build_policy(
    thresholds: Sequence[tuple[str | None, float]] = (),
    include: Sequence[str] = (),
    higher: Sequence[str] = (),
    lower: Sequence[str] = (),
    min_runs: int = 3,
) -> MetricPolicy:
    default = next((f for p, f in reversed(thresholds) if p is None), 0.05)
    return MetricPolicy(
        threshold=default,
        thresholds=tuple((p, f) for p, f in thresholds if p is not None),
        include=tuple(include),
        higher_is_better=tuple(higher),
        lower_is_better=tuple(lower),
        min_runs=min_runs,
    )
