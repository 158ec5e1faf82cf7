"""The labelled set: real photographs (scikit-image samples) and perturbations, each marked SAME or not.

SAME kinds are what a rerun, another driver or another kernel produces; REGRESSED kinds are what a
reviewer would call a changed picture. Every perturbation is seeded, so the set is the same on every run.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

SIZE = 512
PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "stereo_motorcycle",
)

Perturb = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Pair:
    photo: str
    kind: str
    same: bool
    golden: np.ndarray
    candidate: np.ndarray


def load_photo(name: str) -> np.ndarray:
    """A sample photograph, centre-cropped to a square and resized to SIZE x SIZE (uint8 RGB)."""
    import skimage.data

    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):
        image = image[0]
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = Image.fromarray(image[top : top + side, left : left + side, :3])
    return np.asarray(square.resize((SIZE, SIZE), Image.Resampling.LANCZOS))


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _jpeg(quality: int) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        buffer = io.BytesIO()
        Image.fromarray(img).save(buffer, format="JPEG", quality=quality)
        return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))

    return apply


def _noise(sigma_255: float) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _u8(img + rng.normal(0.0, sigma_255, img.shape))

    return apply


def _resample(factor: float) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        size = round(img.shape[1] * factor)
        there = Image.fromarray(img).resize((size, size), Image.Resampling.BICUBIC)
        return np.asarray(there.resize(img.shape[1::-1], Image.Resampling.BICUBIC))

    return apply


def _gain(factor: float) -> Perturb:
    return lambda img, rng: _u8(img.astype(np.float32) * factor)


def _blur(sigma: float) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        from scipy.ndimage import gaussian_filter

        return _u8(gaussian_filter(img.astype(np.float32), sigma=(sigma, sigma, 0), mode="reflect"))

    return apply


def _then(first: Perturb, second: Perturb) -> Perturb:
    return lambda img, rng: second(first(img, rng), rng)


def _saturation(factor: float) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = img.astype(np.float32)
        grey = (x @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[:, :, None]
        return _u8(grey + (x - grey) * factor)

    return apply


def _contrast(factor: float) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = img.astype(np.float32)
        return _u8(x.mean() + (x - x.mean()) * factor)

    return apply


def _posterise(levels: int) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        step = 255.0 / (levels - 1)
        return _u8(np.rint(img / step) * step)

    return apply


def _checkerboard(period: int, amplitude_255: float) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        yy, xx = np.indices(img.shape[:2])
        sign = np.where(((yy // (period // 2)) + (xx // (period // 2))) % 2 == 0, 1.0, -1.0)
        return _u8(img + amplitude_255 * sign[:, :, None])

    return apply


def _seams(tile: int, strength: float) -> Perturb:
    """Visible tile seams (2 px lines pulled towards mid-grey), as a tiled decode without overlap leaves."""

    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = img.astype(np.float32)
        for start in range(tile, img.shape[0], tile):
            x[start - 1 : start + 1, :, :] += strength * (128.0 - x[start - 1 : start + 1, :, :])
            x[:, start - 1 : start + 1, :] += strength * (128.0 - x[:, start - 1 : start + 1, :])
        return _u8(x)

    return apply


def _tile_offsets(tile: int, amplitude_255: float) -> Perturb:
    """Each tile shifted in brightness: the blocky look of a broken tiled decode."""

    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        rows, cols = img.shape[0] // tile, img.shape[1] // tile
        offsets = rng.choice([-amplitude_255, amplitude_255], size=(rows, cols))
        field = np.kron(offsets, np.ones((tile, tile)))
        return _u8(img + field[: img.shape[0], : img.shape[1], None])

    return apply


def _repeat_tiles(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The picture repeated 2 x 2, as out-of-distribution resolutions make a model do."""
    half = np.asarray(Image.fromarray(img).resize((SIZE // 2, SIZE // 2), Image.Resampling.LANCZOS))
    return np.tile(half, (2, 2, 1))


def _blob(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A solid disc covering a fifth of the picture, placed at random but fully inside."""
    radius = SIZE * np.sqrt(0.2 / np.pi)
    cy, cx = rng.uniform(radius, SIZE - radius, size=2)
    yy, xx = np.indices(img.shape[:2])
    inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
    out = img.copy()
    out[inside] = rng.integers(0, 256, size=3, dtype=np.uint8)
    return out


def _zoom(factor: float) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        side = round(SIZE / factor)
        top = left = (SIZE - side) // 2
        crop = Image.fromarray(img[top : top + side, left : left + side])
        return np.asarray(crop.resize((SIZE, SIZE), Image.Resampling.LANCZOS))

    return apply


def _shift_crop(fraction: float) -> Perturb:
    """Crop one side off and stretch back: the framing moved."""

    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cut = round(SIZE * fraction)
        crop = Image.fromarray(img[:, cut:])
        return np.asarray(crop.resize((SIZE, SIZE), Image.Resampling.LANCZOS))

    return apply


SAME_KINDS: dict[str, Perturb] = {
    "identical": lambda img, rng: img.copy(),
    "jpeg q80": _jpeg(80),
    "jpeg q90": _jpeg(90),
    "jpeg q95": _jpeg(95),
    "noise 2/255": _noise(2.0),
    "noise 4/255": _noise(4.0),
    "resample 0.9": _resample(0.9),
    "resample 1.1": _resample(1.1),
    "brightness -3%": _gain(0.97),
    "brightness +3%": _gain(1.03),
    "blur 0.3px": _blur(0.3),
    "blur 0.5px": _blur(0.5),
    "noise 3/255 + jpeg q85": _then(_noise(3.0), _jpeg(85)),
    "blur 0.4px + brightness +2%": _then(_blur(0.4), _gain(1.02)),
}

REGRESSED_KINDS: dict[str, Perturb] = {
    "rgb/bgr swap": lambda img, rng: img[:, :, ::-1].copy(),
    "desaturated": _saturation(0.0),
    "half desaturated": _saturation(0.4),
    "over-saturated": _saturation(1.8),
    "exposure -40%": _gain(0.6),
    "exposure +40%": _gain(1.4),
    "contrast collapse": _contrast(0.4),
    "blur 2px": _blur(2.0),
    "blur 3px": _blur(3.0),
    "heavy noise 20/255": _noise(20.0),
    "heavy noise 40/255": _noise(40.0),
    "posterised 8 levels": _posterise(8),
    "banding 16 levels": _posterise(16),
    "checkerboard 2px": _checkerboard(2, 10.0),
    "checkerboard 8px": _checkerboard(8, 10.0),
    "tile seams 64px": _seams(64, 0.3),
    "tile offsets 64px": _tile_offsets(64, 12.0),
    "repeated tiles": _repeat_tiles,
    "blob 1/5": _blob,
    "zoom 1.25": _zoom(1.25),
    "crop side 15%": _shift_crop(0.15),
    "mirror flip": lambda img, rng: img[:, ::-1].copy(),
}


def pairs() -> Iterator[Pair]:
    """Every (photo, perturbation) pair, plus each photo against the next one (different content)."""
    photos = {name: load_photo(name) for name in PHOTOS}
    names = list(photos)
    for index, name in enumerate(names):
        golden = photos[name]
        for kinds, same in ((SAME_KINDS, True), (REGRESSED_KINDS, False)):
            for kind, perturb in kinds.items():
                rng = np.random.default_rng([index, len(kind), sum(map(ord, kind))])
                yield Pair(name, kind, same, golden, perturb(golden, rng))
        other = photos[names[(index + 1) % len(names)]]
        yield Pair(name, "different content", False, golden, other)
