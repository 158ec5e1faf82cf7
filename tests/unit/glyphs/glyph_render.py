"""Synthetic glyph pictures for the tests: text in a bundled (or held-out) font over a cluttered
background, rotated a few degrees, blurred and JPEG-compressed, all from one seed."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path(__file__).resolve().parents[3] / "zimage_qa" / "glyphs" / "fonts"  # the bundled subsets
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


def render(
    text: str,
    font: str | Path,
    seed: int,
    *,
    distractor: str = "",
    strong: bool = False,
    index: int = 0,
    canvas: int = 0,
) -> Image.Image:
    """`text` (may be empty: a picture with no text) in `font` (a bundled style or a font file, face
    `index` of a collection), degraded; reproducible from `seed`. By default a small scene around
    the text (44-60 px glyphs); with `canvas`, a `canvas` x `canvas` picture, as the model renders,
    with the text 28-150 px high somewhere on it."""
    rng = random.Random(f"{text}|{font}|{seed}|{distractor}|{strong}" + (f"|{canvas}" if canvas else ""))
    background, clutter, ink = PALETTES[rng.randrange(len(PALETTES))]
    path = str(FONTS[font]) if isinstance(font, str) else str(font)
    size = rng.randint(28, 150) if canvas else rng.randint(44, 60)
    face = ImageFont.truetype(path, size, index=index)
    while canvas and text and face.getlength(text) > canvas - 140:
        size = int(size * 0.8)
        face = ImageFont.truetype(path, size, index=index)
    text_w = int(face.getlength(text)) if text else 4 * size
    width, height = (canvas, canvas) if canvas else (text_w + rng.randint(100, 160), size * 3 + 30)
    image = _cluttered(width, height, background, clutter, rng)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    if text and canvas:
        x = rng.randint(60, max(60, width - text_w - 60))
        y = rng.randint(80, height - size - 100)
        draw.text((x, y), text, font=face, fill=(*ink, 255))
    elif text:
        x = (width - text_w) // 2 + rng.randint(-20, 20)
        y = (height - size) // 2 + rng.randint(-15, 5)
        draw.text((x, y), text, font=face, fill=(*ink, 255))
    if distractor:
        small = ImageFont.truetype(path, max(18, size // 3), index=index)
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
