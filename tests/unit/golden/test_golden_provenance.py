"""Provenance: a record says how its picture was made, and a case asking otherwise fails with the reason."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from golden_labelled_set import load_photo

from zimage_qa.golden.record import (
    GoldenCase,
    GoldenRecord,
    make_record,
    provenance_verdict,
    scheduler_settings,
)
from zimage_qa.verdict import Status

CASE = GoldenCase(
    "apple-s42",
    512,
    512,
    prompt="A red apple on a table",
    seed=42,
    steps=8,
    dtype="float32",
    guidance=0.0,
    scheduler="FlowMatchEulerDiscreteScheduler",
    scheduler_settings={"shift": 3.0, "use_dynamic_shifting": False},
    model="reference",
    device_class="cpu",
)


@pytest.fixture(scope="module")
def record() -> GoldenRecord:
    return make_record(load_photo("astronaut"), CASE)


def test_the_provenance_round_trips_through_json(record: GoldenRecord) -> None:
    again = GoldenRecord.from_json(record.to_json())
    assert again.case == CASE
    assert json.loads(record.to_json())["case"]["scheduler_settings"] == {
        "shift": 3.0,
        "use_dynamic_shifting": False,
    }


def test_the_same_settings_pass(record: GoldenRecord) -> None:
    assert provenance_verdict(record, CASE) is None


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"steps": 6}, "record made with steps 8, the case asks 6"),
        ({"seed": 7}, "record made with seed 42, the case asks 7"),
        (
            {"prompt": "A green pear"},
            "record made with prompt 'A red apple on a table', the case asks 'A green pear'",
        ),
        ({"width": 768}, "record made at 512x512, the case asks 768x512"),
        ({"dtype": "bfloat16"}, "record made with dtype float32, the case asks bfloat16"),
        ({"guidance": 1.5}, "record made with guidance 0, the case asks 1.5"),
        (
            {"scheduler": "EulerDiscreteScheduler"},
            "record made with scheduler FlowMatchEulerDiscreteScheduler, the case",
        ),
        (
            {"scheduler_settings": {"shift": 3.3, "use_dynamic_shifting": False}},
            "record made with scheduler shift=3, the case asks 3.3",
        ),
        (
            {"model": "Tongyi-MAI/Z-Image-Turbo"},
            "record made with model reference, the case asks Tongyi-MAI/Z-Image-Turbo",
        ),
        (
            {"device_class": "nvidia-h100-80gb-hbm3"},
            "record made with device class cpu, the case asks nvidia-h100",
        ),
    ],
)
def test_each_difference_fails_with_both_values_and_the_fix(
    record: GoldenRecord, change: dict[str, object], sentence: str
) -> None:
    verdict = provenance_verdict(record, replace(CASE, **change), "golden/reference/cpu/apple-s42.json")  # type: ignore[arg-type]
    assert verdict is not None
    assert verdict.status is Status.FAILED
    assert sentence in verdict.message
    assert "golden/reference/cpu/apple-s42.json" in verdict.message
    assert verdict.message.endswith("rebless with `--qa-update-golden` if intended")
    assert len(verdict.values["differences"]) == 1


def test_several_differences_are_all_named(record: GoldenRecord) -> None:
    verdict = provenance_verdict(record, replace(CASE, steps=9, dtype="bfloat16"))
    assert verdict is not None
    assert (
        "steps 8, the case asks 9" in verdict.message
        and "dtype float32, the case asks bfloat16" in verdict.message
    )


def test_a_record_without_provenance_fails_and_says_to_regenerate(record: GoldenRecord) -> None:
    document = json.loads(record.to_json())
    document["schema_version"] = 1
    document["case"] = {
        k: document["case"][k] for k in ("case_id", "width", "height", "prompt", "seed", "steps")
    }
    document.pop("preview_jpeg")
    old = GoldenRecord.from_json(json.dumps(document))
    verdict = provenance_verdict(old, CASE)
    assert verdict is not None and verdict.status is Status.FAILED
    assert "has no provenance" in verdict.message and "--qa-update-golden=all" in verdict.message


def test_a_case_that_sets_no_provenance_compares_only_what_it_sets(record: GoldenRecord) -> None:
    plain = GoldenCase("apple-s42", 512, 512, prompt="A red apple on a table", seed=42, steps=8)
    assert provenance_verdict(record, plain) is None
    verdict = provenance_verdict(record, replace(plain, steps=6))
    assert verdict is not None and "record made with steps 8, the case asks 6" in verdict.message


def test_scheduler_settings_are_the_json_scalars_of_its_config() -> None:
    from diffusers import FlowMatchEulerDiscreteScheduler

    settings = scheduler_settings(FlowMatchEulerDiscreteScheduler(shift=3.0))
    assert settings["shift"] == 3.0 and settings["use_dynamic_shifting"] is False
    assert not any(key.startswith("_") for key in settings)
    assert scheduler_settings(FlowMatchEulerDiscreteScheduler(shift=3.3))["shift"] == 3.3
