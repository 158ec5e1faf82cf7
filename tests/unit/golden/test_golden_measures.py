from __future__ import annotations

import imagehash
import numpy as np
import pytest
from golden_labelled_set import load_photo
from PIL import Image

from zimage_qa.errors import QAUsageError
from zimage_qa.golden.colour import srgb_to_lab
from zimage_qa.golden.measures import Signature, dhash_hex, hamming, level_occupancy, measure, phash_hex
from zimage_qa.golden.pixels import as_pixels
from zimage_qa.golden.thumbnail import decode_png_base64, encode_png_base64, make_thumbnail, ssim
from zimage_qa.golden.validity import invalid_reasons


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    loaded: np.ndarray = load_photo("astronaut")
    return loaded


def test_phash_is_bit_identical_to_imagehash(astronaut: np.ndarray) -> None:
    for image in (astronaut, astronaut[:, ::-1], load_photo("coffee")):
        pil = Image.fromarray(np.ascontiguousarray(image))
        assert phash_hex(pil) == str(imagehash.phash(pil))


def test_dhash_is_bit_identical_to_imagehash(astronaut: np.ndarray) -> None:
    for image in (astronaut, astronaut[:, ::-1], load_photo("camera"), load_photo("moon")):
        pil = Image.fromarray(np.ascontiguousarray(image))
        assert dhash_hex(pil) == str(imagehash.dhash(pil))


def test_level_occupancy_counts_the_levels_in_use() -> None:
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2).repeat(8, axis=0)
    assert level_occupancy(ramp) == pytest.approx(1.0)
    assert level_occupancy((ramp // 4) * 4) == pytest.approx(0.25, abs=0.01)


def test_lab_matches_scikit_image(astronaut: np.ndarray) -> None:
    from skimage.color import rgb2lab

    sample = astronaut[::8, ::8] / 255.0
    assert np.abs(srgb_to_lab(sample) - rgb2lab(sample)).max() < 0.05


def test_ssim_matches_scikit_image(astronaut: np.ndarray) -> None:
    from skimage.metrics import structural_similarity

    a = make_thumbnail(as_pixels(astronaut))
    b = make_thumbnail(as_pixels(np.ascontiguousarray(astronaut[:, ::-1])))
    la, lb = (srgb_to_lab(t / 255.0)[..., 0] for t in (a, b))
    expected = structural_similarity(  # type: ignore[no-untyped-call]  # scikit-image ships no annotations here
        la, lb, data_range=100, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert ssim(a, b) == pytest.approx(expected, abs=0.01)
    assert ssim(a, a) == pytest.approx(1.0)


def test_signature_round_trips_through_its_dict(astronaut: np.ndarray) -> None:
    signature = measure(astronaut)
    again = Signature.from_dict(signature.to_dict())
    assert again.phash == signature.phash
    assert again.lab_mean == pytest.approx(signature.lab_mean, rel=1e-4)
    assert hamming(again.dhash, signature.dhash) == 0


def test_signature_reads_the_obvious(astronaut: np.ndarray) -> None:
    base = measure(astronaut)
    grey = measure(np.repeat(astronaut.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2))
    assert grey.chroma < 0.1 * base.chroma
    dark = measure((astronaut * 0.5).astype(np.uint8))
    assert dark.brightness == pytest.approx(base.brightness * 0.5, rel=0.02)


def test_thumbnail_png_round_trip(astronaut: np.ndarray) -> None:
    thumb = make_thumbnail(as_pixels(astronaut))
    assert thumb.shape == (64, 64, 3)
    assert np.array_equal(decode_png_base64(encode_png_base64(thumb)), thumb)
    with pytest.raises(ValueError, match="base64 PNG"):
        decode_png_base64("not an image")


@pytest.mark.parametrize(
    ("image", "diagnosis"),
    [
        (np.zeros((64, 64, 3), np.uint8), "black"),
        (np.full((64, 64, 3), 0.5, np.float32), "flat"),
        (np.full((64, 64, 3), 200, np.uint8), "flat"),
        (
            np.where(np.eye(64)[:, :, None] > 0, np.nan, np.full((64, 64, 3), 0.5)).astype(np.float32),
            "non-finite",
        ),
    ],
)
def test_broken_images_are_invalid_on_their_own(image: np.ndarray, diagnosis: str) -> None:
    reasons = invalid_reasons(as_pixels(image))
    assert len(reasons) == 1
    assert reasons[0].startswith(diagnosis + ":")


def test_low_contrast_noise_from_a_random_model_is_valid() -> None:
    rng = np.random.default_rng(0)
    image = (0.5 + 0.02 * rng.standard_normal((128, 128, 3))).astype(np.float32)  # std about 5/255
    assert invalid_reasons(as_pixels(image)) == ()


def test_as_pixels_rejects_what_it_cannot_measure() -> None:
    with pytest.raises(QAUsageError, match="shape"):
        as_pixels(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(QAUsageError, match="PIL image"):
        as_pixels("image.png")
    with pytest.raises(QAUsageError, match="int64"):
        as_pixels(np.zeros((16, 16, 3), np.int64))
