from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.stages import GenerationTiming, StageRecorder, count_forwards

if TYPE_CHECKING:
    from tests.unit.measure.conftest import SleepPipeline

SLACK_MS = 40.0  # sleep() never returns early; a loaded CI runner may return late


def test_stage_split_nfe_and_total(sleep_pipe: SleepPipeline) -> None:
    expected = sleep_pipe.expected_ms(8)
    with StageRecorder().attach(sleep_pipe) as recorder, recorder.generation() as g:
        sleep_pipe(num_inference_steps=8)
    timing = g.timing
    assert timing.nfe == 8
    assert timing.clock == "wall"
    assert timing.text_encoder_calls == 1
    assert timing.vae_decode_calls == 1
    for stage, ms in expected.items():
        assert ms <= timing.stages_ms[stage] < ms + SLACK_MS, stage
    # denoise is the span first..last forward (scheduler steps included); the forwards alone are less
    assert 80.0 <= timing.dit_forward_ms < timing.stages_ms["denoise"]
    floor = sum(expected.values()) + 2 * sleep_pipe.outside_s * 1000 + sleep_pipe.scheduler_s * 1000
    assert timing.total_ms >= floor
    assert timing.stage_sum_ms < timing.total_ms
    assert timing.coverage >= 0.70
    assert recorder.last is timing


@pytest.mark.parametrize("steps", [1, 8, 9])
def test_nfe_counts_every_forward(sleep_pipe: SleepPipeline, steps: int) -> None:
    sleep_pipe.transformer.seconds = sleep_pipe.text_encoder.seconds = sleep_pipe.vae.seconds = 0.0
    with StageRecorder().attach(sleep_pipe) as recorder, recorder.generation() as g:
        sleep_pipe(num_inference_steps=steps)
    assert g.timing.nfe == steps


def test_calls_outside_a_generation_are_not_recorded(sleep_pipe: SleepPipeline) -> None:
    sleep_pipe.dit_s = 0.0
    recorder = StageRecorder().attach(sleep_pipe)
    sleep_pipe(num_inference_steps=3)
    with recorder.generation() as g:
        pass
    recorder.detach()
    assert g.timing.nfe == 0
    assert g.timing.stages_ms == {"text_encode": 0.0, "denoise": 0.0, "vae_decode": 0.0}


def test_detach_removes_probes_and_restores_decode(sleep_pipe: SleepPipeline) -> None:
    original = type(sleep_pipe.transformer)
    recorder = StageRecorder().attach(sleep_pipe)
    assert "decode" in sleep_pipe.vae.__dict__
    assert type(sleep_pipe.transformer) is not original
    assert isinstance(sleep_pipe.transformer, original)
    assert type(sleep_pipe.transformer).__name__ == original.__name__
    recorder.detach()
    recorder.detach()  # twice is harmless
    assert "decode" not in sleep_pipe.vae.__dict__
    assert type(sleep_pipe.transformer) is original
    assert type(sleep_pipe.text_encoder) is original
    assert "_zqa_call_listeners" not in sleep_pipe.transformer.__dict__
    assert not recorder.attached


def test_attach_twice_and_nesting_are_usage_errors(sleep_pipe: SleepPipeline) -> None:
    recorder = StageRecorder().attach(sleep_pipe)
    with pytest.raises(QAUsageError, match="already attached"):
        recorder.attach(sleep_pipe)
    with recorder.generation(), pytest.raises(QAUsageError, match="cannot nest"), recorder.generation():
        pass
    recorder.detach()
    with pytest.raises(QAUsageError, match="attach"), StageRecorder().generation():
        pass


def test_attach_needs_a_transformer() -> None:
    with pytest.raises(QAUsageError, match="transformer"):
        StageRecorder().attach(object())


def test_failed_generation_leaves_recorder_usable(sleep_pipe: SleepPipeline) -> None:
    sleep_pipe.dit_s = 0.0
    recorder = StageRecorder().attach(sleep_pipe)
    handles = []

    def fail_mid_generation() -> None:
        with recorder.generation() as handle:
            handles.append(handle)
            sleep_pipe(num_inference_steps=2)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fail_mid_generation()
    with pytest.raises(QAUsageError, match="timing"):
        _ = handles[0].timing
    with recorder.generation() as g:
        sleep_pipe(num_inference_steps=3)
    assert g.timing.nfe == 3


def test_count_forwards_is_exact_and_removes_its_hook() -> None:
    module = torch.nn.Linear(2, 2)
    with count_forwards(module) as forwards:
        for _ in range(9):
            module(torch.zeros(2))
    module(torch.zeros(2))
    assert forwards.count == 9
    assert not module._forward_pre_hooks
    with pytest.raises(QAUsageError, match="torch module"), count_forwards(object()):
        pass


def test_coverage_of_an_empty_total_is_zero() -> None:
    timing = GenerationTiming(total_ms=0.0, stages_ms={"denoise": 0.0}, nfe=0)
    assert timing.coverage == 0.0
