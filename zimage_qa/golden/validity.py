"""Pictures that fail on their own, before any comparison: non-finite, black or flat.

A broken pipeline (NaN latents, a dead VAE, a wrong dtype) produces these; hashing them would only
yield a confusing distance. Thresholds are 8-bit levels; a legitimate low-contrast image from a
random-weight model still has a spread of several levels, so "flat" means essentially constant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zimage_qa.errors import InvalidPicture
from zimage_qa.golden.colour import luma
from zimage_qa.golden.outcome import Bound, Measure, measure
from zimage_qa.golden.pixels import Pixels, as_pixels

if TYPE_CHECKING:
    import numpy as np


def validity_measures(pixels: Pixels, flat_std: float, black_level: float) -> tuple[Measure, ...]:
    """Three measures: non-finite values (none allowed), peak luma (not black), spread (not flat)."""
    import numpy as np

    bad = pixels.nonfinite
    u8 = pixels.u8[::2, ::2].astype(np.float32)  # every other pixel: plenty to tell "constant"
    peak = _percentile(luma(u8).ravel(), 99.5)
    spread = float(u8.std())
    return (
        measure("non-finite", bad, 0, "NaN or infinite pixel values"),
        measure("black", round(peak, 2), black_level, "99.5th-percentile luma (/255)", Bound.AT_LEAST),
        measure("flat", round(spread, 3), flat_std, "pixel standard deviation (/255)", Bound.AT_LEAST),
    )


def invalid_reasons(pixels: Pixels, flat_std: float = 1.0, black_level: float = 4.0) -> tuple[str, ...]:
    """The diagnosis of an invalid image (the first failing check), or () when it is valid."""
    for item in validity_measures(pixels, flat_std, black_level):
        if not item.passed:
            return (item.reason(),)
    return ()


def picture_problem(image: Any, nonfinite: bool = False) -> str | None:
    """Why `image` cannot be judged (NaN in the decoded output, black, flat), or None when it is valid;
    `nonfinite` is the pipeline's own word that its output held NaN or infinite values."""
    pixels = as_pixels(image)
    reasons = invalid_reasons(pixels)
    if nonfinite or pixels.nonfinite:
        return "NaN or infinite values in the decoded picture" + (
            f" (so it is {reasons[0]})" if reasons else ""
        )
    return reasons[0] if reasons else None


def checked_picture(image: Any, what: str, nonfinite: bool = False) -> Any:
    """`image`, or InvalidPicture naming `what` and the diagnosis."""
    problem = picture_problem(image, nonfinite)
    if problem:
        raise InvalidPicture(
            f"the pipeline produced an invalid picture for {what}: {problem}; check the weights, dtype and "
            "VAE (NaN latents show as black)"
        )
    return image


def _percentile(values: np.ndarray, percent: float) -> float:
    """np.percentile (linear interpolation) by one partition: a quarter of its time on 0.26 Mpx."""
    import numpy as np

    position = percent / 100.0 * (values.size - 1)
    low = int(position)
    high = min(low + 1, values.size - 1)
    ordered = np.partition(values, (low, high))
    return float(ordered[low] + (position - low) * (ordered[high] - ordered[low]))
