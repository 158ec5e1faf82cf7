"""The signature of one image: the numbers the verdict compares, each a function of the pixels.

Perceptual hashes (pHash, dHash) see content; CIELAB statistics see colour, exposure,
contrast and saturation; the rest see what hashes cannot: sharpness at a 4-pixel scale (blur), a robust
noise estimate, the occupancy of the tone levels (banding, posterisation) and periodic spectral peaks
(checkerboard and tiling artefacts). Everything is numpy and Pillow only, so `zqa compare` stays fast.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from zimage_qa.golden.colour import srgb_to_lab
from zimage_qa.golden.pixels import Pixels, as_pixels

if TYPE_CHECKING:
    import numpy as np

STATS_SIDE = 128  # colour statistics and hashes are taken on an area-averaged copy this size
DETAIL_SCALE = 4  # blur is judged on detail at 4-pixel blocks: kernel noise and 0.5 px blur barely move it
SPECTRUM_SIDE = 512  # periodic peaks are looked for in a centred crop at most this size
_LAST_RING = 40
_SEAM_WINDOW, _SEAM_LINES = 15, 3
_PEAKS = 8  # periodicity is the mean excess of the 8 strongest peaks: a tile grid makes a comb of them


@dataclass(frozen=True)
class Signature:
    """What the verdict knows of an image besides its thumbnail. Floats are in the units named."""

    width: int
    height: int
    phash: str  # 64-bit DCT hash (bit-identical to imagehash.phash), hex
    dhash: str  # 64-bit gradient hash (bit-identical to imagehash.dhash), hex
    lab_mean: tuple[float, float, float]  # CIELAB L*, a*, b* means
    lab_std: tuple[float, float, float]  # CIELAB standard deviations
    chroma: float  # mean CIELAB chroma sqrt(a*^2 + b*^2); informative: the verdict judges chroma on
    # thumbnail blocks (zimage_qa.golden.verdict), where per-pixel noise cannot pass for a tint
    brightness: float  # mean luma, 1/255 units
    detail: float  # RMS Laplacian of the 4x4-block-averaged luma, 1/255 units
    noise: float  # robust (median) Immerkaer noise sigma of the luma, 1/255 units
    levels: float  # mean share of 8-bit levels used per channel inside its 0.5-99.5 % range
    seams: float  # mean of the 3 strongest row/column gradient spikes over their local median
    periodicity: float  # mean of the 8 strongest spectral peaks above their ring's mean, log10 power

    def to_dict(self) -> dict[str, Any]:
        return {key: _rounded(value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        names = {f.name for f in fields(cls)}
        missing, unknown = names - data.keys(), data.keys() - names
        if missing or unknown:
            raise ValueError(f"measures: missing {sorted(missing)}, unknown {sorted(unknown)}")
        values = dict(data)
        for key in ("lab_mean", "lab_std"):
            values[key] = tuple(float(v) for v in data[key])
            if len(values[key]) != 3:
                raise ValueError(f"measures.{key} must have 3 values")
        for key in ("width", "height"):
            values[key] = int(data[key])
        for key in ("chroma", "brightness", "detail", "noise", "levels", "seams", "periodicity"):
            values[key] = float(data[key])
        for key in ("phash", "dhash"):
            int(str(data[key]), 16)
        return cls(**values)


def measure(image: Any) -> Signature:
    """The signature of a PIL image or an RGB array (see `zimage_qa.golden.pixels.as_pixels`)."""
    import numpy as np
    from PIL import Image

    pixels = image if isinstance(image, Pixels) else _as_pixels(image)
    pil = pixels.pil()
    small_pil = pil.resize((STATS_SIDE, STATS_SIDE), Image.Resampling.BOX)
    small = np.asarray(small_pil, dtype=np.float32) / 255.0
    lab = srgb_to_lab(small).reshape(-1, 3)
    grey = np.asarray(pil.convert("L"), dtype=np.float32)  # Rec. 601 luma, as colour.luma
    signature = Signature(
        width=pixels.width,
        height=pixels.height,
        phash=phash_hex(small_pil),
        dhash=dhash_hex(small_pil),
        lab_mean=_triple(lab.mean(axis=0)),
        lab_std=_triple(lab.std(axis=0)),
        chroma=float(np.hypot(lab[:, 1], lab[:, 2]).mean()),
        brightness=float(grey.mean()),
        detail=detail(grey),
        noise=noise_sigma(grey),
        levels=level_occupancy(pixels.u8),
        seams=seam_strength(grey),
        periodicity=periodicity(grey),
    )
    # Rounded as stored, so that a record read back from JSON compares equal to the one just made.
    return Signature.from_dict(signature.to_dict())


def _as_pixels(image: Any) -> Pixels:
    return as_pixels(image)


def phash_hex(image: Any) -> str:
    """imagehash.phash, computed with a DCT matrix instead of scipy.fftpack (which takes ~1 s to import)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    n = np.arange(32)
    basis = 2.0 * np.cos(np.pi * np.outer(n, 2 * n + 1) / 64.0)  # scipy's unnormalised DCT-II
    low = (basis @ pixels @ basis.T)[:8, :8]
    return _bits_hex(low > median(low))


