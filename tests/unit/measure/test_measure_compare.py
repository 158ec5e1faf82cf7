"""The rounds comparison core: rank tests against scipy, intervals, outcomes, false alarms and power.

The rates are measured on synthetic rounds drawn here (GPU-like noise: CV 1 %, a few slow rounds),
with seeds apart from anything the defaults were chosen on; the figures go into the report.
"""

from __future__ import annotations

import math
import random

import pytest
from scipy.stats import mannwhitneyu, wilcoxon

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.compare import (
    Outcome,
    compare_paired,
    compare_rounds,
    mann_whitney_p,
    signed_rank_p,
)


def rounds(
    rng: random.Random, n: int, median: float = 1.3, cv: float = 0.01, spikes: float = 0.0
) -> list[float]:
    """Warm rounds of one run: normal jitter, and with probability `spikes` a round 5-20 % slow."""
    out = []
    for _ in range(n):
        v = median * (1 + cv * rng.gauss(0, 1))
        if rng.random() < spikes:
            v *= 1 + rng.uniform(0.05, 0.20)
        out.append(v)
    return out


def run_level(rng: random.Random, sd: float = 0.01) -> float:
    """Where one run sits on a machine: runs of one runner drift by about 1 % from each other."""
    return 1.3 * (1 + sd * rng.gauss(0, 1))


@pytest.mark.parametrize("seed", range(3))
def test_rank_tests_match_scipy(seed: int) -> None:
    rng = random.Random(100 + seed)
    for _ in range(60):
        n1, n2 = rng.randint(1, 30), rng.randint(1, 70)
        if rng.random() < 0.3:
            x = [float(rng.randint(0, 3)) for _ in range(n1)]
            y = [float(rng.randint(0, 3)) for _ in range(n2)]
        else:
            x = [rng.gauss(0, 1) for _ in range(n1)]
            y = [rng.gauss(rng.random(), 1) for _ in range(n2)]
        method = "exact" if n1 * n2 <= 2500 and len(set(x + y)) == n1 + n2 else "asymptotic"
        assert mann_whitney_p(x, y) == pytest.approx(mannwhitneyu(x, y, method=method).pvalue, rel=1e-9)
        n = rng.randint(6, 70)
        d = [rng.gauss(0.3 * rng.random(), 1) for _ in range(n)]
        exact = n * (n + 1) / 2 <= 2500
        ref = wilcoxon(d, method="exact") if exact else wilcoxon(d, method="approx", correction=True)
        assert signed_rank_p(d) == pytest.approx(ref.pvalue, rel=1e-9)


def test_interval_covers_the_true_change_at_its_level() -> None:
    """The 90 % interval of the change covers the true +3 % in about 90 % of samples (checks the ranks)."""
    rng = random.Random(7)
    trials, covered, covered_paired = 400, 0, 0
    for _ in range(trials):
        a, b = rounds(rng, 12), [v * 1.03 for v in rounds(rng, 12)]
        r = compare_rounds(a, b, confidence=0.90)
        covered += r.ci_low <= 0.03 <= r.ci_high
        base = rounds(rng, 12)
        p = compare_paired(base, [v * 1.03 * (1 + 0.005 * rng.gauss(0, 1)) for v in base], confidence=0.90)
        covered_paired += p.ci_low <= 0.03 <= p.ci_high
    assert 0.85 <= covered / trials <= 0.96
    assert 0.85 <= covered_paired / trials <= 0.96


def test_identical_distributions_raise_almost_no_alarm() -> None:
    """False alarms over 2,000 seeds: with the 5 % minimum effect none; the bare test near alpha / 2."""
    rng = random.Random(2026)
    trials = 2000
    alarms = bare = paired = drift = 0
    for _ in range(trials):
        a, b = rounds(rng, 10, spikes=0.05), rounds(rng, 10, spikes=0.05)
        alarms += compare_rounds(a, b).outcome is Outcome.SLOWER
        bare += compare_rounds(a, b, min_effect=0.0).outcome is Outcome.SLOWER
        paired += compare_paired(a, b).outcome is Outcome.SLOWER
        # two runs of one runner: each at its own level (1 % apart), which a rank test on rounds sees
        c, d = rounds(rng, 10, run_level(rng)), rounds(rng, 10, run_level(rng))
        drift += compare_rounds(c, d).outcome is Outcome.SLOWER
    assert alarms / trials <= 0.01
    assert paired / trials <= 0.01
    assert drift / trials <= 0.01
    assert bare / trials <= 0.01  # a one-sided reading of a two-sided 1 % test: about 0.5 %


