"""The small stored picture the verdict needs for structure and local colour, and how it is compared.

A golden record keeps a 64 x 64 PNG (a few kB, base64 in the JSON). Against it the verdict takes
the structural similarity (SSIM, Gaussian window, on CIELAB L*) and the mean per-pixel colour
difference (CIE76 Delta E): together they see a blob, a crop or zoom, a flip, swapped channels and new
content, while re-encoding and pixel noise vanish in the 8x area average.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import TYPE_CHECKING

from zimage_qa.golden.colour import srgb_to_lab
from zimage_qa.golden.pixels import Pixels

if TYPE_CHECKING:
    import numpy as np

THUMB_SIDE = 64
PREVIEW_SIDE = 256  # the review page's picture of a record: longest side, JPEG (about 10-30 kB)
PREVIEW_QUALITY = 85
_SSIM_SIGMA = 1.5
_SSIM_K1, _SSIM_K2 = 0.01, 0.03


def make_thumbnail(pixels: Pixels, side: int = THUMB_SIDE) -> np.ndarray:
    """An area-averaged side x side uint8 RGB copy (the aspect ratio is not kept)."""
    import numpy as np
    from PIL import Image

    return np.asarray(pixels.pil().resize((side, side), Image.Resampling.BOX), dtype=np.uint8)


def encode_png_base64(thumb: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(thumb, mode="RGB").save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_png_base64(text: str) -> np.ndarray:
    """The thumbnail back as uint8 RGB; ValueError if it is not a square RGB PNG."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(base64.b64decode(text, validate=True))) as handle:
            thumb = np.asarray(handle.convert("RGB"), dtype=np.uint8)
    except (binascii.Error, UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"thumbnail is not a base64 PNG ({exc})") from None
    if thumb.shape[0] != thumb.shape[1] or thumb.shape[0] < 8:
        raise ValueError(f"thumbnail must be square and at least 8 px, not {thumb.shape[1]}x{thumb.shape[0]}")
    return thumb


def encode_preview(pixels: Pixels, side: int = PREVIEW_SIDE) -> str:
    """A base64 JPEG of the picture, longest side `side`, aspect kept: what a reviewer sees as "old"."""
    from PIL import Image

    picture = pixels.pil()
    scale = side / max(picture.width, picture.height)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    buffer = io.BytesIO()
    picture.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(
        buffer, format="JPEG", quality=PREVIEW_QUALITY, optimize=True
    )
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_preview(text: str) -> np.ndarray:
    """The preview back as uint8 RGB; ValueError if it is not a base64 image."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(base64.b64decode(text, validate=True))) as handle:
            return np.asarray(handle.convert("RGB"), dtype=np.uint8)
    except (binascii.Error, UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"preview is not a base64 image ({exc})") from None


def ssim(thumb_a: np.ndarray, thumb_b: np.ndarray) -> float:
    """Mean SSIM of the L* channels (data range 100), Gaussian window sigma 1.5, as in Wang et al. 2004."""
    a = srgb_to_lab(thumb_a.astype("float32") / 255.0)[..., 0].astype("float64")
    b = srgb_to_lab(thumb_b.astype("float32") / 255.0)[..., 0].astype("float64")
    blur = _gaussian_operator(a.shape[0])
    mu_a, mu_b = blur @ a @ blur.T, blur @ b @ blur.T
    var_a = blur @ (a * a) @ blur.T - mu_a**2
    var_b = blur @ (b * b) @ blur.T - mu_b**2
    cov = blur @ (a * b) @ blur.T - mu_a * mu_b
    c1, c2 = (_SSIM_K1 * 100.0) ** 2, (_SSIM_K2 * 100.0) ** 2
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(index.mean())


def delta_e_map(thumb_a: np.ndarray, thumb_b: np.ndarray) -> np.ndarray:
    """Per-pixel CIE76 colour difference between two thumbnails of the same size."""
    import numpy as np

    lab_a = srgb_to_lab(thumb_a.astype(np.float32) / 255.0)
    lab_b = srgb_to_lab(thumb_b.astype(np.float32) / 255.0)
    return np.asarray(np.sqrt(((lab_a - lab_b) ** 2).sum(axis=-1)))


def _gaussian_operator(n: int) -> np.ndarray:
    """n x n matrix that blurs along one axis (edge rows renormalised), so blur(x) = G @ x @ G.T."""
    import numpy as np

    index = np.arange(n)
    weights = np.exp(-0.5 * ((index[:, None] - index[None, :]) / _SSIM_SIGMA) ** 2)
    weights[np.abs(index[:, None] - index[None, :]) > 3.5 * _SSIM_SIGMA] = 0.0
    return np.asarray(weights / weights.sum(axis=1, keepdims=True))
