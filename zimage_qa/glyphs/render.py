"""Synthetic line pictures for the engine self-calibration: one line of text in a bundled font, on a
lightly cluttered background, rotated a little, blurred and JPEG-compressed, reproducible from a seed.

The fonts are subsets shipped in `zimage_qa/glyphs/fonts/` (Noto Sans/Serif CJK SC under the SIL OFL,
AR PL UKai/UMing under the Arphic Public License; see the licence files beside them). They cover the
shipped glyph cases, their look-alikes (`confusables.toml`) and printable ASCII.
"""

from __future__ import annotations

import functools
import io
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageFont

# style -> file in zimage_qa/glyphs/fonts: sans (hei), bold sans, serif (song), kai (brush), ming
FONT_FILES: dict[str, str] = {
    "sans": "zqa-sans.otf",
    "sans-bold": "zqa-sans-bold.otf",
    "serif": "zqa-serif.otf",
    "kai": "zqa-kai.ttf",
    "ming": "zqa-ming.ttf",
}
CHARACTERS = "characters.txt"
SIZE = 40  # pixels per em: PP-OCR recognisers see lines 48 px high

# (background, clutter, ink): paper and ink, festive red and gold, night and white, dark green
PALETTES: tuple[tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]], ...] = (
    ((236, 226, 200), (200, 185, 150), (30, 25, 20)),
    ((178, 28, 32), (205, 70, 50), (250, 214, 90)),
    ((22, 34, 70), (50, 70, 120), (245, 245, 240)),
    ((70, 95, 80), (100, 130, 105), (250, 240, 210)),
)


@dataclass(frozen=True)
class Distortion:
    """Mild damage, as a generated picture shows it: degrees, Gaussian radius, JPEG quality."""

    angle: float
    blur: float
    jpeg_quality: int

    @classmethod
    def mild(cls, rng: random.Random) -> Distortion:
        return cls(rng.uniform(-2.5, 2.5), rng.uniform(0.2, 0.8), rng.randint(55, 85))


def font_dir() -> Path:
    return Path(str(resources.files("zimage_qa.glyphs").joinpath("fonts")))


def font_path(style: str) -> Path:
    return font_dir() / FONT_FILES[style]


@functools.cache
def _face(style: str, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path(style)), size)


@functools.cache
def coverage() -> frozenset[str]:
    """The characters every bundled font can draw (`fonts/characters.txt`, written with the subsets
    by tests/fonts/make_subsets.py and checked against each font by the tests)."""
    return frozenset(font_dir().joinpath(CHARACTERS).read_text(encoding="utf-8"))


def missing(text: str) -> str:
    """Characters of `text` (spaces aside) that the bundled fonts lack."""
    have = coverage()
    return "".join(sorted({ch for ch in text if not ch.isspace() and ch not in have}))


def render_line(text: str, style: str, seed: int) -> Image.Image:
    """`text` on one line in the bundled font `style`, mildly distorted; the same for the same seed."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(f"{text}|{style}|{seed}")
    background, clutter, ink = PALETTES[rng.randrange(len(PALETTES))]
    face = _face(style, SIZE)
    left, top, right, bottom = face.getbbox(text)
    pad = SIZE // 5
    left, top, right, bottom = int(left), int(top), int(right), int(bottom)
    width, height = right - left + 2 * pad, SIZE + 2 * pad
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(2, 4)):  # clutter: thin lines and a ring, away from nothing in particular
        points = [(rng.randrange(width), rng.randrange(height)) for _ in range(2)]
        draw.line(points, fill=clutter, width=rng.randint(1, 2))
    x0, y0 = rng.randrange(width), rng.randrange(height)
    draw.ellipse([x0, y0, x0 + rng.randint(10, 40), y0 + rng.randint(10, 30)], outline=clutter)
    layer = Image.new("L", image.size, 0)
    ImageDraw.Draw(layer).text(
        (pad - left, pad - top + (SIZE - (bottom - top)) // 2), text, font=face, fill=255
    )
    damage = Distortion.mild(rng)
    layer = layer.rotate(damage.angle, resample=Image.Resampling.BICUBIC, fillcolor=0)
    image.paste(Image.new("RGB", image.size, ink), mask=layer)
    image = image.filter(ImageFilter.GaussianBlur(damage.blur))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=damage.jpeg_quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")
