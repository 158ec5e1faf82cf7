"""Golden checks on a model of plain parts and a golden folder of the test's own: no set is not run, an
update to all writes and passes, the same picture passes, a changed one fails naming the record; one case
twice must give the same picture."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from check_values import Pipe, model, noise

from zimage_qa.checks.golden import GoldenRun, determinism_verdict, golden_store, golden_verdict
from zimage_qa.config import Case
from zimage_qa.errors import InvalidPicture
from zimage_qa.golden.outcome import GoldenUpdate
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.verdict import Status

CASE = Case("cat", "a cat", 256, 256, 9, 42, 9)


def run(tmp_path: Path, update: GoldenUpdate = GoldenUpdate.OFF) -> GoldenRun:
    return GoldenRun("reference", "cpu", 0.0, Thresholds(), tmp_path / "report", update, {"variant": "eager"})


def test_the_store_is_filed_by_profile_variant_and_device_class(tmp_path: Path) -> None:
    assert golden_store(tmp_path, "reference", "eager", "cpu").folder == tmp_path / "reference" / "cpu"
    compiled = golden_store(tmp_path, "synthetic", "compile", "nvidia-h100")
    assert (compiled.profile, compiled.device_class) == ("synthetic+compile", "nvidia-h100")


def test_no_golden_set_is_not_run_and_says_where_it_looked(tmp_path: Path) -> None:
    store = golden_store(tmp_path, "reference", "eager", "cpu")
    verdict = golden_verdict(model(), store, CASE, run(tmp_path))
    assert verdict.status is Status.NOT_RUN and str(store.folder) in verdict.message


def test_a_blessed_picture_passes_and_a_changed_one_fails(tmp_path: Path) -> None:
    store = golden_store(tmp_path, "reference", "eager", "cpu")
    written = golden_verdict(model(), store, CASE, run(tmp_path, GoldenUpdate.ALL))
    assert written.status is Status.PASSED and "rewrote golden record" in written.message
    same = golden_verdict(model(), store, CASE, run(tmp_path))
    assert same.status is Status.PASSED and same.message.startswith("same as")
    moved = Pipe(picture=lambda s, w, h, n: noise(s + 1, w, h))
    changed = golden_verdict(model(moved), store, CASE, run(tmp_path))
    assert changed.status is Status.FAILED and "cat regressed against" in changed.message
    assert Path(changed.artefacts["obtained"]).is_file()


def test_a_record_made_with_other_steps_fails_before_any_comparison(tmp_path: Path) -> None:
    store = golden_store(tmp_path, "reference", "eager", "cpu")
    golden_verdict(model(), store, CASE, run(tmp_path, GoldenUpdate.ALL))
    verdict = golden_verdict(model(), store, replace(CASE, steps=6), run(tmp_path))
    assert verdict.status is Status.FAILED and "steps" in verdict.message


def test_an_invalid_picture_is_never_blessed(tmp_path: Path) -> None:
    store = golden_store(tmp_path, "reference", "eager", "cpu")
    flat = Pipe(picture=lambda s, w, h, n: np.full((h, w, 3), 128, np.uint8))
    with pytest.raises(InvalidPicture, match=r"invalid picture for cat: .*flat"):  # the check's failure
        golden_verdict(model(flat), store, CASE, run(tmp_path, GoldenUpdate.ALL))
    assert not store.exists()


def test_pictures_of_random_weights_are_not_judged(tmp_path: Path) -> None:
    store = golden_store(tmp_path, "synthetic", "eager", "cpu")
    verdict = golden_verdict(model(), store, CASE, replace(run(tmp_path), judged_for_looks=False))
    assert verdict.status is Status.NOT_RUN and "synthetic" in verdict.message


def test_one_case_twice_is_the_same_picture_or_the_check_fails() -> None:
    assert determinism_verdict(model(), [CASE], 0.0).status is Status.PASSED
    drifting = Pipe(picture=lambda s, w, h, n: noise(s + n, w, h))
    verdict = determinism_verdict(model(drifting), [CASE], 0.0)
    assert verdict.status is Status.FAILED and "nondeterministic on cpu" in verdict.message
    assert determinism_verdict(model(), [], 0.0).status is Status.NOT_RUN
