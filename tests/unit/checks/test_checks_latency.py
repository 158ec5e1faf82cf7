"""Latency verdicts on plain values: the scenario's measured rounds with its questions, the cold start
against its budgets, the budget update that is never green, and the drift images read from timings."""

from __future__ import annotations

from pathlib import Path

import pytest
from check_values import CASE, POLICY, budgets, result

from zimage_qa.checks.latency import (
    budget_written,
    cold_start_verdict,
    drift_images,
    latency_info,
    latency_questions,
    latency_verdict,
    updates_budget,
)
from zimage_qa.measure.probe import HostState
from zimage_qa.measure.rounds import Measurement, Rounds
from zimage_qa.measure.stages import GenerationTiming
from zimage_qa.verdict import Status, Verdict

WHERE = ("reference", "cpu", Path("qa-report"))


def judged(times_s: list[float], median_s: float = 1.6, nfe: int = 9) -> Verdict:
    """The verdict on `times_s` as the runner would hand them in, each question having looked at them."""
    measured = result(times_s, nfe=nfe)
    questions = latency_questions(CASE, POLICY, budgets(median_s, 2.0), None, 0.05, WHERE)
    for q in questions[1]:
        q.look(Rounds(tuple(times_s), None), final=True)
    log = Measurement(looks=1, stopped="decided")
    info = latency_info(measured, POLICY, log, ("cpu", "reference"), {"variant": "eager"}, ())
    return latency_verdict(measured, log, CASE, POLICY, questions, budgets(median_s, 2.0), info)


def test_rounds_within_the_budget_pass_with_the_record_values() -> None:
    verdict = judged([1.0, 1.02, 0.98, 1.01, 1.0])
    assert verdict.status is Status.PASSED, verdict.message
    assert verdict.values["variant"] == "eager" and verdict.values["nfe"] == 9
    assert verdict.values["budget"].startswith("p50 <= 1.60 s")
    assert "rounds_s" not in verdict.values and "warnings" not in verdict.values


def test_rounds_over_the_budget_fail() -> None:
    verdict = judged([1.8, 1.82, 1.79, 1.81, 1.8])
    assert verdict.status is Status.FAILED and "1.60 s" in verdict.message


def test_another_forward_count_fails_and_keeps_no_budget() -> None:
    verdict = judged([1.0, 1.0, 1.0], nfe=8)
    assert verdict.status is Status.FAILED and "DiT forwards" in verdict.message
    assert not updates_budget(verdict)
    assert updates_budget(judged([1.8, 1.82, 1.79, 1.81, 1.8]))


def test_fewer_than_two_rounds_are_not_judged() -> None:
    questions = latency_questions(CASE, POLICY, None, None, 0.05, WHERE)
    verdict = latency_verdict(result([1.0]), Measurement(), CASE, POLICY, questions, None, {})
    assert verdict.status is Status.NOT_RUN and "fewer than 2 rounds" in verdict.message
    assert latency_verdict(None, Measurement(), CASE, POLICY, questions, None, {}).status is Status.NOT_RUN


def test_a_budget_update_fails_naming_the_file_with_the_values() -> None:
    verdict = budget_written(
        Verdict.passed("fine", median_s=1.0), "budget for x", Path("golden/budgets.toml")
    )
    assert verdict.status is Status.FAILED
    assert verdict.message.startswith("--qa-update-budgets: budget for x goes to golden/budgets.toml")
    assert verdict.values == {"median_s": 1.0}


def test_cold_start_within_its_budgets_passes() -> None:
    verdict = cold_start_verdict(10.0, 2.0, None, budgets(load_s=20.0, first_image_s=3.0), WHERE)
    assert verdict.status is Status.PASSED and verdict.message == "load 10.00 s, first image 2.00 s"
    assert verdict.values["budget"] == "load <= 20.00 s, first image <= 3.00 s"


def test_cold_start_over_a_budget_fails_with_both_values_and_the_hint() -> None:
    verdict = cold_start_verdict(
        10.0, 4.0, 1.0, budgets(load_s=20.0, first_image_s=3.0, compile_s=2.0), WHERE
    )
    assert verdict.status is Status.FAILED
    assert "first image 4.00 s > budget 3.00 s (+33.3 %)" in verdict.message
    assert "see qa-report/index.html" in verdict.message and verdict.values["compile_s"] == 1.0


def test_cold_start_without_a_budget_or_a_first_image_is_not_judged() -> None:
    unbudgeted = cold_start_verdict(10.0, 2.0, None, None, WHERE)
    assert (
        unbudgeted.status is Status.NOT_RUN
        and "no cold-start budget for reference on cpu" in unbudgeted.message
    )
    assert cold_start_verdict(10.0, None, None, budgets(load_s=20.0), WHERE).status is Status.NOT_RUN


def test_cold_start_under_an_update_fails_naming_the_file() -> None:
    verdict = cold_start_verdict(10.0, 2.0, None, budgets(load_s=1.0), WHERE, Path("b.toml"))
    assert verdict.status is Status.FAILED and verdict.message.endswith("goes to b.toml")


def test_drift_images_carry_totals_transfers_and_host_slow_marks() -> None:
    timings = (
        GenerationTiming(1500.0, {"denoise": 1000.0, "transfer": 400.0}, 9),
        GenerationTiming(1600.0, {"denoise": 1000.0, "transfer": 500.0}, 9),
    )
    host = HostState((10.0, 30.0), 10.0, "this session")
    images = drift_images(timings, host)
    assert [i.total_s for i in images] == [1.5, 1.6]
    assert [i.transfer_s for i in images] == [0.4, 0.5] and [i.host_slow for i in images] == [False, True]
    assert [i.work_s for i in drift_images(timings[:1], None)] == [pytest.approx(1.1)]
