"""The latency budget asked of rounds as they come in, on plain values: a clear pass decides at once, rounds
over budget fail only when taken at normal host speed, a spread too wide is unstable unless the median's
upper bound clears the budget; the forward count and the stage coverage make a latency comparable."""

from __future__ import annotations

import pytest
from check_values import CASE, POLICY, budgets, result

from zimage_qa.checks.timing import (
    BudgetQuestion,
    budget_question,
    budget_text,
    combine,
    median_upper_bound,
    policy_for,
    shape_verdict,
)
from zimage_qa.config import RunSettings, Thresholds
from zimage_qa.measure.probe import HostState
from zimage_qa.measure.rounds import Measurement, Rounds
from zimage_qa.verdict import Status, Verdict


def question(median_s: float | None = 1.6, worst_s: float | None = 2.0) -> BudgetQuestion:
    return budget_question(budgets(median_s, worst_s), CASE, POLICY, "cpu", "see qa-report", "reference")


def test_rounds_well_under_the_budget_are_a_clear_pass_at_the_first_look() -> None:
    q = question()
    assert q.look(Rounds((1.0, 1.01, 0.99), None), final=False)
    verdict = q.verdict()
    assert verdict.status is Status.PASSED and "within budget" in verdict.message


def test_rounds_over_the_median_budget_fail_with_both_values() -> None:
    q = question()
    rounds = Rounds((1.80, 1.82, 1.79, 1.81, 1.80), None)
    assert q.look(rounds, final=False)  # enough rounds (POLICY.rounds) to decide
    verdict = q.verdict()
    assert verdict.status is Status.FAILED
    assert "1.80 s" in verdict.message and "1.60 s" in verdict.message


def test_close_rounds_are_not_decided_before_the_configured_rounds() -> None:
    q = question()
    assert not q.look(Rounds((1.55, 1.50, 1.52), None), final=False)  # not clear: under 95 % of 1.6 s fails
    assert q.look(Rounds((1.55, 1.50, 1.52), None), final=True)


def test_rounds_the_host_ran_slow_are_set_aside_and_never_fail() -> None:
    host = HostState((10.0, 30.0, 31.0, 10.0, 10.0), 10.0, "this session")
    slow_over = Rounds((1.5, 2.5, 2.6, 1.5, 1.5), host)  # the two slow rounds are over the worst limit
    q = question()
    q.look(slow_over, final=True)
    verdict = q.verdict()
    assert verdict.status is Status.PASSED, verdict.message
    assert "2 of 5 rounds set aside" in verdict.message and verdict.values["set_aside"] == 2


def test_a_host_slow_for_too_many_rounds_is_not_judged() -> None:
    host = HostState((30.0, 30.0, 30.0, 10.0), 10.0, "this session")
    q = question()
    assert q.look(Rounds((2.5, 2.5, 2.5, 1.5), host), final=True)
    verdict = q.verdict()
    assert verdict.status is Status.NOT_RUN and "the host stayed slow" in verdict.message


def test_without_a_budget_the_question_says_how_to_write_one_with_the_median() -> None:
    q = budget_question(None, CASE, POLICY, "cpu", "hint", "reference")
    assert q.look(Rounds((1.0, 1.1, 1.2), None), final=False)
    verdict = q.verdict()
    assert verdict.status is Status.NOT_RUN
    assert "measured median 1.10 s" in verdict.message and "--qa-update-budgets" in verdict.message


def test_a_wide_spread_passes_only_when_the_medians_upper_bound_clears_the_budget() -> None:
    wide = (1.0, 1.0, 1.0, 1.0, 1.4, 1.0, 1.4, 1.0, 1.4, 1.0, 1.0)
    q = question(median_s=1.6, worst_s=2.0)
    q.look(Rounds(wide, None), final=True)
    assert q.verdict().status is Status.PASSED
    tight = question(median_s=1.05, worst_s=2.0)
    tight.look(Rounds(wide, None), final=True)
    assert tight.verdict().status is not Status.PASSED


def test_median_upper_bound_is_an_order_statistic_and_none_under_five_values() -> None:
    assert median_upper_bound([1.0, 2.0, 3.0, 4.0]) is None
    assert median_upper_bound([1.0, 2.0, 3.0, 4.0, 5.0]) == 5.0
    values = [float(v) for v in range(1, 21)]
    bound = median_upper_bound(values)
    assert bound is not None and 10.5 < bound < 20.0


def test_shape_fails_on_another_forward_count_or_missing_stages() -> None:
    assert shape_verdict(result([1.0, 1.0]), CASE, POLICY).status is Status.PASSED
    nfe = shape_verdict(result([1.0, 1.0], nfe=8), CASE, POLICY)
    assert nfe.status is Status.FAILED and "8 DiT forwards" in nfe.message and "promises 9" in nfe.message
    covered = shape_verdict(result([1.0, 1.0], coverage=0.5), CASE, POLICY)
    assert covered.status is Status.FAILED and "the stage hooks miss work" in covered.message


def test_budget_text_names_the_limits_and_their_source() -> None:
    text = budget_text(budgets(1.6, 2.0), CASE, POLICY)
    assert text == {"budget": "p50 <= 1.60 s, max <= 2.00 s, IQR <= 10%", "budget_source": "budgets.toml"}
    assert budget_text(None, CASE, POLICY) == {}


@pytest.mark.parametrize(("keeps_rounds", "first"), [(False, 3), (True, 5)])
def test_policy_takes_all_rounds_first_when_the_run_saves_them(keeps_rounds: bool, first: int) -> None:
    policy = policy_for(RunSettings(), Thresholds(), keeps_rounds)
    assert policy.first_look == first and policy.rounds == 5 and policy.max_rounds == 20


def test_combine_takes_the_worst_part_and_the_measured_values() -> None:
    measured = result([1.0, 1.1, 1.2])
    log = Measurement(looks=2, added=3, stopped="decided")
    passed = combine(measured, log, [Verdict.passed("fine"), Verdict.passed()], [])
    assert passed.status is Status.PASSED and passed.message == "fine (3 rounds, 2 looks)"
    assert passed.values["median_s"] == pytest.approx(1.1) and passed.values["added_rounds"] == 3
    failed = combine(measured, log, [Verdict.passed("fine"), Verdict.failed("too slow")], ["GPU throttled"])
    assert failed.status is Status.FAILED and failed.message == "too slow (3 rounds, 2 looks); GPU throttled"
