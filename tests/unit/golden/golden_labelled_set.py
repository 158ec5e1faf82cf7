"""The labelled sets: pictures and perturbations of them, each pair marked SAME or REGRESSED.

SAME kinds are what a rerun, another driver or another kernel produces; REGRESSED kinds are what a
reviewer would call a changed picture. Pictures are scikit-image sample photographs (colour and
black-and-white) and scenes drawn in code (ink on paper, fog, night: see `heldout_scenes`).

Two sets are built from disjoint pictures:
- `FIT_SOURCES` x (`SAME_KINDS`, `REGRESSED_KINDS`): the set the thresholds are fitted on, and judged
  leave-one-picture-out;
- `APART_SOURCES` x (`APART_SAME_KINDS`, `APART_REGRESSED_KINDS`): other pictures, other sizes and other
  perturbation strengths, judged only with the shipped thresholds.

Every perturbation is seeded, so both sets are the same on every run.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from heldout_scenes import scene
from PIL import Image, ImageFilter

SIZE = 512  # the fitted set's side; the set apart uses the sizes a generator makes (768, 1024x768, ...)

Perturb = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Source:
    """A picture of the sets: `group` is "colour", "black-and-white", "ink on paper", "grey scene" or "night".

    `coloured` is False for pictures a viewer sees as grey: swapping or desaturating their channels
    changes nothing visible, so the colour-only kinds (`COLOUR_ONLY`) are not made of them.
    `invisible` names the REGRESSED kinds that were looked at on this picture and change nothing a
    viewer sees (a 1.5 px blur of a picture with no fine detail, seams lost in mid-grey texture): a
    change nobody sees is not a regression, so these pairs are not made. Every such entry was decided
    by looking at the pair side by side, and the test's closing figures say how many there are.
    """

    name: str
    group: str
    make: Callable[[int, int], np.ndarray]  # (height, width) -> uint8 RGB
    coloured: bool = False
    invisible: frozenset[str] = frozenset()

    @property
    def low_chroma(self) -> bool:
        return self.group != "colour"


@dataclass(frozen=True)
class Pair:
    photo: str
    group: str
    kind: str
    same: bool
    golden: np.ndarray
    candidate: np.ndarray


def _fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre-crop `image` to the aspect ratio height:width and resize (Lanczos) to it, as uint8 RGB."""
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        image = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = image[:, :, :3]
    rows, cols = image.shape[:2]
    scale = min(rows / height, cols / width)
    crop_h, crop_w = round(height * scale), round(width * scale)
    top, left = (rows - crop_h) // 2, (cols - crop_w) // 2
    crop = Image.fromarray(np.ascontiguousarray(image[top : top + crop_h, left : left + crop_w]))
    return np.asarray(crop.resize((width, height), Image.Resampling.LANCZOS))


def _photo(name: str, tone: tuple[float, float, float] | None = None) -> Callable[[int, int], np.ndarray]:
    def make(height: int, width: int) -> np.ndarray:
        import skimage.data

        image = getattr(skimage.data, name)()
        image = _fit(image[0] if isinstance(image, tuple) else image, height, width)
        if tone is None:
            return image
        return _u8(image.astype(np.float32) * np.asarray(tone, np.float32))  # a toned print

    return make


def _drawn(name: str) -> Callable[[int, int], np.ndarray]:
    return lambda height, width: scene(name, height, width)


def load_photo(name: str) -> np.ndarray:
    """A sample photograph, centre-cropped to a square and resized to SIZE x SIZE (uint8 RGB)."""
    return _photo(name)(SIZE, SIZE)


FIT_SOURCES: tuple[Source, ...] = (
    *(
        Source(name, "colour", _photo(name), coloured=True)
        for name in (
            "astronaut",
            "coffee",
            "chelsea",
            "rocket",
            "immunohistochemistry",
            "hubble_deep_field",
            "retina",
            "stereo_motorcycle",
        )
    ),
    *(Source(name, "black-and-white", _photo(name)) for name in ("camera", "moon", "text", "coins", "brick")),
    Source("clock (sepia print)", "black-and-white", _photo("clock", tone=(1.0, 0.93, 0.8)), True),
    Source("ink on paper", "ink on paper", _drawn("ink on paper")),
    Source("calligraphy", "ink on paper", _drawn("calligraphy"), coloured=True),
    Source("fog", "grey scene", _drawn("fog")),
    Source("night street", "night", _drawn("night street"), coloured=True),
)

# Sizes a generator makes, as (height, width); the set apart cycles through them.
APART_SIZES = ((768, 768), (768, 1024), (1024, 1024), (640, 640))

