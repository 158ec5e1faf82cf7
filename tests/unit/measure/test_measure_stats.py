from __future__ import annotations

import math

import numpy as np
import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.measure import stats

SAMPLE = [1.376, 1.369, 1.378, 1.366, 1.399, 1.367, 1.419, 1.377]


def test_summary_matches_numpy():
    s = stats.summarize(SAMPLE)
    q1, q3 = np.percentile(SAMPLE, [25, 75])
    assert s.n == 8
    assert s.median == pytest.approx(np.median(SAMPLE))
    assert (s.q1, s.q3) == (pytest.approx(q1), pytest.approx(q3))
    assert s.iqr == pytest.approx(q3 - q1)
    assert s.rel_iqr == pytest.approx((q3 - q1) / np.median(SAMPLE))
    assert s.cv == pytest.approx(np.std(SAMPLE, ddof=1) / np.mean(SAMPLE))
    assert (s.min, s.max) == (min(SAMPLE), max(SAMPLE))
    assert stats.relative_iqr(SAMPLE) == pytest.approx(s.rel_iqr)
    assert stats.cv(SAMPLE) == pytest.approx(s.cv)


def test_degenerate_inputs():
    assert stats.summarize([2.0]).stdev == 0.0
    assert stats.cv([2.0]) == 0.0
    assert stats.relative_iqr([0.0, 0.0]) == 0.0
    assert math.isinf(stats.relative_iqr([-2.0, -1.0, 0.0, 1.0, 2.0]))
    with pytest.raises(QAUsageError, match="at least 1"):
        stats.median([])
    with pytest.raises(QAUsageError, match="finite"):
        stats.median([1.0, math.nan])
    with pytest.raises(QAUsageError, match="quantile"):
        stats.quantile([1.0], 1.5)


def test_slope():
    assert stats.slope([1.0, 2.0, 3.0, 4.0]) == pytest.approx(1.0)
    assert stats.slope([5.0, 5.0, 5.0]) == 0.0
    assert stats.slope([5.0]) == 0.0


STEADY = [1.380, 1.376, 1.381, 1.377, 1.379, 1.378, 1.380, 1.377]


def test_drift_passes_a_steady_run():
    assert stats.drift_check(STEADY, max_creep_rel=0.02, max_jitter_ms=50) is None


def test_drift_fails_on_creep():
    creeping = [1.38, 1.39, 1.40, 1.41, 1.43, 1.45, 1.47, 1.49]
    message = stats.drift_check(creeping, max_creep_rel=0.02, max_jitter_ms=100)
    assert message is not None
    assert "creeps up: median of images 5-8 1.46 s vs images 1-4 1.40 s (+4.7 % > limit +2.0 %)" in message
    assert "jitter" not in message
    assert "1.490" in message


def test_drift_fails_on_jitter_from_the_sixth_image():
    jumpy = [1.38, 1.38, 1.38, 1.38, 1.38, 1.53, 1.38, 1.38]
    message = stats.drift_check(jumpy, max_creep_rel=0.5, max_jitter_ms=100)
    assert message is not None
    assert message.startswith("jitter: image 6 took 1.53 s, 150 ms more than image 5 (limit 100 ms)")


def test_drift_needs_two_times():
    with pytest.raises(QAUsageError, match="at least 2"):
        stats.drift_check([1.0], 0.1, 10)
    report = stats.drift_report([1.0, 1.2, 1.1])  # odd count: the middle image belongs to neither half
    assert (report.first_half_median_s, report.last_half_median_s) == (1.0, 1.1)
