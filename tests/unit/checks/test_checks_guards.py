"""Guards on a model of plain parts: the validated scheduler, guidance and dtype pass and others fail; the
forward count is what the case promises; a seed means one picture and another seed another."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from check_values import CASE, Pipe, model, noise
from diffusers import DDIMScheduler

from zimage_qa.checks import guards
from zimage_qa.config import load_config
from zimage_qa.errors import InvalidPicture
from zimage_qa.verdict import Status

CONFIG = load_config()  # the built-in configuration: FlowMatch Euler, guidance 0
SMALL = CASE.__class__("tiny", "a cat", 64, 64, 9, 42, 9)


def test_the_validated_scheduler_passes_and_another_fails() -> None:
    assert guards.scheduler_verdict(model(), CONFIG).status is Status.PASSED
    other = guards.scheduler_verdict(model(Pipe(scheduler=DDIMScheduler())), CONFIG)
    assert other.status is Status.FAILED and "scheduler is DDIMScheduler" in other.message


def test_guidance_zero_without_a_cfg_pass_passes() -> None:
    assert guards.guidance_verdict(model(), CONFIG, SMALL).status is Status.PASSED
    cfg = guards.guidance_verdict(model(Pipe(cfg=True)), CONFIG, SMALL)
    assert cfg.status is Status.FAILED and "classifier-free guidance" in cfg.message
    guided = guards.guidance_verdict(model(), replace(CONFIG, guidance=3.5), SMALL)
    assert guided.status is Status.FAILED and "guidance is 3.5" in guided.message


def test_components_in_the_configured_dtype_pass_and_a_mixed_pipe_fails() -> None:
    assert guards.dtype_verdict(model()).status is Status.PASSED
    pipe = Pipe()
    pipe.vae = pipe.vae.to(torch.bfloat16)
    mixed = guards.dtype_verdict(model(pipe))
    assert mixed.status is Status.FAILED and mixed.values["vae"] == "bfloat16"


@pytest.mark.parametrize(("per_step", "status"), [(1, Status.PASSED), (2, Status.FAILED)])
def test_the_forward_count_is_what_the_case_promises(per_step: int, status: Status) -> None:
    verdict = guards.forwards_verdict(model(Pipe(forwards_per_step=per_step)), CONFIG, SMALL)
    assert verdict.status is status and verdict.values["nfe"] == 9 * per_step


def test_one_seed_one_picture_and_a_nondeterministic_pipe_fails() -> None:
    assert guards.same_seed_verdict(model(), CONFIG, SMALL).status is Status.PASSED
    drifting = Pipe(picture=lambda s, w, h, n: noise(s + n, w, h))
    verdict = guards.same_seed_verdict(model(drifting), CONFIG, SMALL)
    assert verdict.status is Status.FAILED and "seed 42 gave two different images" in verdict.message


def test_another_seed_moves_the_picture_and_an_ignored_seed_fails() -> None:
    assert guards.other_seed_verdict(model(), CONFIG, SMALL).status is Status.PASSED
    ignoring = Pipe(picture=lambda s, w, h, n: noise(0, w, h))
    verdict = guards.other_seed_verdict(model(ignoring), CONFIG, SMALL)
    assert verdict.status is Status.FAILED and "the seed is ignored" in verdict.message


def test_a_black_picture_raises_invalid_picture_naming_the_case() -> None:
    black = Pipe(picture=lambda s, w, h, n: np.zeros((h, w, 3), np.uint8))
    with pytest.raises(InvalidPicture, match=r"tiny \(seed 42\)"):
        guards.same_seed_verdict(model(black), CONFIG, SMALL)