APART_SOURCES: tuple[Source, ...] = (
    Source("cat", "colour", _photo("cat"), coloured=True),
    Source("colorwheel", "colour", _photo("colorwheel"), coloured=True, invisible=frozenset({"smeared"})),
    Source("logo", "colour", _photo("logo"), coloured=True),
    Source("page", "ink on paper", _photo("page")),
    Source("gravel", "black-and-white", _photo("gravel"), invisible=frozenset({"tile seams 128px"})),
    Source("grass", "black-and-white", _photo("grass"), invisible=frozenset({"tile seams 128px"})),
    Source("cell", "black-and-white", _photo("cell"), invisible=frozenset({"blur 1.5px", "smeared"})),
    Source("printed page", "ink on paper", _drawn("printed page")),
    Source("pencil sketch", "ink on paper", _drawn("pencil sketch")),
    Source(
        "overcast sea", "grey scene", _drawn("overcast sea"), invisible=frozenset({"blur 1.5px", "smeared"})
    ),
    Source("night sky", "night", _drawn("night sky"), coloured=True),
)


def _u8(x: np.ndarray) -> np.ndarray:
    picture: np.ndarray = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return picture


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
        height, width = img.shape[:2]
        there = Image.fromarray(img).resize(
            (round(width * factor), round(height * factor)), Image.Resampling.BICUBIC
        )
        return np.asarray(there.resize((width, height), Image.Resampling.BICUBIC))

    return apply


def _gain(factor: float | tuple[float, float, float]) -> Perturb:
    gains = np.asarray(factor, np.float32)
    return lambda img, rng: _u8(img.astype(np.float32) * gains)


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


def _sepia(strength: float) -> Perturb:
    """Toned towards sepia (the classic matrix), `strength` 0..1: a grey picture turns brown."""
    matrix = np.asarray(((0.393, 0.769, 0.189), (0.349, 0.686, 0.168), (0.272, 0.534, 0.131)), np.float32)

    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = img.astype(np.float32)
        toned = x @ matrix.T
        toned *= x.mean() / max(float(toned.mean()), 1e-6)  # keep the exposure: only the colour changes
        return _u8(x + strength * (toned - x))

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
        for start in range(tile, img.shape[1], tile):
            x[:, start - 1 : start + 1, :] += strength * (128.0 - x[:, start - 1 : start + 1, :])
        return _u8(x)

    return apply


