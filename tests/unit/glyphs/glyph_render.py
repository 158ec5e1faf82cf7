"""Synthetic glyph pictures for the calibration: text in a committed font over a cluttered
background, rotated a few degrees, blurred and JPEG-compressed, all from one seed."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path(__file__).resolve().parents[2] / "fonts"
FONTS: dict[str, Path] = {
    "sans": FONT_DIR / "zqa-sans.otf",
    "sans-bold": FONT_DIR / "zqa-sans-bold.otf",
    "serif": FONT_DIR / "zqa-serif.otf",
    "kai": FONT_DIR / "zqa-kai.ttf",
    "ming": FONT_DIR / "zqa-ming.ttf",
}

# (background, clutter, text) colours: festive red with gold, paper with ink, night with white...
PALETTES: tuple[tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]], ...] = (
    ((178, 28, 32), (205, 70, 50), (250, 214, 90)),
    ((236, 226, 200), (200, 185, 150), (30, 25, 20)),
    ((22, 34, 70), (50, 70, 120), (245, 245, 240)),
    ((70, 95, 80), (100, 130, 105), (250, 240, 210)),
)


@dataclass(frozen=True)
class Degradation:
    angle: float  # degrees
    blur: float  # Gaussian radius, pixels
    jpeg_quality: int


def degradation(rng: random.Random, strong: bool) -> Degradation:
    if strong:
        return Degradation(rng.uniform(-5, 5), rng.uniform(0.9, 1.4), rng.randint(30, 45))
    return Degradation(rng.uniform(-3, 3), rng.uniform(0.3, 0.9), rng.randint(50, 80))


def render(text: str, font: str, seed: int, *, distractor: str = "", strong: bool = False) -> Image.Image:
    """`text` (may be empty: a picture with no text) in `font`, degraded; reproducible from `seed`."""
    rng = random.Random(f"{text}|{font}|{seed}|{distractor}|{strong}")
    background, clutter, ink = PALETTES[rng.randrange(len(PALETTES))]
    size = rng.randint(44, 60)
    face = ImageFont.truetype(str(FONTS[font]), size)
    text_w = int(face.getlength(text)) if text else 4 * size
    width, height = text_w + rng.randint(100, 160), size * 3 + 30
    image = _cluttered(width, height, background, clutter, rng)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    if text:
        x = (width - text_w) // 2 + rng.randint(-20, 20)
        y = (height - size) // 2 + rng.randint(-15, 5)
        draw.text((x, y), text, font=face, fill=(*ink, 255))
    if distractor:
        small = ImageFont.truetype(str(FONTS[font]), max(18, size // 3))
        draw.text((12, height - size // 3 - 20), distractor, font=small, fill=(*ink, 230))
    damage = degradation(rng, strong)
    layer = layer.rotate(damage.angle, resample=Image.Resampling.BICUBIC, center=(width / 2, height / 2))
    image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    image = image.filter(ImageFilter.GaussianBlur(damage.blur))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=damage.jpeg_quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _cluttered(
    width: int,
    height: int,
    background: tuple[int, int, int],
    clutter: tuple[int, int, int],
    rng: random.Random,
) -> Image.Image:
    """A gradient with soft shapes and thin lines: enough structure to tempt a text detector."""
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    for row in range(height):  # vertical gradient
        shade = 1.0 + 0.18 * (row / height - 0.5)
        draw.line([(0, row), (width, row)], fill=tuple(min(255, int(c * shade)) for c in background))
    for _ in range(rng.randint(8, 14)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randint(20, 140), y0 + rng.randint(20, 120)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([x0, y0, x1, y1], outline=clutter, width=rng.randint(1, 3))
    for _ in range(rng.randint(3, 6)):
        points = [(rng.randrange(width), rng.randrange(height)) for _ in range(2)]
        draw.line(points, fill=clutter, width=rng.randint(1, 2))
    noise = Image.effect_noise((width, height), rng.uniform(8, 20)).convert("RGB")
    return Image.blend(image, noise, 0.06)
