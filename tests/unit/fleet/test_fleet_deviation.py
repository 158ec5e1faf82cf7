"""--each: the card whose medians are off its siblings' is named, and only that one."""

from __future__ import annotations

from zimage_qa.fleet.deviation import deviation_records, deviations
from zimage_qa.records import CheckRecord, Family
from zimage_qa.verdict import Status


def latency(card: str, case: str, median: float, mode: str = "concurrent") -> CheckRecord:
    return CheckRecord(
        Family.LATENCY,
        f"zimage_qa/gate/test_latency.py::test_latency[{case}]",
        case,
        Status.PASSED,
        "",
        {"median_s": median, "card": card, "mode": mode},
    )


def test_the_odd_card_out_of_three_is_named_faster_or_slower() -> None:
    slow = deviations({"GPU 0": 0.43, "GPU 1": 0.47, "GPU 2": 0.432}, "512-simple", 0.05)
    assert [(d.card, round(d.change, 3)) for d in slow] == [("GPU 1", 0.09)]
    fast = deviations({"GPU 0": 1.39, "GPU 1": 1.30, "GPU 2": 1.385}, "1024-simple", 0.05)
    assert [d.card for d in fast] == ["GPU 1"]
    assert deviations({"GPU 0": 1.39, "GPU 1": 1.36, "GPU 2": 1.385}, "1024-simple", 0.05) == []


def test_of_two_cards_the_slower_is_named_and_the_sentence_says_why() -> None:
    found = deviations({"GPU 0": 0.426, "GPU 1": 0.678}, "512-simple", 0.05)
    assert [d.card for d in found] == ["GPU 1"]
    assert "+59.2 %" in found[0].sentence(2) and "cannot be told" in found[0].sentence(2)
    assert deviations({"GPU 0": 0.426, "GPU 1": 0.44}, "512-simple", 0.05) == []


def test_one_record_per_scenario_and_mode() -> None:
    records = [
        latency("GPU 0", "512-simple", 0.43),
        latency("GPU 1", "512-simple", 0.48),
        latency("GPU 0", "1024-simple", 1.39),
        latency("GPU 1", "1024-simple", 1.40),
        latency("GPU 0", "768-simple", 0.80, "solo"),
        latency("GPU 1", "768-simple", 0.80, "concurrent"),
        latency("GPU 0", "2048-simple", 6.5),  # one card only: nothing to compare
        CheckRecord(Family.VRAM, "x", "512-simple", Status.PASSED, "", {"median_s": 9.0, "card": "GPU 1"}),
    ]
    out = {r.case: r for r in deviation_records(records, 0.05)}
    assert set(out) == {"512-simple: cards agree", "1024-simple: cards agree"}  # 768: modes differ
    bad = out["512-simple: cards agree"]
    assert bad.outcome is Status.FAILED and bad.message.startswith("GPU 1 is +11.6 % off its siblings")
    assert bad.values["deviating"] == ["GPU 1"]
    assert out["1024-simple: cards agree"].outcome is Status.PASSED


def sized(card: str, case: str, median: float, width: int, height: int) -> CheckRecord:
    record = latency(card, case, median)
    return CheckRecord(
        record.family,
        record.test_id,
        record.case,
        record.outcome,
        record.message,
        {**record.values, "width": width, "height": height},
    )


def test_launch_bound_sizes_are_not_compared_and_say_why() -> None:
    """512x512 medians of 0.411 and 0.531 s came from two solo runs on ONE H200 (the host CPU's spells):
    naming a card for that would be a false red. 1024x1024 still names a slow card."""
    records = [
        sized("GPU 0", "512-simple", 0.411, 512, 512),
        sized("GPU 1", "512-simple", 0.531, 512, 512),
        sized("GPU 0", "1024-simple", 1.33, 1024, 1024),
        sized("GPU 1", "1024-simple", 1.45, 1024, 1024),
    ]
    out = {r.case: r for r in deviation_records(records, 0.05)}
    small = out["512-simple: cards agree"]
    assert small.outcome is Status.NOT_RUN
    assert "launch-bound" in small.message and "GPU 0 411 ms, GPU 1 531 ms" in small.message
    large = out["1024-simple: cards agree"]
    assert large.outcome is Status.FAILED and large.message.startswith("GPU 1 is +9.0 % off its siblings")
