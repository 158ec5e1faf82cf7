from __future__ import annotations

import math

import numpy as np
import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.measure import stats

SAMPLE = [1.376, 1.369, 1.378, 1.366, 1.399, 1.367, 1.419, 1.377]


def test_summary_matches_numpy() -> None:
    s = stats.summarize(SAMPLE)
    q1, q3 = np.percentile(SAMPLE, [25, 75])
    assert s.n == 8
    assert s.median == pytest.approx(np.median(SAMPLE))
    assert s.q1 == pytest.approx(q1) and s.q3 == pytest.approx(q3)
    assert s.iqr == pytest.approx(q3 - q1)
    assert s.rel_iqr == pytest.approx((q3 - q1) / np.median(SAMPLE))
    assert s.stdev == pytest.approx(np.std(SAMPLE, ddof=1))
    assert (s.min, s.max) == (min(SAMPLE), max(SAMPLE))


def test_degenerate_inputs() -> None:
    assert stats.summarize([2.0]).stdev == 0.0
    assert stats.summarize([0.0, 0.0]).rel_iqr == 0.0
    assert math.isinf(stats.summarize([-2.0, -1.0, 0.0, 1.0, 2.0]).rel_iqr)
    with pytest.raises(QAUsageError, match="at least 1"):
        stats.median([])
    with pytest.raises(QAUsageError, match="finite"):
        stats.median([1.0, math.nan])
    with pytest.raises(QAUsageError, match="quantile"):
        stats.quantile([1.0], 1.5)
