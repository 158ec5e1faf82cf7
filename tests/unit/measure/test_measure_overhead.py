from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from benchmarks.measurement_overhead import ARMS, OverheadReport, measure_overhead, paired_ratio, round_order
from zimage_qa.errors import QAUsageError
from zimage_qa.verdict import Status

if TYPE_CHECKING:
    from tests.unit.measure.conftest import FakeNvml, SleepPipeline


def test_overhead_of_the_recorder_on_a_sleeping_pipeline(
    sleep_pipe: SleepPipeline, fake_nvml: FakeNvml
) -> None:
    sleep_pipe.text_encoder.seconds, sleep_pipe.transformer.seconds, sleep_pipe.vae.seconds = (
        0.002,
        0.002,
        0.002,
    )
    sleep_pipe.scheduler_s = sleep_pipe.outside_s = 0.0
    generate = functools.partial(sleep_pipe, num_inference_steps=4)
    report = measure_overhead(generate, sync=lambda: None, rounds=6, pipe=sleep_pipe, warmup=1)
    assert report.rounds == 6
    assert report.nfe == 4
    assert report.nvml
    assert report.bare_median_s >= 0.012
    assert 0.8 < report.gate_ratio < 1.25  # sleeps dominate; hooks cost microseconds
    assert report.sampler_samples_per_round >= 2
    assert "interleaved rounds, NFE 4" in report.describe()
    assert set(report.to_dict()) >= {"gate_ratio", "sampler_cost_rel", "status", "times_s"}
    assert len(report.times_s["bare"]) == 6
    assert not sleep_pipe.transformer._forward_pre_hooks  # detached afterwards


def test_overhead_needs_rounds(sleep_pipe: SleepPipeline) -> None:
    with pytest.raises(QAUsageError, match="at least 4 rounds"):
        measure_overhead(sleep_pipe, sync=lambda: None, rounds=3)


def test_a_steady_drift_is_charged_to_no_arm() -> None:
    """Every generation takes 1 ms longer than the one before (a GPU warming up): the mirrored pairs
    cancel it exactly, where a plain rotation would charge it to the arm that more often runs later."""
    times: dict[str, list[float]] = {arm: [] for arm in ARMS}
    clock = 100.0
    for i in range(8):
        for arm in round_order(i):
            times[arm].append(clock)
            clock += 1.0
    assert paired_ratio(times["gate"], times["bare"]) == pytest.approx(1.0)
    assert paired_ratio(times["gate"], times["recorder"]) == pytest.approx(1.0)
    rotated = [times["gate"][i] / times["recorder"][i] for i in range(8)]
    assert rotated != pytest.approx([1.0] * 8)  # the control: single rounds do see the drift


def test_a_noisy_bare_loop_is_unstable_not_a_pass() -> None:
    steady = OverheadReport(
        8, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 200, 6.0, 0.02, True, 8, {"bare": (1.0, 1.001) * 4}
    )
    assert steady.status() is Status.PASSED
    assert replace(steady, gate_ratio=1.02).status() is Status.FAILED
    noisy = replace(steady, times_s={"bare": (0.45, 0.47, 0.60, 0.66, 0.46, 0.45, 0.62, 0.47)})
    assert noisy.status() is Status.UNSTABLE