def dhash_hex(image: Any) -> str:
    """imagehash.dhash, bit-identical, without importing imagehash (and numpy.ma with it)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image.convert("L").resize((9, 8), Image.Resampling.LANCZOS))
    return _bits_hex(pixels[:, 1:] > pixels[:, :-1])


def _bits_hex(bits: np.ndarray) -> str:
    """The hex string imagehash.ImageHash prints for these bits (row-major, most significant first)."""
    value = int("".join("1" if bit else "0" for bit in bits.ravel()), 2)
    return f"{value:0{(bits.size + 3) // 4}x}"


def median(values: np.ndarray) -> float:
    """np.median of all the values, by partition: np.median itself imports numpy.ma (20 ms)."""
    import numpy as np

    flat = values.ravel()
    half = flat.size // 2
    if flat.size % 2:
        return float(np.partition(flat, half)[half])
    ordered = np.partition(flat, (half - 1, half))
    return float((ordered[half - 1] + ordered[half]) / 2.0)


def hamming(hex_a: str, hex_b: str) -> int:
    """Bits that differ between two hashes of the same kind, given as hex strings."""
    return (int(hex_a, 16) ^ int(hex_b, 16)).bit_count()


def detail(grey: np.ndarray, scale: int = DETAIL_SCALE) -> float:
    """RMS of the Laplacian of the luma averaged over scale x scale blocks (1/255 units)."""
    height, width = (grey.shape[0] // scale) * scale, (grey.shape[1] // scale) * scale
    blocks = grey[:height, :width].reshape(height // scale, scale, width // scale, scale).mean(axis=(1, 3))
    lap = _laplacian(blocks)
    return float((lap**2).mean() ** 0.5)


def _laplacian(x: np.ndarray) -> np.ndarray:
    lap: np.ndarray = 4.0 * x[1:-1, 1:-1] - x[:-2, 1:-1] - x[2:, 1:-1] - x[1:-1, :-2] - x[1:-1, 2:]
    return lap


def noise_sigma(grey: np.ndarray) -> float:
    """Immerkaer's noise estimate with a median instead of a mean, so edges and texture weigh less.

    Taken on the centred crop the spectrum uses (at most 512 x 512): noise is everywhere.
    """
    import numpy as np

    grey = _centre_crop(grey, SPECTRUM_SIDE)
    residual = (
        grey[:-2, :-2]
        - 2 * grey[:-2, 1:-1]
        + grey[:-2, 2:]
        - 2 * grey[1:-1, :-2]
        + 4 * grey[1:-1, 1:-1]
        - 2 * grey[1:-1, 2:]
        + grey[2:, :-2]
        - 2 * grey[2:, 1:-1]
        + grey[2:, 2:]
    )
    # For Gaussian noise of sigma s the residual has sigma 6 s; median(|r|) = 0.6745 sigma.
    return median(np.abs(residual)) / (6.0 * 0.6745)


def level_occupancy(u8: np.ndarray) -> float:
    """Mean share, over the channels, of 8-bit levels in use between the 0.5 % and 99.5 % points."""
    import numpy as np
    from PIL import Image

    histogram = Image.fromarray(np.ascontiguousarray(u8), mode="RGB").histogram()  # 3 x 256 counts, in C
    shares = []
    for counts in np.asarray(histogram, dtype=np.int64).reshape(3, 256):
        cumulative = np.cumsum(counts) / counts.sum()
        low, high = int(np.searchsorted(cumulative, 0.005)), int(np.searchsorted(cumulative, 0.995))
        span = counts[low : high + 1]
        shares.append(float((span > 0).sum()) / max(len(span), 1) if high > low else 1.0)
    return float(np.mean(shares))


def periodicity(grey: np.ndarray, side: int = SPECTRUM_SIDE) -> float:
    """How far the strongest spectral peaks stand above the mean log power of their frequency ring."""
    import numpy as np

    crop = _centre_crop(grey, side).astype(np.float64)
    ch, cw = crop.shape
    window = np.outer(np.hanning(ch), np.hanning(cw))
    power = np.abs(np.fft.rfft2((crop - crop.mean()) * window)) ** 2
    log_power = np.log10(power + 1e-12)
    ring, usable = _rings(ch, cw)
    counts = np.bincount(ring, minlength=_LAST_RING + 1)
    background = np.bincount(ring, weights=log_power.ravel()[usable], minlength=_LAST_RING + 1)
    excess = log_power.ravel()[usable] - (background / np.maximum(counts, 1))[ring]
    return float(np.partition(excess, -_PEAKS)[-_PEAKS:].mean())


@functools.lru_cache(maxsize=8)
def _rings(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """For an rfft2 of this shape: the ring (1/64 cycle/px wide) of each usable frequency, and which are.

    Frequencies below 1/32 cycle/px are not used; the corners beyond 0.625 form one ring, so that a
    peak near the Nyquist corner (a 2-px checkerboard) still has a background to stand above.
    """
    import numpy as np

    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.rfftfreq(width)[None, :]).ravel()
    usable = np.flatnonzero(radius >= 1.0 / 32.0)
    return np.minimum((radius[usable] * 64).astype(np.int64), _LAST_RING), usable


def seam_strength(grey: np.ndarray) -> float:
    """How far the strongest straight row or column edges stand above their neighbours' (a ratio).

    Tile seams are full-length lines: the mean gradient across one column (or row) spikes there.
    """
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    spikes = []
    for axis in (0, 1):
        step = np.diff(grey, axis=1 - axis)
        profile = np.abs(step, out=step).mean(axis=axis)
        padded = np.pad(profile, _SEAM_WINDOW // 2, mode="reflect")
        local = np.partition(sliding_window_view(padded, _SEAM_WINDOW), _SEAM_WINDOW // 2, axis=1)[
            :, _SEAM_WINDOW // 2
        ]
        spikes.append(profile / (local + 0.5))
    ratios = np.concatenate(spikes)
    return float(np.partition(ratios, -_SEAM_LINES)[-_SEAM_LINES:].mean())


def _centre_crop(grey: np.ndarray, side: int) -> np.ndarray:
    h, w = grey.shape
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return grey[top : top + side, left : left + side]


def _triple(values: np.ndarray) -> tuple[float, float, float]:
    return (float(values[0]), float(values[1]), float(values[2]))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return 0.0 if value == 0 else round(value, max(0, 5 - math.floor(math.log10(abs(value)))))
    if isinstance(value, tuple):
        return [_rounded(v) for v in value]
    return value
