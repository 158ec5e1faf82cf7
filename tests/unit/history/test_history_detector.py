"""Classification of generated histories: lasting steps, spikes, speed-ups, recoveries, pure noise."""

from __future__ import annotations

import numpy as np
import pytest
from history_gen import noise, series_of

from zimage_qa.history.detector import judge
from zimage_qa.history.metrics import MetricPolicy
from zimage_qa.history.records import Change, ChangeKind, SeriesVerdict, Status

POLICY = MetricPolicy()


def _regressions(verdict: SeriesVerdict) -> list[Change]:
    return [c for c in verdict.changes if c.kind is ChangeKind.REGRESSION]


@pytest.mark.parametrize("size", [0.06, 0.08, 0.3])
@pytest.mark.parametrize("seed", range(5))
def test_quiet_lasting_step_is_an_open_regression_at_its_first_run(size: float, seed: int) -> None:
    x = noise(np.random.default_rng(seed), 40, cv=0.01)
    x[28:] *= 1 + size
    verdict = judge(series_of(x), POLICY)
    (change,) = verdict.changes
    assert change.kind is ChangeKind.REGRESSION
    assert change.open
    assert change.run.index == 28
    assert change.run.commit == "c028"
    assert change.change == pytest.approx(size, abs=0.015)
    assert change.runs_at_level == 12
    assert verdict.status is Status.REGRESSED


def test_step_in_the_last_min_runs_runs_is_already_lasting() -> None:
    x = noise(np.random.default_rng(3), 30, cv=0.01)
    x[27:] *= 1.08
    (change,) = judge(series_of(x), POLICY).changes
    assert (change.run.index, change.runs_at_level, change.open) == (27, 3, True)


@pytest.mark.parametrize("size", [0.08, 0.4])
def test_noisy_runner_step_is_found_within_two_runs_in_nearly_every_seed(size: float) -> None:
    """CV 3% plus 5% of runs 15-30% slow (thermal or power-cap events): 60 seeds each."""
    found = near = 0
    for seed in range(60):
        x = noise(np.random.default_rng(seed), 45, cv=0.03, outliers=True)
        x[30:] *= 1 + size
        opened = [c for c in _regressions(judge(series_of(x), POLICY)) if c.open]
        found += bool(opened)
        near += bool(opened) and abs(opened[0].run.index - 30) <= 2
    assert found >= 55
    assert near >= (50 if size < 0.1 else 57)


@pytest.mark.parametrize("runs", [1, 2])
def test_spike_is_not_a_change(runs: int) -> None:
    x = noise(np.random.default_rng(7), 40, cv=0.01)
    x[15 : 15 + runs] *= 1.3
    verdict = judge(series_of(x), POLICY)
    assert verdict.changes == ()
    assert verdict.status is Status.OK
    (spike,) = verdict.spikes
    assert (spike.run.index, spike.runs, spike.worse) == (15, runs, True)
    assert spike.change == pytest.approx(0.3, abs=0.03)


def test_speed_up_is_an_improvement_not_a_regression() -> None:
    x = noise(np.random.default_rng(11), 40, cv=0.01)
    x[20:] *= 0.85
    verdict = judge(series_of(x), POLICY)
    (change,) = verdict.changes
    assert change.kind is ChangeKind.IMPROVEMENT
    assert not change.open
    assert change.change == pytest.approx(-0.15, abs=0.01)
    assert verdict.status is Status.IMPROVED


def test_recovered_regression_is_history_not_an_alarm() -> None:
    x = noise(np.random.default_rng(5), 40, cv=0.01)
    x[10:20] *= 1.1
    verdict = judge(series_of(x), POLICY)
    (change,) = verdict.changes  # the way back is the regression's end, not a separate improvement
    assert change.kind is ChangeKind.REGRESSION
    assert not change.open
    assert change.run.index == 10
    assert change.recovered_at is not None and change.recovered_at.index == 20
    assert verdict.status is Status.RECOVERED


def test_partial_recovery_keeps_the_regression_open() -> None:
    x = noise(np.random.default_rng(6), 45, cv=0.01)
    x[15:] *= 1.2
    x[30:] /= 1.08
    opened = [c for c in _regressions(judge(series_of(x), POLICY)) if c.open]
    assert [c.run.index for c in opened] == [15]


