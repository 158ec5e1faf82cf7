"""The golden verdict: compare a picture with a golden record, measure by measure.

Invalid pictures (non-finite, black, flat) fail on their own first. Otherwise every measure is
taken and held to its threshold; the picture is the same only if all pass.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from qa.golden.outcome import Bound, Measure, Status, Verdict, measure
from qa.golden.thresholds import Thresholds

if TYPE_CHECKING:
    import numpy as np

    from qa.golden.measures import Signature
    from qa.golden.record import GoldenRecord


def compare(record: GoldenRecord, image: Any, thresholds: Thresholds | None = None) -> Verdict:
    """Is `image` (PIL image or RGB array) still the picture `record` was made from?"""
    from qa.golden.measures import measure as signature_of
    from qa.golden.pixels import as_pixels
    from qa.golden.thumbnail import decode_png_base64, make_thumbnail
    from qa.golden.validity import validity_measures

    limits = thresholds or Thresholds()
    pixels = as_pixels(image)
    validity = validity_measures(pixels, limits.flat_std, limits.black_level)
    if not all(m.passed for m in validity):
        return Verdict.of(validity, Status.INVALID)
    golden_thumb = decode_png_base64(record.thumbnail_png)
    thumb = make_thumbnail(pixels, side=golden_thumb.shape[0])
    measures = (
        _size(record.measures, pixels.width, pixels.height),
        *signature_measures(record.measures, signature_of(pixels), limits),
        *thumbnail_measures(golden_thumb, thumb, limits),
    )
    return Verdict.of(validity + measures)


def _size(golden: Signature, width: int, height: int) -> Measure:
    off = int(width != golden.width) + int(height != golden.height)
    return measure(
        "size",
        off,
        0,
        f"sides differing from the golden {golden.width}x{golden.height}, got {width}x{height}:",
    )


def signature_measures(golden: Signature, got: Signature, t: Thresholds) -> tuple[Measure, ...]:
    from qa.golden.measures import hamming

    colour_shift = math.dist(golden.lab_mean, got.lab_mean)
    noise_added = math.sqrt(max(got.noise**2 - golden.noise**2, 0.0))
    return (
        measure("phash", hamming(golden.phash, got.phash), t.phash, "pHash distance"),
        measure("dhash", hamming(golden.dhash, got.dhash), t.dhash, "dHash distance"),
        measure("colour shift", colour_shift, t.colour_shift, "mean Lab ΔE"),
        measure("exposure", _stops(got.brightness, golden.brightness, 2.0), t.exposure,
                "|log2 mean-luma ratio| (stops)"),
        measure("contrast", _stops(got.lab_std[0], golden.lab_std[0], 1.0), t.contrast,
                "|log2 L* spread ratio| (stops)"),
        measure("saturation", _stops(got.chroma, golden.chroma, 1.0), t.saturation,
                "|log2 chroma ratio| (stops)"),
        measure("sharpness", _stops(got.detail, golden.detail, 0.5), t.sharpness,
                "|log2 4-px detail ratio| (stops)"),
        measure("noise", noise_added, t.noise, "noise added (/255)"),
        measure("levels", got.levels / max(golden.levels, 1e-6), t.levels, "share of tone levels kept",
                Bound.AT_LEAST),
        measure("periodicity", got.periodicity - golden.periodicity, t.periodicity,
                "rise of periodic spectral peaks (log10)"),
        measure("seams", math.log2(got.seams / max(golden.seams, 1e-6)), t.seams,
                "rise of straight-line edges (log2)"),
    )  # fmt: skip


def thumbnail_measures(golden: np.ndarray, got: np.ndarray, t: Thresholds) -> tuple[Measure, ...]:
    import numpy as np

    from qa.golden.colour import srgb_to_lab
    from qa.golden.thumbnail import ssim

    lab_g = srgb_to_lab(golden.astype(np.float32) / 255.0)
    lab_c = srgb_to_lab(got.astype(np.float32) / 255.0)
    delta = lab_c - lab_g
    local = float(np.sqrt((delta**2).sum(axis=-1)).mean())
    hue = float(np.hypot(delta[..., 1], delta[..., 2]).mean())
    chroma = float(np.hypot(lab_g[..., 1], lab_g[..., 2]).mean())
    return (
        measure("structure", ssim(golden, got), t.structure, "thumbnail SSIM", Bound.AT_LEAST),
        measure("local colour", local, t.local_colour, "mean thumbnail ΔE"),
        measure("hue", hue / (chroma + 2.0), t.hue, "thumbnail Δa*b* / golden chroma"),
    )


def _stops(value: float, reference: float, floor: float) -> float:
    return abs(math.log2((value + floor) / (reference + floor)))
