from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.roofline import (
    FlopCache,
    Roofline,
    achieved_tflops,
    capture_first_forward,
    count_flops,
    forward_flops,
    matmul_peak_tflops,
)

if TYPE_CHECKING:
    from tests.unit.measure.conftest import SleepPipeline


def test_count_flops_of_a_linear_layer() -> None:
    layer = torch.nn.Linear(64, 32, bias=False)
    x = torch.zeros(8, 64)
    assert count_flops(lambda: layer(x)) == 2 * 8 * 64 * 32
    assert forward_flops(layer, (x,)) == 2 * 8 * 64 * 32


def test_capture_first_forward_replays_the_pipeline_shapes(sleep_pipe: SleepPipeline) -> None:
    sleep_pipe.dit_s = sleep_pipe.transformer.seconds = 0.0
    layer = torch.nn.Linear(2, 2, bias=False)
    call = capture_first_forward(layer, lambda: [layer(torch.zeros(5, 2)), layer(torch.zeros(1, 2))])
    assert call.args[0].shape == (5, 2)
    assert forward_flops(layer, call.args, call.kwargs) == 2 * 5 * 2 * 2
    with pytest.raises(QAUsageError, match="never ran"):
        capture_first_forward(layer, lambda: None)


def test_flop_cache_counts_once() -> None:
    cache, calls = FlopCache(), list[int]()

    def count() -> int:
        calls.append(1)
        return 55_600_000_000_000

    for _ in range(3):
        assert cache.get((1024, 1024), count) == 55.6e12
    assert len(calls) == 1
    assert (1024, 1024) in cache
    assert len(cache) == 1


def test_roofline_arithmetic_matches_the_h100_anchor() -> None:
    # DESIGN.md: 55.6 TFLOP per forward, 8 forwards, DiT 1237 ms, measured peak 777 TFLOP/s -> about 46 %
    line = Roofline(flops_per_forward=55.6e12, nfe=8, denoise_ms=1237.0, peak_tflops=777.0)
    assert line.achieved_tflops == pytest.approx(359.6, abs=0.1)
    assert line.fraction_of_peak == pytest.approx(0.463, abs=0.001)
    assert line.floor_ms == pytest.approx(572.5, abs=0.1)
    assert "46 % of the measured 777 TFLOP/s peak" in line.describe()
    assert achieved_tflops(1e12, 1, 1000.0) == pytest.approx(1.0)
    with pytest.raises(QAUsageError, match="positive"):
        achieved_tflops(1e12, 1, 0.0)


def test_matmul_peak_on_cpu_is_measured_once() -> None:
    first = matmul_peak_tflops("cpu", n=256, reps=2)
    assert first > 0
    assert matmul_peak_tflops("cpu", n=256, reps=2) == first
    with pytest.raises(QAUsageError):
        matmul_peak_tflops("cpu", n=-1)
