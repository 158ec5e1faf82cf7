"""Synthetic line pictures for the engine self-calibration: one line of text in one font
(`zimage_qa.glyphs.fontset.Face`) on a cluttered background, rotated, blurred and JPEG-compressed,
reproducible from a seed.

Seed 0 of a text and face is a mild render (text 40 px high, slight blur and rotation, light clutter);
every other seed is `varied`: text 24-64 px high, up to 5 degrees of rotation, blur up to about a
third of a stroke, JPEG quality 30-90, more clutter, as generated pictures vary.
"""

from __future__ import annotations

import functools
import io
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zimage_qa.glyphs.fontset import Face

if TYPE_CHECKING:
    from PIL import Image, ImageFont

SIZE = 40  # pixels per em of a mild render: PP-OCR recognisers see lines 48 px high

# (background, clutter, ink): paper and ink, festive red and gold, night and white, dark green
PALETTES: tuple[tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]], ...] = (
    ((236, 226, 200), (200, 185, 150), (30, 25, 20)),
    ((178, 28, 32), (205, 70, 50), (250, 214, 90)),
    ((22, 34, 70), (50, 70, 120), (245, 245, 240)),
    ((70, 95, 80), (100, 130, 105), (250, 240, 210)),
)


@dataclass(frozen=True)
class Distortion:
    """Damage, as a generated picture shows it: text size (px per em), degrees, Gaussian radius, JPEG
    quality, clutter strokes."""

    size: int
    angle: float
    blur: float
    jpeg_quality: int
    clutter: int

    @classmethod
    def mild(cls, rng: random.Random) -> Distortion:
        return cls(
            SIZE, rng.uniform(-2.5, 2.5), rng.uniform(0.2, 0.8), rng.randint(55, 85), rng.randint(2, 4)
        )

    @classmethod
    def varied(cls, rng: random.Random) -> Distortion:
        size = rng.randint(24, 64)
        blur = rng.uniform(0.1, 1.0) * size / SIZE
        return cls(size, rng.uniform(-5, 5), blur, rng.randint(30, 90), rng.randint(2, 8))

    @classmethod
    def for_seed(cls, rng: random.Random, seed: int) -> Distortion:
        return cls.mild(rng) if seed == 0 else cls.varied(rng)


@functools.cache
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(path, size, index=index)


def render_line(text: str, face: Face, seed: int) -> Image.Image:
    """`text` on one line in `face`, damaged as `Distortion.for_seed` says; the same for the same seed."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(f"{text}|{face.name}|{seed}")
    background, clutter, ink = PALETTES[rng.randrange(len(PALETTES))]
    damage = Distortion.for_seed(rng, seed)
    font = _font(str(face.path), face.index, damage.size)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    pad = max(4, damage.size // 5)
    width, height = right - left + 2 * pad, damage.size + 2 * pad
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    for _ in range(damage.clutter):  # thin lines across the line, and a ring
        points = [(rng.randrange(width), rng.randrange(height)) for _ in range(2)]
        draw.line(points, fill=clutter, width=rng.randint(1, 2))
    x0, y0 = rng.randrange(width), rng.randrange(height)
    draw.ellipse([x0, y0, x0 + rng.randint(10, 40), y0 + rng.randint(10, 30)], outline=clutter)
    layer = Image.new("L", image.size, 0)
    ImageDraw.Draw(layer).text(
        (pad - left, pad - top + (damage.size - (bottom - top)) // 2), text, font=font, fill=255
    )
    layer = layer.rotate(damage.angle, resample=Image.Resampling.BICUBIC, fillcolor=0)
    image.paste(Image.new("RGB", image.size, ink), mask=layer)
    image = image.filter(ImageFilter.GaussianBlur(damage.blur))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=damage.jpeg_quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")
