from __future__ import annotations

import pytest

from zimage_qa.measure.rounds import compile_seconds


def test_compile_seconds_is_the_first_call_beyond_a_warm_one() -> None:
    assert compile_seconds(49.2, 0.96) == pytest.approx(48.24)
    assert compile_seconds(1.0, 1.2) == 0.0  # a noisy warm call never gives a negative compile time
