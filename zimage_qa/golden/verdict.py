"""The golden verdict: compare a picture with a golden record, measure by measure.

Invalid pictures (non-finite, black, flat) fail on their own first. Otherwise every measure is
taken and held to its threshold; the picture is the same only if all pass.

Colour is judged so that it holds on grey, ink-on-paper and night pictures: saturation and hue come
from 16 x 16 blocks of the thumbnails (noise has no colour on average, but a per-pixel chroma
magnitude would read it as a tint), ratios of chroma have a floor of a few CIELAB units, and the
4-pixel detail has the picture's own noise taken out before blur is judged.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from zimage_qa.golden.colour import srgb_to_lab
from zimage_qa.golden.measures import hamming
from zimage_qa.golden.measures import measure as signature_of
from zimage_qa.golden.outcome import Bound, Comparison, Likeness, Measure, measure
from zimage_qa.golden.pixels import as_pixels
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.golden.thumbnail import decode_png_base64, make_thumbnail, ssim
from zimage_qa.golden.validity import validity_measures

if TYPE_CHECKING:
    import numpy as np

    from zimage_qa.golden.measures import Signature
    from zimage_qa.golden.record import GoldenRecord


# Below this mean CIELAB chroma a picture reads as grey: ratios of chroma are taken with this floor,
# so that a grey picture's few tenths of noise chroma are not read as a change in saturation.
CHROMA_FLOOR = 4.0
HUE_FLOOR = 8.0  # hue changes are relative to the golden's chroma, but never to less than this
COARSE_BLOCK = 4  # thumbnail pixels per side of the blocks colour is judged on
DETAIL_FLOOR = 1.0  # 1/255 units of 4-px detail: below this a picture is flat (fog, a plain wall)


def compare(record: GoldenRecord, image: Any, thresholds: Thresholds | None = None) -> Comparison:
    """Is `image` (PIL image or RGB array) still the picture `record` was made from?"""
    return judge(record.measures, decode_png_base64(record.thumbnail_png), image, thresholds)


def judge(
    golden: Signature, golden_thumb: np.ndarray, image: Any, thresholds: Thresholds | None = None
) -> Comparison:
    """The verdict on `image` against a golden picture's signature and square thumbnail (uint8 RGB)."""
    limits = thresholds or Thresholds()
    pixels = as_pixels(image)
    validity = validity_measures(pixels, limits.flat_std, limits.black_level)
    if not all(m.passed for m in validity):
        return Comparison.of(validity, Likeness.INVALID)
    thumb = make_thumbnail(pixels, side=golden_thumb.shape[0])
    measures = (
        _size(golden, pixels.width, pixels.height),
        *signature_measures(golden, signature_of(pixels), limits),
        *thumbnail_measures(golden_thumb, thumb, limits),
    )
    return Comparison.of(validity + measures)


def _size(golden: Signature, width: int, height: int) -> Measure:
    off = int(width != golden.width) + int(height != golden.height)
    return measure(
        "size",
        off,
        0,
        f"sides differing from the golden {golden.width}x{golden.height}, got {width}x{height}:",
    )


def signature_measures(golden: Signature, got: Signature, t: Thresholds) -> tuple[Measure, ...]:
    colour_shift = math.dist(golden.lab_mean, got.lab_mean)
    noise_added = math.sqrt(max(got.noise**2 - golden.noise**2, 0.0))
    return (
        measure("phash", hamming(golden.phash, got.phash), t.phash, "pHash distance"),
        measure("dhash", hamming(golden.dhash, got.dhash), t.dhash, "dHash distance"),
        measure("colour shift", colour_shift, t.colour_shift, "mean Lab ΔE"),
        measure(
            "exposure",
            _stops(got.brightness, golden.brightness, 2.0),
            t.exposure,
            "|log2 mean-luma ratio| (stops)",
        ),
        measure(
            "contrast",
            _stops(got.lab_std[0], golden.lab_std[0], 1.0),
            t.contrast,
            "|log2 L* spread ratio| (stops)",
        ),
        measure(
            "sharpness",
            _stops(_signal_detail(got), _signal_detail(golden), DETAIL_FLOOR),
            t.sharpness,
            "|log2 4-px detail ratio| (stops)",
        ),
        measure("noise", noise_added, t.noise, "noise added (/255)"),
        measure(
            "levels",
            got.levels / max(golden.levels, 1e-6),
            t.levels,
            "share of tone levels kept",
            Bound.AT_LEAST,
        ),
        measure(
            "periodicity",
            got.periodicity - golden.periodicity,
            t.periodicity,
            "rise of periodic spectral peaks (log10)",
        ),
        measure(
            "seams",
            math.log2(got.seams / max(golden.seams, 1e-6)),
            t.seams,
            "rise of straight-line edges (log2)",
        ),
    )


def thumbnail_measures(golden: np.ndarray, got: np.ndarray, t: Thresholds) -> tuple[Measure, ...]:
    import numpy as np

    lab_g = srgb_to_lab(golden.astype(np.float32) / 255.0)
    lab_c = srgb_to_lab(got.astype(np.float32) / 255.0)
    local = float(np.sqrt(((lab_c - lab_g) ** 2).sum(axis=-1)).mean())

    coarse_g, coarse_c = _coarse_ab(golden), _coarse_ab(got)
    chroma_g = float(np.hypot(coarse_g[..., 0], coarse_g[..., 1]).mean())
    chroma_c = float(np.hypot(coarse_c[..., 0], coarse_c[..., 1]).mean())
    hue = float(np.hypot(*(coarse_c - coarse_g).transpose(2, 0, 1)).mean())
    return (
        measure("structure", ssim(golden, got), t.structure, "thumbnail SSIM", Bound.AT_LEAST),
        measure("local colour", local, t.local_colour, "mean thumbnail ΔE"),
        measure("hue", hue / (chroma_g + HUE_FLOOR), t.hue, "block Δa*b* / (golden chroma + 8)"),
        measure(
            "saturation",
            _stops(chroma_c, chroma_g, CHROMA_FLOOR),
            t.saturation,
            "|log2 block chroma ratio| (stops)",
        ),
    )


def _coarse_ab(thumb: np.ndarray) -> np.ndarray:
    """CIELAB a*, b* of the thumbnail averaged over COARSE_BLOCK-pixel blocks.

    Colour is judged on these blocks, not per pixel: per-pixel noise has no colour of its own, but its
    chroma magnitude does not average out, so on a grey picture it would read as a tint. Averaged over
    blocks of 4 x 4 thumbnail pixels (1/16 of the picture's side) rerun noise leaves ~0.2 of chroma.
    """
    import numpy as np

    side = (thumb.shape[0] // COARSE_BLOCK) * COARSE_BLOCK
    blocks = (
        thumb[:side, :side]
        .astype(np.float32)
        .reshape(side // COARSE_BLOCK, COARSE_BLOCK, side // COARSE_BLOCK, COARSE_BLOCK, 3)
    )
    return srgb_to_lab(blocks.mean(axis=(1, 3)) / 255.0)[..., 1:]


def _signal_detail(signature: Signature) -> float:
    """Detail with the pixel noise's share taken out (4x4-block Laplacian of noise sigma s: 1.25 s^2)."""
    return math.sqrt(max(signature.detail**2 - 1.25 * signature.noise**2, 0.0))


def _stops(value: float, reference: float, floor: float) -> float:
    return abs(math.log2((value + floor) / (reference + floor)))
