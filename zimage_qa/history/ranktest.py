"""The two-sided Mann-Whitney U test, as `scipy.stats.mannwhitneyu(x, y, method="auto")` computes it.

Reimplemented in numpy because importing scipy.stats alone takes 1-3 s, longer than judging a
1,000-run history; `tests/unit/history/test_ranktest.py` checks it against scipy. As scipy's "auto":
the exact distribution when one sample has at most 8 values and there are no ties, otherwise the
normal approximation with tie and continuity corrections.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def mann_whitney_p(x: Array, y: Array) -> float:
    """Two-sided p-value that `x` and `y` come from one distribution."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return 1.0
    ranks, ties = _average_ranks(np.concatenate([x, y]))
    u1 = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    if min(n1, n2) <= 8 and not (ties > 1).any():
        p = 2 * _exact_sf(round(u), n1, n2)
    else:
        n = n1 + n2
        tie_term = float((ties.astype(np.float64) ** 3 - ties).sum())
        s = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        if s == 0:
            return 1.0
        z = (u - n1 * n2 / 2 - 0.5) / s
        p = math.erfc(z / math.sqrt(2))
    return min(max(p, 0.0), 1.0)


def _average_ranks(values: Array) -> tuple[Array, NDArray[np.int64]]:
    """1-based ranks with ties averaged, and the size of each group of equal values."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    bounds = np.r_[starts, len(values)]
    group = np.repeat(np.arange(len(starts)), np.diff(bounds))
    ranks = np.empty(len(values))
    ranks[order] = 0.5 * (bounds[group] + 1 + bounds[group + 1])
    return ranks, np.diff(bounds)


def _exact_sf(u: int, n1: int, n2: int) -> float:
    """P(U >= u) under the null, for u >= n1*n2/2, from the low tail: P(U <= n1*n2 - u).

    The counts of U are the coefficients of the Gaussian binomial [n1+n2 choose m]_q =
    prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), with m the smaller sample; only the low `degree + 1`
    coefficients are needed, and they are computed without cancellation.
    """
    m, n = min(n1, n2), max(n1, n2)
    degree = m * n - u
    if degree < 0:
        return 0.0
    counts = np.zeros(degree + 1)
    counts[0] = 1.0
    for i in range(1, m + 1):
        shift = n + i
        if shift <= degree:
            counts[shift:] -= counts[: degree + 1 - shift].copy()
        for r in range(min(i, degree + 1)):
            counts[r::i] = np.cumsum(counts[r::i])
    return float(counts.sum()) / math.comb(n1 + n2, m)
