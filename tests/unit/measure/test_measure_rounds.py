from __future__ import annotations

import math

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.rounds import RoundPlan, compile_seconds, more_rounds, plan_rounds

CONFIG = {"rounds": 5, "min_rounds": 3, "max_rounds": 15}


def plan(first: float, warm: float, budget: float = 120.0, **kw: int) -> RoundPlan:
    return plan_rounds(first, warm, time_budget_s=budget, **{**CONFIG, **kw})


def test_fast_deployment_keeps_its_configured_rounds():
    p = plan(3.7, 1.33)  # eager 1024x1024 on an H200
    assert (p.rounds, p.warmup) == (5, 1)
    assert p.cap == 15
    assert "configured 5 rounds" in p.reason
    assert p.timeout_s == 30.0  # the floor: a fast image never gets a hair-trigger timeout


@pytest.mark.parametrize("warm", [15.7, 18.0, 22.9])
def test_offloaded_deployment_finishes_within_budget_with_the_minimum(warm):
    p = plan(warm * 1.5, warm, budget=75.0)  # the issue: 16-23 s per image
    assert p.rounds >= 3
    assert p.expected_s <= 75.0
    assert p.warmup == 0
    assert p.cap * warm <= 75.0 + 1e-9
    assert p.timeout_s == pytest.approx(5 * warm)
    assert p.first_timeout_s == pytest.approx(5 * 1.5 * warm)


def test_too_slow_for_the_budget_still_runs_the_minimum_and_says_so():
    p = plan(40.0, 30.0, budget=60.0)
    assert (p.rounds, p.warmup, p.cap) == (3, 0, 3)
    assert "over the 60 s budget" in p.reason
    assert p.expected_s == 90.0


def test_rounds_shrink_monotonically_with_time_per_image():
    counts = [
        plan(w, w, budget=60.0).rounds + plan(w, w, budget=60.0).warmup for w in (1, 5, 10, 12, 15, 20, 30)
    ]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == 6 and counts[-1] == 3


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"rounds": 2}, "min_rounds"),
        ({"max_rounds": 4}, "max_rounds"),
        ({"min_rounds": 0}, "min_rounds"),
    ],
)
def test_inconsistent_settings_are_usage_errors(kw, match):
    with pytest.raises(QAUsageError, match=match):
        plan(1.0, 1.0, **kw)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_bad_times_are_usage_errors(bad):
    with pytest.raises(QAUsageError, match="positive finite"):
        plan(1.0, bad)


def test_more_rounds_policy():
    assert more_rounds(0.04, done=5, cap=15, max_rel_iqr=0.10) == 0  # quiet: judge now
    assert more_rounds(0.25, done=5, cap=15, max_rel_iqr=0.10, step=5) == 5
    assert more_rounds(0.25, done=5, cap=15, max_rel_iqr=0.10, step=1) == 2  # quartiles need two
    assert more_rounds(0.25, done=14, cap=15, max_rel_iqr=0.10) == 1  # never past the cap
    assert more_rounds(0.25, done=15, cap=15, max_rel_iqr=0.10) == 0  # cap reached: now UNSTABLE
    assert more_rounds(math.nan, done=3, cap=9, max_rel_iqr=0.10) == 2
    with pytest.raises(QAUsageError, match="not positive"):
        more_rounds(0.2, done=3, cap=9, max_rel_iqr=0.0)


def test_more_rounds_with_the_plan_cap_bounds_a_slow_deployment():
    p = plan(24.0, 16.0, budget=80.0)
    done, total = p.rounds, p.rounds
    while extra := more_rounds(0.5, done=done, cap=p.cap, max_rel_iqr=0.10):
        done += extra
        total += extra
    assert total == p.cap
    assert total * 16.0 <= 80.0


def test_compile_time_is_the_first_call_beyond_a_warm_one():
    assert compile_seconds(49.2, 0.96) == pytest.approx(48.24)
    assert compile_seconds(1.0, 1.2) == 0.0  # a noisy warm call never gives a negative compile time


def test_plan_to_dict():
    assert plan(2.0, 1.0).to_dict()["rounds"] == 5
