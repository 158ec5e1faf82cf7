"""The end-of-run lines: counts per family, and the golden records an update wrote, by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zimage_qa.golden.gate import update_golden
from zimage_qa.golden.outcome import GoldenUpdate
from zimage_qa.golden.record import GoldenCase
from zimage_qa.golden.store import GoldenStore
from zimage_qa.records import CheckRecord, Family
from zimage_qa.summary import GateResults
from zimage_qa.verdict import Status

CASE = GoldenCase(
    "apple-s42",
    64,
    64,
    prompt="p",
    seed=42,
    steps=8,
    dtype="float32",
    guidance=0.0,
    scheduler="FlowMatchEulerDiscreteScheduler",
    scheduler_settings={"shift": 3.0},
    model="reference",
    device_class="cpu",
)


def picture() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)


def golden(case: str, outcome: Status, values: dict[str, object]) -> CheckRecord:
    return CheckRecord(Family.GOLDEN, f"test_golden.py::test_golden_image[{case}]", case, outcome, "", values)


def test_after_an_update_the_summary_names_each_golden_record_written(tmp_path: Path) -> None:
    store = GoldenStore(tmp_path / "golden", "reference", "cpu")
    verdict = update_golden(store, CASE, picture(), GoldenUpdate.ALL, tmp_path / "qa-report")
    assert verdict.status is Status.PASSED
    results = GateResults()
    results.records.append(golden(CASE.case_id, verdict.status, dict(verdict.values)))
    results.records.append(golden("garden-s7", Status.PASSED, {}))  # compared, nothing written
    assert results.summary_lines(cwd=tmp_path) == [
        "golden: 2 passed, 0 failed",
        "    wrote: golden/reference/cpu/apple-s42.json",
    ]


def test_a_record_written_outside_the_current_folder_keeps_its_full_path(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "golden" / "a.json"
    results = GateResults([golden("a", Status.FAILED, {"record_written": str(outside)})])
    assert results.summary_lines(cwd=tmp_path / "project") == [
        "golden: 0 passed, 1 failed",
        f"    wrote: {outside}",
    ]


def test_a_run_that_wrote_nothing_names_nothing(tmp_path: Path) -> None:
    results = GateResults([golden("a", Status.PASSED, {"phash": 0}), golden("b", Status.FAILED, {})])
    assert results.summary_lines(cwd=tmp_path) == ["golden: 1 passed, 1 failed"]
