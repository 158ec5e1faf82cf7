"""The limits the golden verdict holds each measure to; the defaults are fitted on the labelled set.

The labelled set (`tests/unit/golden/golden_labelled_set.py`) pairs colour and black-and-white
photographs, ink on paper, fog and night scenes with tolerated changes (JPEG q80-95, noise 2-4/255,
resampling, +-3 % brightness, 0.3-0.5 px blur) and regressions. Each default is what the fitting
procedure in `tests/unit/golden/heldout_fitting.py` gives on the whole set: per measure, the geometric
midpoint between the worst tolerated change (plus 25 %) and the lower quartile of the regressions that
measure sees. `test_golden_labelled_set.py` checks that the defaults are that fit, and judges every
picture with thresholds fitted without it; `test_golden_heldout_apart.py` judges other pictures,
sizes and strengths with these defaults. Refit with `python tests/unit/golden/heldout_fitting.py`.
Overrides come from the config table `[tool.zimage-qa.golden.thresholds]` through
`Thresholds.from_mapping`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from zimage_qa.errors import QAUsageError


@dataclass(frozen=True)
class Thresholds:
    # Invalid on its own (8-bit levels).
    flat_std: float = 1.0  # pixel standard deviation below this: a flat image
    black_level: float = 4.0  # 99.5th-percentile luma below this: a black image
    # Content (Hamming distances of 64-bit hashes; structural similarity of the thumbnails).
    phash: float = 4.9
    dhash: float = 14.7
    structure: float = 0.962  # minimum SSIM of the 64 x 64 thumbnails (L*)
    # Colour.
    colour_shift: float = 5.52  # Delta E between the mean CIELAB colours
    local_colour: float = 4.46  # mean per-pixel Delta E between the thumbnails
    hue: float = 0.0692  # mean Delta a*b* of 16 x 16 blocks / (golden block chroma + 8)
    # Tone (absolute log2 ratios, "stops").
    exposure: float = 0.0825  # mean luma
    contrast: float = 0.0637  # standard deviation of L*
    saturation: float = 0.138  # mean chroma of 16 x 16 blocks, with a floor of 4 (grey pictures)
    # Detail and artefacts.
    sharpness: float = 0.276  # absolute log2 ratio of detail at the 4-pixel scale, noise taken out
    noise: float = 7.63  # noise added in quadrature, 8-bit levels
    levels: float = 0.891  # minimum ratio of the tone levels in use (posterisation, banding)
    periodicity: float = 0.358  # rise of the strongest spectral peaks, log10 power (checkerboard)
    seams: float = 0.485  # log2 rise of the strongest straight-line gradient spikes (tile seams)

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
