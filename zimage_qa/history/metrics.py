"""Which numbers of a saved benchmark are tracked, which way each one gets worse, and by how much.

The metrics themselves (`median`, and the dotted keys of `extra_info`) are read by
`zimage_qa.measure.runs`; the rounds of the primary metric are judged by the rule on rounds at upgrades.
"""

from __future__ import annotations

import argparse
import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass

from zimage_qa.history.records import Direction
from zimage_qa.measure.runs import PRIMARY

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


def stage_time(metric: str) -> bool:
    """Whether a metric is a time in milliseconds besides the median (`stages_ms.denoise`, `ms.x`):
    a part of the median, measured once a run, so it moves with the median or jitters."""
    name = metric.lower()
    return name.endswith("_ms") or "_ms." in name or name.startswith("ms.")


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
