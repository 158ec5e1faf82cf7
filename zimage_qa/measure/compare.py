"""Is one sample of latency rounds slower than another from the same runner? Rank tests, effect, interval.

Two designs, one answer type (`RoundsComparison`):
- `compare_rounds(before, after)`: two independent samples (a baseline run and this run). The change is
  the ratio of medians; the interval is the Hodges-Lehmann one on log times (the order statistics of all
  pairwise log ratios that the Mann-Whitney distribution picks); the p-value is the two-sided
  Mann-Whitney U test.
- `compare_paired(a, b)`: rounds taken A, B, A, B on one machine (an in-process A/B), so pair i is
  (a[i], b[i]) and machine drift cancels within a pair. The change is exp(median log ratio) - 1; the
  interval is the Walsh-average one of the pair log ratios; the p-value is the Wilcoxon signed-rank test.

The outcome is SLOWER only when the test is significant (p <= alpha) AND the change is at least
`min_effect` AND the interval's lower bound is above 0 (FASTER mirrors it). Rank tests on rounds from
two runs see any shift, even a 1 % drift of the machine: the minimum effect is what keeps those green.
TOO_FEW means the samples cannot reach `alpha` at all (5 rounds each at alpha 0.01, 8 pairs).

Pure Python (exact distributions by generating functions, normal approximations with tie corrections
beyond them): no numpy, no scipy, so the gate and `zqa` import it for free.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from zimage_qa.errors import QAUsageError

MIN_EFFECT = 0.05
ALPHA = 0.01
_EXACT_MAX_CELLS = 2500  # n1 * n2 (or n(n+1)/2) up to which the exact null distribution is used


class Outcome(Enum):
    SLOWER = "slower"
    FASTER = "faster"
    SAME = "same"
    TOO_FEW = "too few rounds"


@dataclass(frozen=True)
class RoundsComparison:
    """After against before: relative change with its confidence interval, p-value and outcome."""

    outcome: Outcome
    change: float  # after / before - 1 (medians; paired: exp(median log ratio) - 1)
    ci_low: float  # the interval of the relative change, same scale as `change`
    ci_high: float
    p_value: float
    confidence: float  # of the interval, 1 - alpha unless set
    before_median: float  # seconds
    after_median: float
    n_before: int
    n_after: int
    min_effect: float
    alpha: float
    paired: bool = False

    @property
    def significant(self) -> bool:
        return self.p_value <= self.alpha

    @property
    def test(self) -> str:
        return "Wilcoxon signed-rank" if self.paired else "Mann-Whitney U"

    def describe(self) -> str:
        """'+8.1 % [+6.2 %, +9.9 %] (99 % CI), p=2.1e-04, median 1.300 s -> 1.405 s, 10 vs 10 rounds'."""
        rounds = f"{self.n_before} pairs" if self.paired else f"{self.n_before} vs {self.n_after} rounds"
        return (
            f"{_pct(self.change)} [{_pct(self.ci_low)}, {_pct(self.ci_high)}] ({self.confidence:.0%} CI), "
            f"p={self.p_value:.1e}, median {self.before_median:.4g} s -> {self.after_median:.4g} s, {rounds}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "change": _finite(self.change),
            "ci_low": _finite(self.ci_low),
            "ci_high": _finite(self.ci_high),
            "confidence": self.confidence,
            "p_value": self.p_value,
            "test": self.test,
            "before_median_s": self.before_median,
            "after_median_s": self.after_median,
            "n_before": self.n_before,
            "n_after": self.n_after,
            "min_effect": self.min_effect,
            "alpha": self.alpha,
            "paired": self.paired,
        }


def compare_rounds(
    before: Sequence[float],
    after: Sequence[float],
    *,
    min_effect: float = MIN_EFFECT,
    alpha: float = ALPHA,
    confidence: float | None = None,
) -> RoundsComparison:
    """Independent samples of positive round times (seconds) from the same runner: is `after` slower?"""
    x, y = _times(before, "before"), _times(after, "after")
    level = _level(alpha, confidence, min_effect)
    lx, ly = [math.log(v) for v in x], [math.log(v) for v in y]
    diffs = sorted(b - a for a in lx for b in ly)
    k = _mw_rank(len(x), len(y), 1 - level, ties=_has_ties(lx + ly))
    low, high = (diffs[k - 1], diffs[-k]) if k >= 1 else (-math.inf, math.inf)
    reachable = _mw_min_p(len(x), len(y)) <= alpha
    result = RoundsComparison(
        outcome=Outcome.SAME,
        change=statistics.median(y) / statistics.median(x) - 1,
        ci_low=math.expm1(low),
        ci_high=math.expm1(high),
        p_value=mann_whitney_p(lx, ly),
        confidence=level,
        before_median=statistics.median(x),
        after_median=statistics.median(y),
        n_before=len(x),
        n_after=len(y),
        min_effect=min_effect,
        alpha=alpha,
    )
    return _decided(result, reachable)


def compare_paired(
    a_rounds: Sequence[float],
    b_rounds: Sequence[float],
    *,
    min_effect: float = MIN_EFFECT,
    alpha: float = ALPHA,
    confidence: float | None = None,
) -> RoundsComparison:
    """Interleaved rounds A, B, A, B (pair i = a[i], b[i]): is B slower than A? B is the 'after'."""
    a, b = _times(a_rounds, "A"), _times(b_rounds, "B")
    if len(a) != len(b):
        raise QAUsageError(
            f"paired comparison needs one B round per A round, got {len(a)} A and {len(b)} B rounds; "
            "interleave them A, B, A, B"
        )
    level = _level(alpha, confidence, min_effect)
    d = [math.log(bi / ai) for ai, bi in zip(a, b, strict=True)]
    walsh = sorted((d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d)))
    k = _wsr_rank(len(d), 1 - level, ties=_has_ties([abs(v) for v in d]) or 0.0 in d)
    low, high = (walsh[k - 1], walsh[-k]) if k >= 1 else (-math.inf, math.inf)
    result = RoundsComparison(
        outcome=Outcome.SAME,
        change=math.expm1(statistics.median(d)),
        ci_low=math.expm1(low),
        ci_high=math.expm1(high),
        p_value=signed_rank_p(d),
        confidence=level,
        before_median=statistics.median(a),
        after_median=statistics.median(b),
        n_before=len(a),
        n_after=len(b),
        min_effect=min_effect,
        alpha=alpha,
        paired=True,
    )
    return _decided(result, 2 / 2 ** len(d) <= alpha)


def _decided(result: RoundsComparison, reachable: bool) -> RoundsComparison:
    from dataclasses import replace

    if not reachable:
        return replace(result, outcome=Outcome.TOO_FEW)
    if result.significant and result.change >= result.min_effect and result.ci_low > 0:
        return replace(result, outcome=Outcome.SLOWER)
    if result.significant and result.change <= -result.min_effect and result.ci_high < 0:
        return replace(result, outcome=Outcome.FASTER)
    return result


# --- rank tests ------------------------------------------------------------------------------------


def mann_whitney_p(x: Sequence[float], y: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value: exact without ties for small samples, else normal with ties."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return 1.0
    ranks, groups = _ranks([*x, *y])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    if n1 * n2 <= _EXACT_MAX_CELLS and all(g == 1 for g in groups):
        counts = _mw_counts(n1, n2)
        tail = sum(counts[: n1 * n2 - round(u) + 1])  # P(U >= u) = P(U <= n1 n2 - u)
        return min(1.0, 2 * tail / math.comb(n1 + n2, n1))
    n = n1 + n2
    tie_term = sum(g**3 - g for g in groups)
    s = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    if s == 0:
        return 1.0
    return min(1.0, math.erfc(max(u - n1 * n2 / 2 - 0.5, 0.0) / s / math.sqrt(2)))


def signed_rank_p(d: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of differences `d` against 0 (zeros dropped, Wilcoxon's way)."""
    nonzero = [v for v in d if v != 0]
    n = len(nonzero)
    if n == 0:
        return 1.0
    ranks, groups = _ranks([abs(v) for v in nonzero])
    w = sum(r for r, v in zip(ranks, nonzero, strict=True) if v > 0)
    total = n * (n + 1) / 2
    t = max(w, total - w)
    if total <= _EXACT_MAX_CELLS and all(g == 1 for g in groups):
        counts = _wsr_counts(n)
        tail = sum(counts[: round(total - t) + 1])
        return min(1.0, 2 * tail / 2**n)
    tie_term = sum(g**3 - g for g in groups) / 48
    s = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - tie_term)
    if s == 0:
        return 1.0
    return min(1.0, math.erfc(max(t - total / 2 - 0.5, 0.0) / s / math.sqrt(2)))