def power(effect: float, seed: int, trials: int = 500) -> dict[str, float]:
    """Share of slowdowns by `effect` called SLOWER, 10 rounds a side at CV 1 %, in four settings."""
    rng = random.Random(seed)
    found = dict.fromkeys(("clean", "spikes", "drift", "paired"), 0)
    for _ in range(trials):
        found["clean"] += (
            compare_rounds(rounds(rng, 10), rounds(rng, 10, 1.3 * (1 + effect))).outcome is Outcome.SLOWER
        )
        a, b = rounds(rng, 10, spikes=0.05), rounds(rng, 10, 1.3 * (1 + effect), spikes=0.05)
        found["spikes"] += compare_rounds(a, b).outcome is Outcome.SLOWER
        c = rounds(rng, 10, run_level(rng), spikes=0.05)
        d = rounds(rng, 10, run_level(rng) * (1 + effect), spikes=0.05)
        found["drift"] += compare_rounds(c, d).outcome is Outcome.SLOWER
        base = rounds(rng, 10, spikes=0.05)
        cand = [v * (1 + effect) * (1 + 0.01 * rng.gauss(0, 1)) for v in base]
        found["paired"] += compare_paired(base, cand).outcome is Outcome.SLOWER
    return {k: v / trials for k, v in found.items()}


def test_power_at_plus_8_percent() -> None:
    """+8 %: always caught on clean rounds and in an A/B; 5 % of rounds spiking 5-20 % (a spike in the
    baseline outranks the slow run) and 1 % run-to-run drift (+8 % is 3 % above the minimum effect)
    cost some power."""
    rates = power(0.08, seed=808)
    assert rates["clean"] >= 0.99 and rates["paired"] >= 0.99
    assert rates["spikes"] >= 0.90
    assert rates["drift"] >= 0.85


def test_power_at_plus_22_percent() -> None:
    rates = power(0.22, seed=2222, trials=300)
    assert min(rates.values()) >= 0.97


def test_a_change_under_the_minimum_effect_is_same_even_when_significant() -> None:
    a = [1.30 + 0.001 * i for i in range(10)]
    b = [v * 1.03 for v in a]
    result = compare_rounds(a, b)
    assert result.significant and result.ci_low > 0
    assert result.outcome is Outcome.SAME
    assert compare_rounds(a, b, min_effect=0.02).outcome is Outcome.SLOWER


def test_faster_mirrors_slower() -> None:
    a = [1.30 + 0.001 * i for i in range(10)]
    result = compare_rounds(a, [v * 0.85 for v in a])
    assert result.outcome is Outcome.FASTER
    assert result.change == pytest.approx(-0.15)
    assert result.ci_high < 0


def test_too_few_rounds_to_reach_alpha() -> None:
    slow = [2.0, 2.1, 2.2, 2.3]
    assert compare_rounds([1.0, 1.1, 1.2, 1.3], slow).outcome is Outcome.TOO_FEW  # min p 2/70 > 0.01
    assert compare_rounds([1.0, 1.1, 1.2, 1.3, 1.4], [*slow, 2.4]).outcome is Outcome.SLOWER
    assert compare_paired([1.0] * 7, [1.5] * 7).outcome is Outcome.TOO_FEW  # 2 / 2**7 > 0.01
    assert compare_rounds([1.0, 1.1, 1.2, 1.3], slow, alpha=0.05).outcome is Outcome.SLOWER


def test_one_slow_round_does_not_make_a_slower_run() -> None:
    a = [1.30, 1.31, 1.29, 1.30, 1.32, 1.30, 1.31, 1.29, 1.30, 1.31]
    b = [*a[:9], 1.9]
    assert compare_rounds(a, b).outcome is Outcome.SAME


def test_paired_cancels_drift_that_hides_a_small_change() -> None:
    """The machine warms up over the A/B (+10 % across it); B is 6 % slower: the paired interval is tight."""
    rng = random.Random(5)
    a, b = [], []
    for i in range(12):
        level = 1.3 * (1 + 0.10 * i / 11)
        a.append(level * (1 + 0.003 * rng.gauss(0, 1)))
        b.append(level * 1.06 * (1 + 0.003 * rng.gauss(0, 1)))
    paired = compare_paired(a, b)
    assert paired.outcome is Outcome.SLOWER
    assert paired.ci_low > 0.04 and paired.ci_high < 0.08
    unpaired = compare_rounds(a, b)
    assert unpaired.ci_high - unpaired.ci_low > 3 * (paired.ci_high - paired.ci_low)


def test_report_fields_and_sentence() -> None:
    a = [1.30 + 0.001 * i for i in range(10)]
    result = compare_rounds(a, [v * 1.10 for v in a])
    assert result.outcome is Outcome.SLOWER
    assert (result.n_before, result.n_after, result.confidence) == (10, 10, 0.99)
    assert result.before_median == pytest.approx(1.3045)
    text = result.describe()
    assert text.startswith("+10.0 % [") and "(99% CI)" in text and "10 vs 10 rounds" in text
    data = result.to_dict()
    assert data["outcome"] == "slower" and data["test"] == "Mann-Whitney U"
    assert math.isclose(data["change"], 0.10)


@pytest.mark.parametrize(
    ("before", "after", "fix"),
    [
        ([], [1.0], "no before rounds"),
        ([1.0, -1.0], [1.0], "positive finite"),
        ([1.0], [math.nan], "positive"),
    ],
)
def test_bad_input_is_a_usage_error(before: list[float], after: list[float], fix: str) -> None:
    with pytest.raises(QAUsageError, match=fix):
        compare_rounds(before, after)


def test_paired_needs_equal_lengths() -> None:
    with pytest.raises(QAUsageError, match="one B round per A round"):
        compare_paired([1.0, 1.1], [1.0])
