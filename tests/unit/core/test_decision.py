"""The one decision rule: exact rank distributions against scipy, intervals that cover at their level,
the three outcomes, looks that keep their error rates, autocorrelated rounds, and the power estimate.

Rounds are drawn here (GPU-like noise: CV 1 %, and host spells that slow runs of rounds), with seeds apart
from anything the defaults were chosen on.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest
from scipy.stats import mannwhitneyu, theilslopes, wilcoxon

from zimage_qa.decision import (
    ALPHA,
    Interval,
    Looks,
    Outcome,
    _kendall_rank,
    _mahonian,
    _mw_counts,
    _wsr_counts,
    decide,
    lag1_autocorrelation,
    paired_interval,
    rounds_interval,
    trend,
)
from zimage_qa.errors import QAUsageError


def rounds(
    rng: random.Random, n: int, median: float = 1.3, cv: float = 0.01, spell: float = 0.0
) -> list[float]:
    """Warm rounds of one run, in order: normal jitter, and host spells (probability `spell` of entering
    one at each round; a spell slows 4-8 rounds in a row by 30-50 %)."""
    out, left, slow = [], 0, 1.0
    for _ in range(n):
        if left == 0 and rng.random() < spell:
            left, slow = rng.randint(4, 8), 1 + rng.uniform(0.3, 0.5)
        factor = slow if left else 1.0
        left = max(0, left - 1)
        out.append(median * factor * (1 + cv * rng.gauss(0, 1)))
    return out


def interval(change: float, low: float, high: float) -> Interval:
    return Interval(change, low, high, 0.95, "test", 10, 10)


@pytest.mark.parametrize(
    ("change", "low", "high", "outcome"),
    [
        (0.08, 0.03, 0.12, Outcome.REGRESSED),  # reaches the minimum effect, excludes no change
        (0.08, -0.01, 0.12, Outcome.INCONCLUSIVE),  # reaches it, but no change is still possible
        (0.043, 0.035, 0.068, Outcome.INCONCLUSIVE),  # below it, but the interval reaches it
        (0.02, -0.01, 0.049, Outcome.SAME),  # the whole interval is under the minimum effect
        (-0.10, -0.15, -0.06, Outcome.IMPROVED),
        (-0.03, -0.06, 0.01, Outcome.SAME),
        (0.20, -1.0, math.inf, Outcome.INCONCLUSIVE),  # unbounded: too few rounds
    ],
)
def test_the_rule_has_three_outcomes_and_an_improvement(
    change: float, low: float, high: float, outcome: Outcome
) -> None:
    assert decide(interval(change, low, high), 0.05).outcome is outcome


def test_an_undecided_interval_says_why_and_what_would_decide_it() -> None:
    rng = random.Random(11)
    base, now = rounds(rng, 5), [v * 1.043 for v in rounds(rng, 5, cv=0.03)]
    decision = decide(rounds_interval(base, now), 0.05)
    assert decision.outcome is Outcome.INCONCLUSIVE
    assert decision.rounds_needed is not None and decision.rounds_needed > 5
    assert "would decide it" in decision.why_undecided()
    three = decide(rounds_interval([1.0, 1.01, 1.02], [1.2, 1.21, 1.22]), 0.05)
    assert three.outcome is Outcome.INCONCLUSIVE and not three.interval.bounded  # 3 vs 3 cannot decide
    assert three.rounds_needed is not None and three.rounds_needed >= 5  # 2 / C(3 + n, 3) <= alpha from n = 5
    assert "too few rounds" in three.why_undecided()


def test_exact_distributions_match_scipy_and_brute_force() -> None:
    for n1, n2 in ((3, 4), (5, 5), (8, 3), (7, 12)):
        counts = _mw_counts(n1, n2)
        total = math.comb(n1 + n2, n1)
        x = list(range(n1))
        for u in (0, 3, n1 * n2 // 3):  # P(U <= u) against scipy's exact one-sided p-value
            y = _arrangement_with_u(n1, n2, u)
            expected = mannwhitneyu(x, y, alternative="less", method="exact").pvalue
            assert sum(counts[: u + 1]) / total == pytest.approx(expected, rel=1e-12)
    for n in (5, 9, 14):
        d = [(i + 1) * (1 if i % 3 else -1) for i in range(n)]
        w = sum(i + 1 for i in range(n) if d[i] > 0)
        lower = sum(_wsr_counts(n)[: min(w, n * (n + 1) // 2 - w) + 1]) / 2**n
        assert 2 * lower == pytest.approx(wilcoxon(d, method="exact").pvalue, rel=1e-12)
    for n in (3, 5, 6):  # Mahonian numbers: permutations by number of inversions
        brute = [0] * (n * (n - 1) // 2 + 1)
        for p in itertools.permutations(range(n)):
            brute[sum(p[i] > p[j] for i in range(n) for j in range(i + 1, n))] += 1
        assert list(_mahonian(n)) == brute


def _arrangement_with_u(n1: int, n2: int, u: int) -> list[float]:
    """A second sample whose Mann-Whitney U against range(n1) (x below y counted... ) is `u`: values
    placed so that exactly `u` pairs have y < x."""
    y: list[float] = []
    left = u
    for _ in range(n2):
        below = min(left, n1)
        y.append(n1 - below - 0.5)
        left -= below
    return y


def test_sen_interval_matches_scipy_theilslopes() -> None:
    rng = random.Random(5)
    for n in (8, 20, 40):
        y = [0.01 * i + rng.gauss(0, 0.02) for i in range(n)]
        fit, ref = trend(y, 0.05), theilslopes(y, alpha=0.95)
        assert fit.slope == pytest.approx(ref.slope)
        if n >= 20:  # scipy uses the normal approximation; the exact rank agrees where it is good
            assert fit.low == pytest.approx(ref.low_slope) and fit.high == pytest.approx(ref.high_slope)


@pytest.mark.parametrize("n", [6, 10, 20])
def test_kendall_rank_is_exact_at_small_n(n: int) -> None:
    k = _kendall_rank(n, 0.05)
    counts, total = _mahonian(n), math.factorial(n)
    assert sum(counts[:k]) / total <= 0.025 < sum(counts[: k + 1]) / total


def test_intervals_cover_the_true_change_at_their_level() -> None:
    rng = random.Random(7)
    trials, covered, covered_paired, covered_trend = 400, 0, 0, 0
    for _ in range(trials):
        a, b = rounds(rng, 12), [v * 1.03 for v in rounds(rng, 12)]
        r = rounds_interval(a, b, alpha=0.10)
        covered += r.low <= 0.03 <= r.high
        base = rounds(rng, 12)
        p = paired_interval(base, [v * 1.03 * (1 + 0.005 * rng.gauss(0, 1)) for v in base], alpha=0.10)
        covered_paired += p.low <= 0.03 <= p.high
        t = trend([1 + 0.004 * i + rng.gauss(0, 0.01) for i in range(8)], alpha=0.10)
        covered_trend += t.low <= 0.004 <= t.high
    for hits in (covered, covered_paired, covered_trend):
        assert 0.86 <= hits / trials <= 0.97


def test_spells_make_rounds_count_as_fewer() -> None:
    """Rounds in host spells are correlated: the interval widens instead of calling a spell a change."""
    rng = random.Random(31)
    spelled = [rounds(rng, 15, spell=0.15) for _ in range(300)]
    assert sum(lag1_autocorrelation(s) for s in spelled) / 300 > 0.3
    false_red = sum(
        decide(rounds_interval(rounds(rng, 15, spell=0.15), rounds(rng, 15, spell=0.15)), 0.05).outcome
        is Outcome.REGRESSED
        for _ in range(300)
    )
    assert false_red / 300 <= 0.05


def test_identical_runs_never_regress_and_clear_slowdowns_are_caught() -> None:
    rng = random.Random(2026)
    outcomes = [decide(rounds_interval(rounds(rng, 10), rounds(rng, 10)), 0.05).outcome for _ in range(1000)]
    assert outcomes.count(Outcome.REGRESSED) == 0
    assert outcomes.count(Outcome.SAME) >= 990
    slower = [decide(rounds_interval(rounds(rng, 10), rounds(rng, 10, 1.3 * 1.08)), 0.05) for _ in range(200)]
    assert sum(d.outcome is Outcome.REGRESSED for d in slower) >= 190


def test_looks_spend_alpha_once_and_keep_the_error_rates() -> None:
    looks = Looks(ALPHA, 15)
    steps = [looks.spend(n) for n in (5, 7, 9, 11, 13)] + [looks.spend(15, final=True)]
    assert sum(steps) == pytest.approx(ALPHA) and all(s > 0 for s in steps)
    with pytest.raises(QAUsageError):
        looks.spend(16)
    # a false green (SAME while it is 5 % slower) over all looks, stopping at the first decision
    rng = random.Random(99)
    wrong = 0
    for _ in range(400):
        base, now, looks = rounds(rng, 10), rounds(rng, 5, 1.3 * 1.05), Looks(ALPHA, 15)
        while True:
            final = len(now) >= 15
            alpha = looks.spend(len(now), final)
            decision = decide(rounds_interval(base, now, alpha), 0.05, alpha)
            if decision.outcome.decided or final:
                break
            now += rounds(rng, 2, 1.3 * 1.05)
        wrong += decision.outcome is Outcome.SAME
    assert wrong / 400 <= ALPHA / 2 + 0.02


def test_ties_keep_a_bounded_interval() -> None:
    """Rounds saved to 3 decimals tie; the interval stays bounded (the untied rank is conservative)."""
    base = [1.300, 1.301, 1.300, 1.302, 1.301, 1.300]
    slow = [round(v * 1.46, 3) for v in base]
    decision = decide(rounds_interval(base, slow), 0.05)
    assert decision.interval.bounded and decision.outcome is Outcome.REGRESSED


def test_bad_input_is_one_line() -> None:
    with pytest.raises(QAUsageError, match="positive finite"):
        rounds_interval([1.0, -1.0], [1.0, 1.0])
    with pytest.raises(QAUsageError, match="one B round per A round"):
        paired_interval([1.0, 1.1], [1.0])
    with pytest.raises(QAUsageError, match="not positive"):
        decide(interval(0.1, 0.0, 0.2), 0.0)


def test_a_look_with_no_new_rounds_spends_nothing_and_asks_for_no_power_estimate() -> None:
    # Fewer rounds kept than at the last look (the host turned slow): nothing is spent, and an interval
    # judged at alpha 0 is never asked how many rounds would decide it (a normal quantile of 1 does not exist).
    looks = Looks(0.05, 20)
    assert looks.spend(8) > 0
    assert looks.spend(6) == 0.0
    interval = rounds_interval([1.0, 1.1, 1.2, 1.05], [1.3, 1.2, 1.25, 1.22], 0.0)
    assert decide(interval, 0.05, 0.0).rounds_needed is None
    assert looks.spend(20, final=True) > 0


def test_rounds_recorded_in_one_spell_count_as_few_and_the_advice_says_so() -> None:
    """A baseline whose 20 rounds creep steadily (a host warming up) counts as about 2, and 60 creeping
    rounds after it as about 7: no bounded interval at the last look's alpha, and a decision is said to take
    many more rounds than the raw sizes suggest (uncorrelated rounds count in full)."""
    rng = random.Random(7)
    creeping = [0.038 * (1 + 0.004 * i) * (1 + 0.002 * rng.gauss(0, 1)) for i in range(20)]
    steady = [0.039 * (1 + 0.01 * rng.gauss(0, 1)) for _ in range(60)]
    assert rounds_interval(creeping, steady, alpha=0.004).effective[1] >= 40
    after = [0.039 * (1 + 0.001 * i) * (1 + 0.002 * rng.gauss(0, 1)) for i in range(60)]
    interval = rounds_interval(creeping, after, alpha=0.004)
    assert interval.effective[0] <= 3 < interval.n_before == 20
    assert interval.effective[1] <= 10 < interval.n_after == 60
    decision = decide(interval, 0.25, 0.004)
    assert decision.outcome is Outcome.INCONCLUSIVE and not interval.bounded
    assert "the 20 rounds before count as" in decision.why_undecided()
    assert decision.rounds_needed is not None and decision.rounds_needed >= 150
