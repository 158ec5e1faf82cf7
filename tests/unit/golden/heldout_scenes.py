"""Pictures made in code for the golden labelled sets: grey, ink-on-paper and night scenes.

These are the low-chroma and low-key pictures the scikit-image colour photographs lack: black-and-white
photographs, ink on paper, fog, and night scenes (dark, few bright lights). Each scene is drawn from
its name and a seed only (numpy and Pillow), so that it is the same on every machine and any size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Scene = Callable[[np.random.Generator, int, int], np.ndarray]


def fractal(rng: np.random.Generator, height: int, width: int, octaves: int = 5, base: int = 4) -> np.ndarray:
    """Smooth value noise in [0, 1]: random grids of growing resolution, upsampled and summed."""
    total = np.zeros((height, width), np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        cells = base * 2**octave
        grid = rng.random((cells, cells)).astype(np.float32)
        layer = np.asarray(Image.fromarray(grid, mode="F").resize((width, height), Image.Resampling.BICUBIC))
        weight = 0.55**octave
        total += weight * layer
        weight_sum += weight
    total /= weight_sum
    scaled: np.ndarray = (total - total.min()) / max(float(total.max() - total.min()), 1e-6)
    return scaled


def _soften(grey: np.ndarray, radius: float) -> np.ndarray:
    image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8), mode="L")
    return np.asarray(image.filter(ImageFilter.GaussianBlur(radius)), np.float32)


def _rgb(grey: np.ndarray, tint: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    out = grey[:, :, None] * np.asarray(tint, np.float32)[None, None, :]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _strokes(
    draw: ImageDraw.ImageDraw,
    rng: np.random.Generator,
    box: tuple[int, int, int, int],
    count: int,
    width: tuple[int, int],
    fill: int,
    reach: float = 0.04,
) -> None:
    left, top, right, bottom = box
    span = max(right - left, bottom - top)
    for _ in range(count):
        x, y = rng.uniform(left, right), rng.uniform(top, bottom)
        points = [(x, y)]
        heading = rng.uniform(0, 2 * np.pi)
        for _ in range(int(rng.integers(3, 9))):
            heading += rng.normal(0, 0.8)
            step = rng.uniform(0.25, 1.0) * reach * span
            x, y = x + step * np.cos(heading), y + step * np.sin(heading)
            points.append((x, y))
        draw.line(points, fill=fill, width=int(rng.integers(*width)), joint="curve")


def ink_on_paper(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Handwriting-like lines of dark ink on off-white paper with fibre texture."""
    paper = 232 + 14 * fractal(rng, height, width, octaves=6, base=8)
    canvas = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8), mode="L")
    draw = ImageDraw.Draw(canvas)
    line_gap = height // 12
    for row in range(2, 11):
        y = row * line_gap
        draw.line(
            [(width * 0.06, y + line_gap * 0.35), (width * 0.94, y + line_gap * 0.35)], fill=205, width=1
        )
        length = rng.uniform(0.5, 0.88)
        box = (int(width * 0.08), y - line_gap // 3, int(width * (0.08 + length)), y + line_gap // 4)
        _strokes(draw, rng, box, count=int(40 * length), width=(1, max(2, width // 300)), fill=25)
    ink = canvas.filter(ImageFilter.GaussianBlur(0.6))
    return _rgb(np.asarray(ink, np.float32), tint=(0.99, 0.99, 1.0))


def calligraphy(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Thick black brush strokes on warm, slightly mottled rice paper: chroma low but not zero."""
    paper = 218 + 22 * fractal(rng, height, width, octaves=5, base=6)
    canvas = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8), mode="L")
    draw = ImageDraw.Draw(canvas)
    for column in range(3):
        x0 = int(width * (0.2 + 0.25 * column))
        box = (x0, int(height * 0.12), x0 + width // 6, int(height * 0.88))
        _strokes(
            draw, rng, box, count=7, width=(max(3, width // 90), max(5, width // 40)), fill=18, reach=0.12
        )
    seal = (int(width * 0.8), int(height * 0.8), int(width * 0.86), int(height * 0.86))
    grey = np.asarray(canvas.filter(ImageFilter.GaussianBlur(1.0)), np.float32)
    out = _rgb(grey, tint=(1.0, 0.97, 0.9)).astype(np.float32)
    out[seal[1] : seal[3], seal[0] : seal[2]] = (170, 40, 35)  # the small red seal
    return np.clip(out, 0, 255).astype(np.uint8)


def night_street(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A dark low-key street: near-black sky, building silhouettes, a few lamps and lit windows."""
    yy, xx = np.indices((height, width), dtype=np.float32)
    sky = 6 + 10 * (1 - yy / height) + 4 * fractal(rng, height, width, octaves=4)
    image = np.repeat(sky[:, :, None], 3, axis=2) * np.asarray((0.8, 0.9, 1.25), np.float32)
    skyline = height * 0.45
    for x0 in range(0, width, width // 10):
        top = int(skyline + rng.uniform(-0.2, 0.15) * height)
        image[top:, x0 : x0 + width // 10] = 3 + rng.uniform(0, 3)
        for _ in range(int(rng.integers(1, 4))):
            wy, wx = int(rng.uniform(top + 8, height * 0.8)), int(rng.uniform(x0 + 4, x0 + width // 10 - 12))
            image[wy : wy + height // 60, wx : wx + width // 80] = (180, 150, 90)
    for lamp in range(4):
        cx, cy = width * (0.15 + 0.23 * lamp), height * rng.uniform(0.55, 0.7)
        glow = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.03 * width) ** 2))
        image += glow[:, :, None] * np.asarray((255, 200, 120), np.float32)
    image[int(height * 0.88) :] = (
        4 + 6 * fractal(rng, height - int(height * 0.88), width, octaves=3)[:, :, None]
    )
    picture: np.ndarray = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return picture


def fog(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A grey foggy landscape: hills in layers fading into a bright, even sky; nearly no chroma."""
    yy = np.indices((height, width), dtype=np.float32)[0] / height
    image = 200 - 30 * yy + 6 * fractal(rng, height, width, octaves=3)
    for layer, shade in enumerate((170, 135, 95, 55)):
        ridge = fractal(rng, 1, width, octaves=4, base=3)[0]
        top = (0.35 + 0.14 * layer + 0.12 * ridge) * height
        image = np.where(
            yy * height > top[None, :], shade + 10 * fractal(rng, height, width, octaves=5), image
        )
    return _rgb(_soften(image, 1.5))


def night_sky(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Stars and a bright moon over a dark horizon: most pixels below 20/255."""
    yy, xx = np.indices((height, width), dtype=np.float32)
    image = 4 + 8 * (yy / height) + 3 * fractal(rng, height, width, octaves=4)
    stars = rng.random((height, width)) < 0.0015
    image[stars] = rng.uniform(60, 255, size=int(stars.sum()))
    cx, cy, r = width * 0.7, height * 0.25, width * 0.06
    moon = np.clip((r - np.hypot(xx - cx, yy - cy)) / 2.0, 0, 1)
    image = image * (1 - moon) + moon * (215 + 25 * fractal(rng, height, width, octaves=5))
    image[int(height * 0.85) :] = 2.0
    return _rgb(_soften(image, 0.7), tint=(0.92, 0.96, 1.1))


def printed_page(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A printed page: justified blocks of small dark 'words' on white, a heading and a grey figure."""
    canvas = Image.new("L", (width, height), 246)
    draw = ImageDraw.Draw(canvas)
    glyph = max(3, height // 110)
    y = int(height * 0.08)
    draw.rectangle((width * 0.1, y, width * 0.7, y + glyph * 3), fill=30)
    y += glyph * 7
    figure = (int(width * 0.55), int(height * 0.35), int(width * 0.9), int(height * 0.6))
    while y < height * 0.92:
        x = int(width * 0.1)
        while x < width * 0.9:
            word = int(rng.integers(2, 9)) * glyph
            if not (figure[0] - glyph <= x <= figure[2] and figure[1] - glyph <= y <= figure[3]):
                draw.rectangle((x, y, x + word, y + glyph), fill=int(rng.integers(20, 60)))
            x += word + glyph
        y += glyph * 2 + glyph // 2
    pixels = np.asarray(canvas, np.float32)
    fy, fx = slice(figure[1], figure[3]), slice(figure[0], figure[2])
    pixels[fy, fx] = 60 + 150 * fractal(rng, figure[3] - figure[1], figure[2] - figure[0], octaves=4)
    return _rgb(pixels)


def pencil_sketch(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Soft graphite hatching on cream paper: mid-grey strokes, much blank paper."""
    paper = 238 + 8 * fractal(rng, height, width, octaves=6, base=10)
    canvas = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8), mode="L")
    draw = ImageDraw.Draw(canvas)
    for _ in range(220):
        x, y = rng.uniform(0.15, 0.85) * width, rng.uniform(0.15, 0.85) * height
        length, angle = rng.uniform(0.03, 0.12) * width, rng.choice([0.7, 0.8, 2.3])
        end = (x + length * np.cos(angle), y + length * np.sin(angle))
        draw.line([(x, y), end], fill=int(rng.integers(90, 170)), width=max(1, width // 400))
    grey = np.asarray(canvas.filter(ImageFilter.GaussianBlur(0.5)), np.float32)
    return _rgb(grey, tint=(1.0, 0.99, 0.96))


def overcast_sea(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A grey sea under an overcast sky: wave texture below the horizon, soft clouds above."""
    yy = np.indices((height, width), dtype=np.float32)[0] / height
    clouds = 150 + 60 * fractal(rng, height, width, octaves=5, base=3)
    waves = 80 + 50 * fractal(rng, height, width, octaves=6, base=12) * (0.4 + yy)
    image = np.where(yy < 0.45, clouds, waves)
    return _rgb(image, tint=(0.98, 1.0, 1.02))


SCENES: dict[str, Scene] = {
    "ink on paper": ink_on_paper,
    "calligraphy": calligraphy,
    "night street": night_street,
    "fog": fog,
    "night sky": night_sky,
    "printed page": printed_page,
    "pencil sketch": pencil_sketch,
    "overcast sea": overcast_sea,
}


def scene(name: str, height: int, width: int, seed: int = 0) -> np.ndarray:
    """The scene `name` at height x width (uint8 RGB), the same on every run for the same seed."""
    rng = np.random.default_rng([seed, *map(ord, name)])
    return SCENES[name](rng, height, width)
