"""The limits the golden verdict holds each measure to, with defaults calibrated on the labelled set.

Defaults come from `tests/unit/golden/test_labelled_set.py`: each sits between the worst value a
tolerated change (JPEG q80, noise 4/255, resampling, +-3 % brightness, 0.5 px blur) produced and the
mildest regression of its kind. Overrides come from the config table
`[tool.zimage-qa.golden.thresholds]` through `Thresholds.from_mapping`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from qa.errors import QAUsageError


@dataclass(frozen=True)
class Thresholds:
    # Invalid on its own (8-bit levels).
    flat_std: float = 1.0  # pixel standard deviation below this: a flat image
    black_level: float = 4.0  # 99.5th-percentile luma below this: a black image
    # Content (Hamming distances of 64-bit hashes; structural similarity of the thumbnails).
    phash: float = 10.0
    dhash: float = 14.0
    structure: float = 0.90  # minimum SSIM of the 64 x 64 thumbnails (L*)
    # Colour.
    colour_shift: float = 6.0  # Delta E between the mean CIELAB colours
    local_colour: float = 3.0  # mean per-pixel Delta E between the thumbnails
    hue: float = 0.30  # mean per-pixel Delta a*b* of the thumbnails / (golden chroma + 2)
    # Tone (absolute log2 ratios, "stops").
    exposure: float = 0.20  # mean luma
    contrast: float = 0.30  # standard deviation of L*
    saturation: float = 0.30  # mean chroma
    # Detail and artefacts.
    sharpness: float = 0.35  # absolute log2 ratio of detail at the 4-pixel scale
    noise: float = 6.0  # noise added in quadrature, 8-bit levels
    levels: float = 0.50  # minimum ratio of the tone levels in use (posterisation, banding)
    periodicity: float = 0.80  # rise of the strongest spectral peaks, log10 power (checkerboard)
    seams: float = 0.35  # log2 rise of the strongest straight-line gradient spikes (tile seams)

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise QAUsageError(
                    f"golden threshold {field.name} = {value!r} is not a number >= 0: fix it in "
                    "[tool.zimage-qa.golden.thresholds]"
                )

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any] | None) -> Thresholds:
        """Defaults with `overrides` applied; an unknown key or a non-number raises QAUsageError."""
        if not overrides:
            return cls()
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise QAUsageError(
                f"unknown golden threshold(s) {', '.join(unknown)} in [tool.zimage-qa.golden.thresholds]: "
                f"use {', '.join(sorted(known))}"
            )
        return replace(cls(), **{key: _number(key, value) for key, value in overrides.items()})

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QAUsageError(
            f"golden threshold {key} = {value!r} is not a number: "
            "fix it in [tool.zimage-qa.golden.thresholds]"
        )
    return float(value)
