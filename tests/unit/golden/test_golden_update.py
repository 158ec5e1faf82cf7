"""Updates a reviewer can review: the old record is read first, and every write leaves old, new and diff."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from golden_labelled_set import load_photo
from PIL import Image

from zimage_qa.golden.gate import golden_verdict, update_golden
from zimage_qa.golden.outcome import GoldenUpdate
from zimage_qa.golden.record import GoldenCase, GoldenRecord, make_record
from zimage_qa.golden.store import GoldenStore
from zimage_qa.verdict import Status

CASE = GoldenCase(
    "astro",
    512,
    512,
    prompt="p",
    seed=1,
    steps=8,
    dtype="float32",
    guidance=0.0,
    scheduler="FlowMatchEulerDiscreteScheduler",
    scheduler_settings={"shift": 3.0},
    model="reference",
    device_class="cpu",
)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    loaded: np.ndarray = load_photo("astronaut")
    return loaded


@pytest.fixture
def store(tmp_path: Path, photo: np.ndarray) -> GoldenStore:
    store = GoldenStore(tmp_path / "golden", "reference", "cpu")
    store.write(CASE.case_id, make_record(photo, CASE))
    return store


def changed(photo: np.ndarray) -> np.ndarray:
    out = photo.copy()
    out[:200, :200] = (255, 0, 255)
    return out


def picture(path: str) -> np.ndarray:
    with Image.open(path) as handle:
        return np.asarray(handle.convert("RGB"))


def test_changed_mode_writes_a_changed_picture_fails_and_shows_the_old_one(
    store: GoldenStore, photo: np.ndarray, tmp_path: Path
) -> None:
    verdict = update_golden(store, CASE, changed(photo), GoldenUpdate.CHANGED, tmp_path / "report")
    assert verdict.status is Status.FAILED
    assert "astro: changed (" in verdict.message and "wrote the new golden record" in verdict.message
    assert set(verdict.artefacts) == {"expected", "obtained", "diff"}
    old, new = picture(verdict.artefacts["expected"]), picture(verdict.artefacts["obtained"])
    assert old[:20, :20].mean(axis=(0, 1))[1] > 40  # the old picture, not the new magenta corner
    assert (new[:100, :100] == (255, 0, 255)).all()
    heat = picture(verdict.artefacts["diff"])[:, 2 * (256 + 4) :]
    assert heat[:64, :64].mean() > 100 > heat[-64:, -64:].mean()  # the difference is not zero
    stored = store.load(CASE.case_id)
    assert stored is not None and stored.measures != make_record(photo, CASE).measures


def test_changed_mode_leaves_a_same_picture_alone(
    store: GoldenStore, photo: np.ndarray, tmp_path: Path
) -> None:
    before = store.path(CASE.case_id).read_bytes()
    verdict = update_golden(store, CASE, photo, GoldenUpdate.CHANGED, tmp_path / "report")
    assert verdict.status is Status.PASSED and "nothing written" in verdict.message
    assert store.path(CASE.case_id).read_bytes() == before


def test_changed_mode_rewrites_a_record_of_other_provenance(
    store: GoldenStore, photo: np.ndarray, tmp_path: Path
) -> None:
    verdict = update_golden(store, replace(CASE, steps=6), photo, GoldenUpdate.CHANGED, tmp_path / "r")
    assert verdict.status is Status.FAILED
    assert "provenance changed" in verdict.message and "steps 8, the case asks 6" in verdict.message
    stored = store.load(CASE.case_id)
    assert stored is not None and stored.case.steps == 6


def test_all_mode_rewrites_passes_and_still_saves_old_new_and_diff(
    store: GoldenStore, photo: np.ndarray, tmp_path: Path
) -> None:
    verdict = update_golden(store, CASE, changed(photo), GoldenUpdate.ALL, tmp_path / "report")
    assert verdict.status is Status.PASSED
    assert verdict.message.startswith("rewrote golden record") and "changed (" in verdict.message
    assert set(verdict.artefacts) == {"expected", "obtained", "diff"}
    assert all(Path(p).is_file() for p in verdict.artefacts.values())


def test_a_new_record_fails_in_changed_mode_with_only_the_obtained_picture(
    tmp_path: Path, photo: np.ndarray
) -> None:
    store = GoldenStore(tmp_path / "golden", "reference", "cpu")
    verdict = update_golden(store, CASE, photo, GoldenUpdate.CHANGED, tmp_path / "report")
    assert verdict.status is Status.FAILED and "astro: new record; wrote" in verdict.message
    assert set(verdict.artefacts) == {"obtained"}
    assert store.load(CASE.case_id) is not None


def test_an_unreadable_old_record_is_replaced_and_named(
    store: GoldenStore, photo: np.ndarray, tmp_path: Path
) -> None:
    store.path(CASE.case_id).write_text("{ not json")
    verdict = update_golden(store, CASE, photo, GoldenUpdate.ALL, tmp_path / "report")
    assert verdict.status is Status.PASSED and "replaced an unreadable record" in verdict.message
    assert isinstance(store.load(CASE.case_id), GoldenRecord)


def test_an_invalid_picture_is_never_written(store: GoldenStore, tmp_path: Path) -> None:
    before = store.path(CASE.case_id).read_bytes()
    verdict = update_golden(store, CASE, np.zeros((512, 512, 3), np.uint8), GoldenUpdate.ALL, tmp_path / "r")
    assert verdict.status is Status.FAILED and "refusing to make a golden record" in verdict.message
    assert store.path(CASE.case_id).read_bytes() == before


def test_off_mode_is_not_an_update(store: GoldenStore, photo: np.ndarray, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs an update mode"):
        update_golden(store, CASE, photo, GoldenUpdate.OFF, tmp_path)


def test_golden_verdict_passes_same_fails_changed_and_mismatched(
    store: GoldenStore, photo: np.ndarray, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    assert golden_verdict(store, CASE, photo, report).status is Status.PASSED
    regressed = golden_verdict(store, CASE, changed(photo), report)
    assert regressed.status is Status.FAILED and "regressed against" in regressed.message
    assert set(regressed.artefacts) == {"expected", "obtained", "diff"}
    mismatch = golden_verdict(store, replace(CASE, steps=6), photo, report)
    assert mismatch.status is Status.FAILED
    assert "record made with steps 8, the case asks 6" in mismatch.message
    assert "--qa-update-golden" in mismatch.message


def test_golden_verdict_without_a_set_is_not_run_and_a_missing_record_fails(
    tmp_path: Path, store: GoldenStore, photo: np.ndarray
) -> None:
    empty = GoldenStore(tmp_path / "none", "reference", "cpu")
    assert golden_verdict(empty, CASE, photo, tmp_path / "r").status is Status.NOT_RUN
    missing = golden_verdict(store, replace(CASE, case_id="other"), photo, tmp_path / "r")
    assert missing.status is Status.FAILED and "no golden record for other" in missing.message


def test_a_record_is_small_with_its_preview(store: GoldenStore) -> None:
    document = json.loads(store.path(CASE.case_id).read_text())
    assert document["preview_jpeg"] and document["schema_version"] == 2
    assert len(store.path(CASE.case_id).read_text()) < 60_000
