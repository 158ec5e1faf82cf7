"""VRAM verdicts on plain values: a scenario's peaks against its ceilings, the card and the baseline;
memory by stage with no growth over back-to-back images."""

from __future__ import annotations

from check_values import CASE, GIB, budgets, result

from zimage_qa.checks.memory import stages_and_card_verdict, stages_verdict, vram_peak_verdict
from zimage_qa.config import Thresholds
from zimage_qa.identity import Deployment
from zimage_qa.measure.baseline import Baseline, BaselineEntry
from zimage_qa.measure.memory import MemoryReading, PeakMemory, SessionPeak
from zimage_qa.measure.scenario import BackToBack
from zimage_qa.verdict import Status

WHERE = ("synthetic", "NVIDIA H100 80GB HBM3", 500 * 2**20, {"variant": "eager"})
PEAK = PeakMemory(allocated_bytes=20 * GIB, reserved_bytes=22 * GIB, nvml_bytes=23 * GIB)


def test_peaks_within_the_ceiling_pass_naming_both() -> None:
    verdict = vram_peak_verdict(result([1.0], peak=PEAK), CASE, budgets(reserved_gib=24), None, None, WHERE)
    assert verdict.status is Status.PASSED, verdict.message
    assert (
        "within reserved <= 24.00 GiB" in verdict.message and "of which the CUDA context" in verdict.message
    )
    assert verdict.values["budget"] == "reserved <= 24.00 GiB" and verdict.values["variant"] == "eager"


def test_a_peak_over_its_ceiling_fails() -> None:
    verdict = vram_peak_verdict(result([1.0], peak=PEAK), CASE, budgets(reserved_gib=21), None, None, WHERE)
    assert verdict.status is Status.FAILED and "21.00 GiB" in verdict.message


def test_without_a_ceiling_card_or_baseline_the_peak_is_measured_not_judged() -> None:
    verdict = vram_peak_verdict(result([1.0], peak=PEAK), CASE, None, None, None, WHERE)
    assert verdict.status is Status.NOT_RUN and "no VRAM ceiling for 1024-simple" in verdict.message


def test_the_card_alone_judges_a_peak_that_does_not_fit() -> None:
    verdict = vram_peak_verdict(result([1.0], peak=PEAK), CASE, None, None, 16 * GIB, WHERE)
    assert verdict.status is Status.FAILED and "does not fit a 16.00 GiB card" in verdict.message


def test_a_peak_grown_past_the_baseline_fails() -> None:
    entry = BaselineEntry(
        CASE.id,
        "test_latency[1024-simple]",
        (1.0, 1.0),
        {"peak_reserved_gib": 20.0},
        9,
        "NVIDIA H100 80GB HBM3",
        "synthetic",
        {},
        Deployment((), ()),
        "base.json",
        None,
    )
    baseline = Baseline({CASE.id: entry}, ("base.json",))
    verdict = vram_peak_verdict(result([1.0], peak=PEAK), CASE, None, baseline, None, WHERE)
    assert verdict.status is Status.FAILED and "uses more memory than its baseline" in verdict.message


def test_no_allocator_peaks_are_not_judged() -> None:
    verdict = vram_peak_verdict(result([1.0]), CASE, budgets(reserved_gib=24), None, None, WHERE)
    assert verdict.status is Status.NOT_RUN and "no CUDA device" in verdict.message


IDLE = MemoryReading(0, 0, 500 * 2**20)
LOADED = MemoryReading(12 * GIB, 12 * GIB, 13 * GIB)


def images(after: tuple[int, ...]) -> BackToBack:
    return BackToBack(12 * GIB, after, result([1.0, 1.0], peak=PEAK))


def test_flat_memory_over_back_to_back_images_passes_with_the_stage_table() -> None:
    verdict = stages_verdict(CASE, images((12 * GIB,) * 8), (IDLE, LOADED, LOADED), None, Thresholds())
    assert verdict.status is Status.PASSED, verdict.message
    assert verdict.message.startswith("1024-simple x8: no growth") and "allocated" in verdict.message
    assert "stages" in verdict.values


def test_memory_that_grows_each_image_fails() -> None:
    growing = tuple(12 * GIB + k * 80 * 2**20 for k in range(1, 9))
    verdict = stages_verdict(CASE, images(growing), (IDLE, LOADED, LOADED), None, Thresholds())
    assert verdict.status is Status.FAILED, verdict.message


def test_memory_by_stage_needs_allocator_readings() -> None:
    verdict = stages_verdict(CASE, images((0,) * 8), (None, LOADED, LOADED), None, Thresholds())
    assert verdict.status is Status.NOT_RUN and "needs CUDA allocator readings" in verdict.message


def test_the_session_card_joins_the_leak_verdict_only_with_a_card() -> None:
    own = stages_verdict(CASE, images((12 * GIB,) * 8), (IDLE, LOADED, LOADED), None, Thresholds())
    session = SessionPeak("cpu")
    assert stages_and_card_verdict(own, None, session) is own
    with_card = stages_and_card_verdict(own, 16 * GIB, session)
    assert with_card.status is Status.NOT_RUN and "not judged for the session" in with_card.message