def test_latest_run_alone_is_pending_not_a_regression() -> None:
    x = noise(np.random.default_rng(8), 30, cv=0.01)
    x[-1] *= 1.2
    verdict = judge(series_of(x), POLICY)
    assert verdict.changes == ()
    assert verdict.status is Status.PENDING
    assert verdict.pending is not None
    assert (verdict.pending.run.index, verdict.pending.runs) == (29, 1)


def test_min_runs_one_makes_the_latest_run_count() -> None:
    x = noise(np.random.default_rng(8), 30, cv=0.01)
    x[-1] *= 1.2
    verdict = judge(series_of(x), MetricPolicy(min_runs=1, alpha=0.1))
    assert [c.run.index for c in _regressions(verdict)] == [29]


def test_creep_of_small_steps_is_reported_once_it_adds_up() -> None:
    x = noise(np.random.default_rng(9), 60, cv=0.002)
    for start in range(12, 60, 12):
        x[start:] *= 1.02
    opened = [c for c in _regressions(judge(series_of(x), POLICY)) if c.open]
    assert len(opened) == 1
    assert opened[0].gradual
    assert opened[0].change >= 0.05


def test_exact_counter_nfe_8_to_9() -> None:
    x = np.r_[np.full(19, 8.0), np.full(11, 9.0)]
    (change,) = judge(series_of(x, metric="nfe"), POLICY).changes
    assert change.change == pytest.approx(0.125)
    assert change.open


@pytest.mark.parametrize(("factor", "kind"), [(0.85, ChangeKind.REGRESSION), (1.15, ChangeKind.IMPROVEMENT)])
def test_higher_is_better_metric_turns_the_direction(factor: float, kind: ChangeKind) -> None:
    x = 0.9 * (1 + 0.005 * np.random.default_rng(2).standard_normal(30))
    x[18:] *= factor
    (change,) = judge(series_of(x, metric="glyph.score"), POLICY).changes
    assert change.kind is kind


def test_below_threshold_step_is_not_reported_but_a_lower_threshold_finds_it() -> None:
    x = noise(np.random.default_rng(4), 40, cv=0.003)
    x[25:] *= 1.03
    assert judge(series_of(x), POLICY).changes == ()
    loose = MetricPolicy(thresholds=(("median", 0.02),))
    assert [c.run.index for c in judge(series_of(x), loose).changes] == [25]


def test_in_run_spread_keeps_a_noisy_run_from_being_a_spike() -> None:
    x = np.full(30, 1.4)
    x[12] = 1.6
    assert len(judge(series_of(x), POLICY).spikes) == 1
    se = np.full(30, 0.001)
    se[12] = 0.1  # that run was all over the place inside: its median says little
    assert judge(series_of(x, se=se), POLICY).spikes == ()


def test_too_short_history_is_not_judged() -> None:
    verdict = judge(series_of([1.0, 1.0, 2.0, 2.0, 2.0]), POLICY)
    assert verdict.status is Status.SHORT
    assert verdict.changes == ()


@pytest.mark.parametrize(
    ("cv", "outliers", "n"),
    [
        (0.01, False, 15),
        (0.01, False, 60),
        (0.03, False, 30),
        (0.03, True, 30),
        (0.03, True, 200),
        (0.05, True, 60),
    ],
)
def test_pure_noise_raises_no_alarm_across_seeds(cv: float, outliers: bool, n: int) -> None:
    """Pure noise: open regressions, confirmed or suspected (exit 1), at most 1 in 150 histories, none on a
    quiet runner.

    The one allowed is the noisy runner's rare long excursion (9 runs in a row 4% low, then back),
    which reads as an improvement lost; measured over 2,000 noisy series: 3 alarms (0.15%).
    """
    seeds = 150
    alarms = changes = 0
    for seed in range(seeds):
        verdict = judge(series_of(noise(np.random.default_rng(1000 + seed), n, cv, outliers)), POLICY)
        alarms += verdict.status in (Status.REGRESSED, Status.SUSPECTED)
        changes += bool(verdict.changes)
    assert alarms <= (1 if outliers else 0)
    # Recovered 3-4 run excursions: with 5% outlier runs, three in four in a row do happen.
    assert changes <= 5
