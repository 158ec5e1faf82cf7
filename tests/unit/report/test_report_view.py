"""The view model: order, counts, stage bars, and records whose values are missing or malformed."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_records import gate_records, latency_values, vram_stages

from zimage_qa.records import CheckRecord, Family
from zimage_qa.report import details
from zimage_qa.report.page import render_page
from zimage_qa.report.view import OUTCOME_ORDER, build_view
from zimage_qa.values import FamilyValues, Memory
from zimage_qa.verdict import Status


def record(
    family: Family,
    outcome: Status,
    case: str = "c",
    values: dict[str, object] | None = None,
    message: str = "",
) -> CheckRecord:
    return CheckRecord(family, f"tests/gate/t.py::test[{case}]", case, outcome, message, values or {})


def test_rows_are_ordered_failed_unstable_not_run_passed_then_by_case() -> None:
    records = [record(Family.LATENCY, o, f"{o.name}-{i}") for i in (2, 1) for o in Status]
    view = build_view(records, Path("."))
    outcomes = [r.record.outcome for r in view.rows]
    assert outcomes == [o for o in OUTCOME_ORDER for _ in (1, 2)]
    assert [r.record.case for r in view.rows][:2] == ["FAILED-1", "FAILED-2"]


def test_families_with_a_failure_come_first_and_empty_ones_are_left_out() -> None:
    records = [
        record(Family.GUARD, Status.PASSED),
        record(Family.GLYPH, Status.NOT_RUN),
        record(Family.VRAM, Status.FAILED),
    ]
    view = build_view(records, Path("."))
    assert [f.family for f in view.families] == [Family.VRAM, Family.GLYPH, Family.GUARD]
    assert view.verdict == "bad" and view.headline == "1 failed, 1 not run, 1 passed"


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        ((Status.PASSED,), "good"),
        ((Status.PASSED, Status.NOT_RUN), "warn"),
        ((Status.UNSTABLE,), "warn"),
        ((), "none"),
    ],
)
def test_the_headline_badge(outcomes: tuple[Status, ...], verdict: str) -> None:
    assert (
        build_view([record(Family.GUARD, o, str(i)) for i, o in enumerate(outcomes)], Path(".")).verdict
        == verdict
    )


def test_stage_bars_share_one_scale_per_family() -> None:
    fast = record(Family.LATENCY, Status.PASSED, "fast", latency_values(1.0, 400.0))
    slow = record(Family.LATENCY, Status.PASSED, "slow", latency_values(2.0, 1800.0))
    bars = {r.record.case: r.stage_bar for r in build_view([fast, slow], Path(".")).rows}
    assert bars["slow"] is not None and bars["fast"] is not None
    assert sum(s.percent for s in bars["slow"].segments) == pytest.approx(100.0)
    assert sum(s.percent for s in bars["fast"].segments) == pytest.approx(50.0)
    assert [s.name for s in bars["fast"].segments] == ["text_encode", "denoise", "vae_decode", "other"]


def test_family_readers() -> None:
    lat = latency_values(1.394, 1237.0)
    typed = FamilyValues.read(lat)
    roof = details.roofline(typed.timing.roofline)
    assert (
        roof is not None
        and roof.percent == pytest.approx(46.1)
        and roof.tflop_per_forward == pytest.approx(55.6)
    )
    assert details.gpu_line(typed.timing.gpu_state) == (
        "NVIDIA H100 80GB HBM3 (throttled): 61 °C, SM 1965/1980 MHz, 650/700 W, clock events: sw power cap"
    )
    rows = details.vram_rows(Memory.read({"stages": vram_stages()}))
    assert [r.stage for r in rows] == ["idle", "after load", "during generation (peak)", "after generation"]
    assert rows[2].device == "25.65 GiB" and rows[0].allocated == "0 B"
    assert details.measured(record(Family.LATENCY, Status.PASSED, values=lat)) == (
        "median 1.39 s, worst 1.42 s, 9 DiT forwards"
    )
    cold = record(Family.LATENCY, Status.PASSED, values={"load_s": 12.0, "first_image_s": 3.7})
    assert details.measured(cold) == "load 12.00 s, first image 3.70 s"
    drift = record(
        Family.LATENCY, Status.PASSED, values={"times_s": [1, 1, 1], "creep": 0.01, "max_jitter_ms": 5}
    )
    assert details.measured(drift) == "3 images, creep +1.0 %, max jitter 5.00 ms"
    peak = record(Family.VRAM, Status.PASSED, values={"peak_allocated_bytes": 2**30, "peak_nvml_bytes": None})
    assert details.measured(peak) == "peak allocated 1.00 GiB"
    guard = record(Family.GUARD, Status.PASSED, values={"nfe": 9, "steps": 9, "long": "x" * 100})
    assert details.measured(guard) == "nfe 9, steps 9"


@pytest.mark.parametrize(
    "values",
    [
        {"stages_ms": "fast", "roofline": [1], "gpu_state": 3, "stages": {"idle": "x"}, "median_s": "1"},
        {"stages_ms": {"denoise": float("nan")}, "roofline": {"achieved_tflops": 1, "peak_tflops": 0}},
        {"expected": None, "read": 5, "precision": "high", "doubts": "x", "engine_info": ["r"]},
        {"budget": {"p50": "1.6 s"}, "times_s": "many", "phash": True},
    ],
)
def test_malformed_values_render_without_raising(values: dict[str, object], tmp_path: Path) -> None:
    records = [record(f, Status.FAILED, f.value, values) for f in Family]
    page = render_page(build_view(records, tmp_path, fingerprint={"gpus": "none", "x": [1]}))
    assert page.count('class="case o-failed"') == len(Family)


def test_anchors_are_unique_and_safe(tmp_path: Path) -> None:
    view = build_view(gate_records(tmp_path) * 2, tmp_path)
    anchors = [r.anchor for r in view.rows]
    assert len(set(anchors)) == len(anchors)
    assert all(a.replace("-", "").replace("_", "").replace(".", "").isalnum() for a in anchors)
