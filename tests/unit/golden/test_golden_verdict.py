from __future__ import annotations

import numpy as np
import pytest
from golden_labelled_set import REGRESSED_KINDS, SAME_KINDS, load_photo
from heldout_scenes import scene

from zimage_qa.errors import QAUsageError
from zimage_qa.golden.outcome import Likeness, Measure
from zimage_qa.golden.record import GoldenCase, GoldenRecord, make_record
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.golden.verdict import compare


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    loaded: np.ndarray = load_photo("coffee")
    return loaded


@pytest.fixture(scope="module")
def record(photo: np.ndarray) -> GoldenRecord:
    return make_record(photo, GoldenCase("coffee", 512, 512, prompt="a cup", seed=1, steps=9))


def test_the_same_image_is_same_with_every_measure_passing(record: GoldenRecord, photo: np.ndarray) -> None:
    verdict = compare(record, photo)
    assert verdict.same
    assert verdict.status is Likeness.SAME
    assert verdict.reasons == ()
    assert all(m.passed for m in verdict.measures)
    phash = verdict.get("phash")
    assert phash is not None
    assert phash.value == 0


def test_a_colour_swap_regresses_with_readable_reasons(record: GoldenRecord, photo: np.ndarray) -> None:
    verdict = compare(record, photo[:, :, ::-1].copy())
    assert not verdict.same
    assert verdict.status is Likeness.REGRESSED
    limit = f" > {Thresholds().colour_shift:g}"
    assert any(r.startswith("colour shift: mean Lab ΔE ") and r.endswith(limit) for r in verdict.reasons)
    assert verdict.summary().startswith("regressed: ")


@pytest.fixture(scope="module")
def grey_photo() -> np.ndarray:
    loaded: np.ndarray = load_photo("camera")
    return loaded


@pytest.mark.parametrize("kind", ["noise 2/255", "noise 4/255", "noise 3/255 + jpeg q85", "jpeg q80"])
def test_rerun_noise_on_a_grey_photo_is_same(grey_photo: np.ndarray, kind: str) -> None:
    record = make_record(grey_photo, GoldenCase("camera", 512, 512))
    verdict = compare(record, SAME_KINDS[kind](grey_photo, np.random.default_rng(7)))
    assert verdict.same, verdict.summary()


@pytest.mark.parametrize("size", [256, 1024])
def test_rerun_noise_on_ink_and_night_is_same_at_any_size(size: int) -> None:
    for name in ("ink on paper", "night street"):
        golden = scene(name, size, size)
        noisy = SAME_KINDS["noise 4/255"](golden, np.random.default_rng(size))
        verdict = compare(make_record(golden, GoldenCase(name, size, size)), noisy)
        assert verdict.same, f"{name} at {size}: {verdict.summary()}"


@pytest.mark.parametrize("kind", ["sepia toned", "warm cast", "green cast"])
def test_a_grey_photo_turned_colour_regresses(grey_photo: np.ndarray, kind: str) -> None:
    record = make_record(grey_photo, GoldenCase("camera", 512, 512))
    verdict = compare(record, REGRESSED_KINDS[kind](grey_photo, np.random.default_rng(0)))
    assert not verdict.same
    assert {"saturation", "hue"} & {m.name for m in verdict.measures if not m.passed}


def test_a_desaturated_colour_photo_regresses_on_saturation(record: GoldenRecord, photo: np.ndarray) -> None:
    for kind in ("desaturated", "half desaturated"):
        verdict = compare(record, REGRESSED_KINDS[kind](photo, np.random.default_rng(0)))
        saturation = verdict.get("saturation")
        assert saturation is not None
        assert not saturation.passed, kind


def test_a_black_image_is_invalid_before_any_hashing(record: GoldenRecord) -> None:
    verdict = compare(record, np.zeros((512, 512, 3), np.uint8))
    assert verdict.status is Likeness.INVALID
    assert not verdict.same
    assert verdict.get("phash") is None
    assert verdict.reasons[0].startswith("black:")


def test_nan_output_is_invalid(record: GoldenRecord, photo: np.ndarray) -> None:
    image = photo / 255.0
    image[100:110, :, 1] = np.nan
    verdict = compare(record, image)
    assert verdict.status is Likeness.INVALID
    assert verdict.reasons == ("non-finite: NaN or infinite pixel values 5120 > 0",)


def test_another_size_regresses(record: GoldenRecord, photo: np.ndarray) -> None:
    verdict = compare(record, photo[:384])
    size = verdict.get("size")
    assert size is not None
    assert not size.passed
    assert "512x512, got 512x384" in size.reason()


def test_thresholds_change_the_verdict(record: GoldenRecord, photo: np.ndarray) -> None:
    blurred = REGRESSED_KINDS["blur 2px"](photo, np.random.default_rng(0))
    assert not compare(record, blurred).same
    lenient = Thresholds.from_mapping({"sharpness": 5, "structure": 0.5, "local_colour": 10, "hue": 1})
    assert compare(record, blurred, lenient).same


def test_thresholds_from_config_reject_unknown_keys_and_non_numbers() -> None:
    assert Thresholds.from_mapping(None) == Thresholds()
    assert Thresholds.from_mapping({"phash": 12}).phash == 12.0
    with pytest.raises(QAUsageError, match=r"unknown golden threshold\(s\) phsh .*use .*phash"):
        Thresholds.from_mapping({"phsh": 12})
    with pytest.raises(QAUsageError, match="is not a number"):
        Thresholds.from_mapping({"phash": "12"})
    with pytest.raises(QAUsageError, match=">= 0"):
        Thresholds(noise=-1.0)


def test_measure_reason_and_dict() -> None:
    measure = Measure("colour shift", 14.2, 6.0, False, what="mean Lab ΔE")
    assert measure.reason() == "colour shift: mean Lab ΔE 14.2 > 6"
    assert measure.to_dict() == {
        "name": "colour shift",
        "value": 14.2,
        "threshold": 6.0,
        "bound": "max",
        "passed": False,
        "what": "mean Lab ΔE",
    }