def _ranks(values: list[float]) -> tuple[list[float], list[int]]:
    """1-based ranks with ties averaged, and the size of each group of equal values."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    groups: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        groups.append(j - i + 1)
        i = j + 1
    return ranks, groups


def _mw_counts(n1: int, n2: int) -> list[int]:
    """How many arrangements give U = 0..n1*n2: the coefficients of the Gaussian binomial [n1+n2, n1]_q."""
    m, n = min(n1, n2), max(n1, n2)
    poly = [1]
    for i in range(1, m + 1):
        poly = _times_poly(poly, n + i)  # * (1 - q^(n+i))
        for r in range(i, len(poly)):  # / (1 - q^i): exact, the quotient is a polynomial
            poly[r] += poly[r - i]
        while len(poly) > 1 and poly[-1] == 0:
            poly.pop()
    return poly + [0] * (m * n + 1 - len(poly))


def _times_poly(poly: list[int], k: int) -> list[int]:
    out = poly + [0] * k
    for r, c in enumerate(poly):
        out[r + k] -= c
    return out


def _wsr_counts(n: int) -> list[int]:
    """How many sign patterns give W+ = 0..n(n+1)/2: the coefficients of prod (1 + q^i)."""
    poly = [1]
    for i in range(1, n + 1):
        poly = [*poly, *([0] * i)]
        for r in range(len(poly) - 1, i - 1, -1):
            poly[r] += poly[r - i]
    return poly


def _mw_min_p(n1: int, n2: int) -> float:
    return min(1.0, 2 / math.comb(n1 + n2, n1))


def _mw_rank(n1: int, n2: int, tail: float, ties: bool) -> int:
    """k for the interval [D_(k), D_(N-k+1)] of the N = n1*n2 sorted pairwise differences (0: unbounded)."""
    if n1 * n2 <= _EXACT_MAX_CELLS and not ties:
        return _exact_rank(_mw_counts(n1, n2), math.comb(n1 + n2, n1), tail)
    sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    return max(0, math.floor(n1 * n2 / 2 - _z(tail) * sd + 0.5))


def _wsr_rank(n: int, tail: float, ties: bool) -> int:
    """k for the interval [W_(k), W_(M-k+1)] of the M = n(n+1)/2 sorted Walsh averages (0: unbounded)."""
    total = n * (n + 1) // 2
    if total <= _EXACT_MAX_CELLS and not ties:
        return _exact_rank(_wsr_counts(n), 2**n, tail)
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    return max(0, math.floor(total / 2 - _z(tail) * sd + 0.5))


def _exact_rank(counts: list[int], total: int, tail: float) -> int:
    """The largest k with P(stat <= k - 1) <= tail / 2."""
    cumulative, k = 0, 0
    for count in counts:
        cumulative += count
        if cumulative / total > tail / 2:
            break
        k += 1
    return k


def _z(tail: float) -> float:
    return statistics.NormalDist().inv_cdf(1 - tail / 2)


# --- input -----------------------------------------------------------------------------------------


def _times(values: Sequence[float], what: str) -> list[float]:
    data = [float(v) for v in values]
    bad = [v for v in data if not (math.isfinite(v) and v > 0)]
    if bad:
        raise QAUsageError(f"{what} rounds must be positive finite seconds, got {bad[:3]}; check the record")
    if not data:
        raise QAUsageError(f"no {what} rounds to compare; the record has no rounds_s")
    return data


def _level(alpha: float, confidence: float | None, min_effect: float) -> float:
    if not 0 < alpha < 1:
        raise QAUsageError(f"alpha {alpha} is not in (0, 1); use 0.01")
    if min_effect < 0:
        raise QAUsageError(f"minimum effect {min_effect} is negative; use 0.05 for 5 %")
    level = 1 - alpha if confidence is None else confidence
    if not 0 < level < 1:
        raise QAUsageError(f"confidence {level} is not in (0, 1); use 0.99")
    return level


def _has_ties(values: list[float]) -> bool:
    return len(set(values)) < len(values)


def _pct(change: float) -> str:
    return f"{change * 100:+.1f} %" if math.isfinite(change) else ("+inf" if change > 0 else "-inf")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
