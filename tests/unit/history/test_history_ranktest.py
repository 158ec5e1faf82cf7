"""The numpy Mann-Whitney U against scipy.stats.mannwhitneyu (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from zimage_qa.history.ranktest import mann_whitney_p


@pytest.mark.parametrize("seed", range(4))
def test_matches_scipy_exact_and_asymptotic_with_and_without_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(150):
        n1, n2 = int(rng.integers(1, 25)), int(rng.integers(1, 60))
        if rng.random() < 0.3:
            x, y = rng.integers(0, 4, n1).astype(float), rng.integers(0, 4, n2).astype(float)
        else:
            x, y = rng.normal(size=n1), rng.normal(rng.random() * 2, size=n2)
        assert mann_whitney_p(x, y) == pytest.approx(mannwhitneyu(x, y).pvalue, rel=1e-9, abs=1e-15)


def test_three_runs_above_a_long_history_exact_tail() -> None:
    x, y = np.array([5.0, 6.0, 7.0]), np.arange(1000.0) / 1000
    assert mann_whitney_p(x, y) == pytest.approx(mannwhitneyu(x, y).pvalue, rel=1e-9)
    assert mann_whitney_p(x, y) < 1e-7


def test_identical_samples_and_empty_input() -> None:
    assert mann_whitney_p(np.ones(5), np.ones(7)) == 1.0
    assert mann_whitney_p(np.array([]), np.ones(3)) == 1.0
