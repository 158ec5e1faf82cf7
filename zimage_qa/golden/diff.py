"""The visual difference for the report folder: golden thumbnail, candidate, and a heat map.

One PIL image, three panels side by side at the same size: the golden preview (or thumbnail), the
candidate (downscaled to the same size) and the per-pixel CIELAB Delta E between the two thumbnails,
drawn as a heat map (black = equal, yellow-white = Delta E of 25 or more).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zimage_qa.golden.pixels import as_pixels
from zimage_qa.golden.thumbnail import decode_png_base64, decode_preview, delta_e_map, make_thumbnail

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from zimage_qa.golden.record import GoldenRecord

PANEL = 256
GAP = 4
_HEAT_FULL_SCALE = 25.0  # Delta E mapped to the top of the colour map


def diff_image(record: GoldenRecord, image: Any, panel: int = PANEL) -> Image.Image:
    """Golden | candidate | heat map of their thumbnail Delta E, each `panel` pixels square."""
    from PIL import Image

    golden = decode_png_base64(record.thumbnail_png)
    pixels = as_pixels(image)
    thumb = make_thumbnail(pixels, side=golden.shape[0])
    heat = _heat(delta_e_map(golden, thumb))
    panels = (
        expected_image(record, panel).resize((panel, panel), Image.Resampling.LANCZOS),
        pixels.pil().resize((panel, panel), Image.Resampling.LANCZOS),
        Image.fromarray(heat).resize((panel, panel), Image.Resampling.NEAREST),
    )
    canvas = Image.new("RGB", (3 * panel + 2 * GAP, panel), (255, 255, 255))
    for index, item in enumerate(panels):
        canvas.paste(item, (index * (panel + GAP), 0))
    return canvas


def expected_image(record: GoldenRecord, side: int = PANEL) -> Image.Image:
    """The record's own picture for the review page: its preview, or its thumbnail for older records,
    scaled so that the longest side is `side` pixels."""
    from PIL import Image

    if record.preview_jpeg:
        picture = Image.fromarray(decode_preview(record.preview_jpeg))
    else:
        picture = Image.fromarray(decode_png_base64(record.thumbnail_png))
    scale = side / max(picture.width, picture.height)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    resample = Image.Resampling.LANCZOS if record.preview_jpeg else Image.Resampling.NEAREST
    return picture.resize(size, resample)


def _heat(delta_e: np.ndarray) -> np.ndarray:
    """Black -> red -> yellow -> white as Delta E goes from 0 to the full scale."""
    import numpy as np

    x = np.clip(delta_e / _HEAT_FULL_SCALE, 0.0, 1.0)
    rgb = np.stack([np.clip(3 * x, 0, 1), np.clip(3 * x - 1, 0, 1), np.clip(3 * x - 2, 0, 1)], axis=-1)
    return (rgb * 255 + 0.5).astype(np.uint8)
