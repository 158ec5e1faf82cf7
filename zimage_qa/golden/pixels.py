"""Pixels in, pixels out: read image files safely and turn any accepted image into one array form.

Every measure works on `Pixels`: the 8-bit RGB array (height x width x 3) plus the number of
non-finite values the input had, so that NaN from a float pipeline output is seen, not silently zeroed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zimage_qa.errors import QAUsageError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

# Larger than any image the gate makes (2048 x 2048 = 4.2 Mpx) with room for 4K renders, and far below
# what would exhaust memory: 64 Mpx of float32 RGB is 768 MiB.
MAX_IMAGE_PIXELS = 8192 * 8192


@dataclass(frozen=True)
class Pixels:
    """An image as measures see it: `u8` (H, W, 3) uint8 RGB; `nonfinite` NaN/inf values in the input."""

    u8: np.ndarray
    nonfinite: int = 0

    @property
    def width(self) -> int:
        return int(self.u8.shape[1])

    @property
    def height(self) -> int:
        return int(self.u8.shape[0])

    def pil(self) -> Image.Image:
        from PIL import Image

        return Image.fromarray(self.u8, mode="RGB")


def as_pixels(image: Any) -> Pixels:
    """Accept a PIL image, a uint8 array or a float array in [0, 1] (HxW, HxWx3 or HxWx4)."""
    import numpy as np
    from PIL import Image

    if isinstance(image, Pixels):
        return image
    if isinstance(image, Image.Image):
        return Pixels(u8=np.asarray(image.convert("RGB"), dtype=np.uint8))
    if isinstance(image, np.ndarray):
        return _from_array(image)
    raise QAUsageError(
        f"cannot measure a {type(image).__name__}: pass a PIL image or a numpy array (H, W, 3)"
    )


def _from_array(array: np.ndarray) -> Pixels:
    import numpy as np

    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 8:
        raise QAUsageError(f"cannot measure an array of shape {array.shape}: pass (H, W, 3) with H, W >= 8")
    array = array[:, :, :3]
    if array.dtype == np.uint8:
        return Pixels(u8=np.ascontiguousarray(array))
    if not np.issubdtype(array.dtype, np.floating):
        raise QAUsageError(f"cannot measure a {array.dtype} array: pass uint8 or float values in [0, 1]")
    rgb = np.asarray(array, dtype=np.float32)
    finite = np.isfinite(rgb)
    u8 = (np.clip(np.where(finite, rgb, 0.0), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return Pixels(u8=u8, nonfinite=int(finite.size - np.count_nonzero(finite)))


def load_image(path: Path, role: str = "image") -> Image.Image:
    """Open and fully decode an image file, or raise QAUsageError naming the file and the fix."""
    return decode_image(open_image(path, role), path, role)


def open_image(path: Path, role: str = "image") -> Image.Image:
    """Read an image file's header (size and format), refusing what is missing, empty or too large.

    Decoding is left to `decode_image`, which may run in another thread: Pillow's decoders release
    the GIL, so two files decode in parallel while the caller does other work.
    """
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise QAUsageError(f"{role} {path} does not exist or is not a file: give the path of a PNG or JPEG")
    if path.stat().st_size == 0:
        raise QAUsageError(f"{role} {path} is empty (0 bytes): regenerate or re-download it")
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise QAUsageError(
            f"{role} {path} is too large to compare safely ({exc}); compare images of at most "
            f"{MAX_IMAGE_PIXELS:,} pixels"
        ) from None
    except UnidentifiedImageError:
        raise QAUsageError(f"{role} {path} is not an image Pillow can read: give a PNG or JPEG") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise QAUsageError(
            f"{role} {path} cannot be decoded ({_one_line(exc)}); it may be truncated: regenerate it"
        ) from None


def decode_image(handle: Image.Image, path: Path, role: str = "image") -> Image.Image:
    """Decode an image opened by `open_image` into RGB and close the file; QAUsageError if it is broken."""
    try:
        with handle:
            handle.load()
            return handle.convert("RGB")
    except (OSError, SyntaxError, ValueError) as exc:
        raise QAUsageError(
            f"{role} {path} cannot be decoded ({_one_line(exc)}); it may be truncated: regenerate it"
        ) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