def _tile_offsets(tile: int, amplitude_255: float) -> Perturb:
    """Each tile shifted in brightness: the blocky look of a broken tiled decode."""

    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        rows, cols = -(-img.shape[0] // tile), -(-img.shape[1] // tile)
        offsets = rng.choice([-amplitude_255, amplitude_255], size=(rows, cols))
        field = np.kron(offsets, np.ones((tile, tile)))
        return _u8(img + field[: img.shape[0], : img.shape[1], None])

    return apply


def _repeat_tiles(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The picture repeated 2 x 2, as out-of-distribution resolutions make a model do."""
    height, width = img.shape[:2]
    half = np.asarray(Image.fromarray(img).resize((width // 2, height // 2), Image.Resampling.LANCZOS))
    return np.asarray(Image.fromarray(np.tile(half, (2, 2, 1))).resize((width, height)))


def _blob(fraction: float) -> Perturb:
    """A solid disc covering `fraction` of the picture, placed at random but fully inside."""

    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        height, width = img.shape[:2]
        radius = np.sqrt(fraction * height * width / np.pi)
        cy, cx = rng.uniform(radius, height - radius), rng.uniform(radius, width - radius)
        yy, xx = np.indices((height, width))
        out = img.copy()
        out[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = rng.integers(0, 256, size=3, dtype=np.uint8)
        return out

    return apply


def _zoom(factor: float) -> Perturb:
    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        height, width = img.shape[:2]
        crop_h, crop_w = round(height / factor), round(width / factor)
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        crop = Image.fromarray(img[top : top + crop_h, left : left + crop_w])
        return np.asarray(crop.resize((width, height), Image.Resampling.LANCZOS))

    return apply


def _shift_crop(fraction: float) -> Perturb:
    """Crop one side off and stretch back: the framing moved."""

    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cut = round(img.shape[1] * fraction)
        crop = Image.fromarray(img[:, cut:])
        return np.asarray(crop.resize(img.shape[1::-1], Image.Resampling.LANCZOS))

    return apply


def _smear(radius: float) -> Perturb:
    """A median-filtered, washed-out picture: fine strokes and texture gone, as a broken decoder leaves."""

    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        smeared = Image.fromarray(img).filter(ImageFilter.MedianFilter(int(radius) * 2 + 1))
        return np.asarray(smeared.filter(ImageFilter.GaussianBlur(radius / 2)))

    return apply


def _mirror(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return img[:, ::-1].copy()


def _swap(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return img[:, :, ::-1].copy()


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
    "rgb/bgr swap": _swap,
    "desaturated": _saturation(0.0),
    "half desaturated": _saturation(0.4),
    "over-saturated": _saturation(1.8),
    "sepia toned": _sepia(1.0),
    "warm cast": _gain((1.1, 1.0, 0.85)),
    "green cast": _gain((0.9, 1.05, 0.9)),
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
    "blob 1/5": _blob(0.2),
    "zoom 1.25": _zoom(1.25),
    "crop side 15%": _shift_crop(0.15),
    "mirror flip": _mirror,
}

# The set apart: the same families at other strengths, and a few kinds the fitted set does not have.
APART_SAME_KINDS: dict[str, Perturb] = {
    "identical": lambda img, rng: img.copy(),
    "jpeg q85": _jpeg(85),
    "noise 1/255": _noise(1.0),
    "noise 2.5/255": _noise(2.5),
    "noise 3.5/255": _noise(3.5),
    "resample 0.95": _resample(0.95),
    "resample 1.25": _resample(1.25),
    "brightness -2%": _gain(0.98),
    "brightness +2.5%": _gain(1.025),
    "blur 0.45px": _blur(0.45),
    "noise 2/255 + jpeg q92": _then(_noise(2.0), _jpeg(92)),
    "resample 0.95 + noise 1/255": _then(_resample(0.95), _noise(1.0)),
}

APART_REGRESSED_KINDS: dict[str, Perturb] = {
    "grb swap": lambda img, rng: img[:, :, (1, 0, 2)].copy(),
    "desaturated 70%": _saturation(0.3),
    "over-saturated 1.6": _saturation(1.6),
    "sepia half": _sepia(0.6),
    "cool cast": _gain((0.88, 0.97, 1.1)),
    "exposure -30%": _gain(0.7),
    "exposure +30%": _gain(1.3),
    "contrast 0.5": _contrast(0.5),
    "blur 1.5px": _blur(1.5),
    "smeared": _smear(3.0),
    "noise 15/255": _noise(15.0),
    "posterised 12 levels": _posterise(12),
    "checkerboard 4px": _checkerboard(4, 8.0),
    "tile seams 128px": _seams(128, 0.35),
    "tile offsets 128px": _tile_offsets(128, 10.0),
    "blob 1/8": _blob(0.125),
    "zoom 1.15": _zoom(1.15),
    "crop side 10%": _shift_crop(0.1),
    "mirror flip": _mirror,
}


# Kinds that only move colour: made only of `coloured` pictures (on a grey one they change nothing).
COLOUR_ONLY = frozenset(
    {
        "rgb/bgr swap",
        "desaturated",
        "half desaturated",
        "over-saturated",
        "grb swap",
        "desaturated 70%",
        "over-saturated 1.6",
    }
)


def _seed(index: int, kind: str) -> np.random.Generator:
    return np.random.default_rng([index, len(kind), sum(map(ord, kind))])


def pairs(
    sources: tuple[Source, ...] = FIT_SOURCES,
    same_kinds: dict[str, Perturb] = SAME_KINDS,
    regressed_kinds: dict[str, Perturb] = REGRESSED_KINDS,
    sizes: tuple[tuple[int, int], ...] = ((SIZE, SIZE),),
) -> Iterator[Pair]:
    """Every (picture, perturbation) pair, plus each picture against the next one (different content).

    Picture i is made at sizes[i % len(sizes)]; "different content" resizes the next picture to it.
    """
    for index, source in enumerate(sources):
        height, width = sizes[index % len(sizes)]
        golden = source.make(height, width)
        for kinds, same in ((same_kinds, True), (regressed_kinds, False)):
            for kind, perturb in kinds.items():
                if kind in source.invisible or (kind in COLOUR_ONLY and not source.coloured):
                    continue
                yield Pair(source.name, source.group, kind, same, golden, perturb(golden, _seed(index, kind)))
        other = sources[(index + 1) % len(sources)].make(height, width)
        yield Pair(source.name, source.group, "different content", False, golden, other)


def apart_pairs() -> Iterator[Pair]:
    """The set apart: other pictures, sizes and strengths; never used to fit a threshold."""
    return pairs(APART_SOURCES, APART_SAME_KINDS, APART_REGRESSED_KINDS, APART_SIZES)
