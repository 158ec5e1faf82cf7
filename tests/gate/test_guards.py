"""Guards: the model runs with the settings it is validated with, and a seed means one picture."""

from __future__ import annotations

import numpy as np
import pytest

from qa.checks import Check
from qa.config import Case, QAConfig
from qa.measure.stages import count_forwards
from qa.models.profiles import LoadedModel
from qa.session import checked_picture

pytestmark = [pytest.mark.gpu, pytest.mark.guard]


def _generate(model: LoadedModel, case: Case, config: QAConfig, seed: int | None = None) -> np.ndarray:
    """One picture; a NaN, black or flat one fails the guard with that diagnosis (InvalidPicture)."""
    seed = case.seed if seed is None else seed
    image = model.generate(case.prompt, case.width, case.height, case.steps, seed, config.guidance)
    return np.asarray(checked_picture(model, image, f"{case.id} (seed {seed})"))


def test_scheduler_is_flowmatch_euler(qa_model: LoadedModel, qa_config: QAConfig, qa_check: Check) -> None:
    name = type(qa_model.pipe.scheduler).__name__
    if name != qa_config.scheduler:
        qa_check.fail(
            f"scheduler is {name}, the model is validated with {qa_config.scheduler}", scheduler=name
        )
    qa_check.passed(f"scheduler {name}", scheduler=name)


def test_guidance_is_zero_and_no_cfg_pass(
    qa_model: LoadedModel, qa_config: QAConfig, guard_case: Case, qa_check: Check
) -> None:
    if qa_config.guidance != 0.0:
        qa_check.fail(f"guidance is {qa_config.guidance}; Z-Image-Turbo is validated with guidance 0.0")
    _generate(qa_model, guard_case, qa_config)
    if qa_model.pipe.do_classifier_free_guidance:
        qa_check.fail("the pipeline ran classifier-free guidance (a second, negative pass) with guidance 0")
    qa_check.passed("guidance 0.0, no CFG pass", guidance=qa_config.guidance)


def test_dtype_is_the_configured_one(qa_model: LoadedModel, qa_check: Check) -> None:
    expected = "bfloat16" if qa_model.device.startswith("cuda") else "float32"
    wanted = qa_model.dtype_name if qa_model.spec.profile != "synthetic" else "bfloat16"
    found = {name: str(getattr(qa_model.pipe, name).dtype).removeprefix("torch.")
             for name in ("transformer", "text_encoder", "vae")}  # fmt: skip
    if set(found.values()) != {wanted}:
        qa_check.fail(f"component dtypes {found} differ from the configured {wanted}", **found)
    qa_check.passed(
        f"all components in {wanted} (validated setting on {qa_model.device}: {expected})", **found
    )


def test_dit_forwards_per_image(
    qa_model: LoadedModel, qa_config: QAConfig, guard_case: Case, qa_check: Check
) -> None:
    with count_forwards(qa_model.pipe.transformer) as forwards:
        _generate(qa_model, guard_case, qa_config)
    if forwards.count != guard_case.nfe:
        qa_check.fail(
            f"{guard_case.steps} steps made {forwards.count} DiT forwards, the configuration promises "
            f"{guard_case.nfe} (diffusers >= 0.42 makes N steps N forwards; earlier, 9 steps made 8): "
            "latency moves with the forward count, so set nfe in the config only after checking the change",
            nfe=forwards.count, steps=guard_case.steps,
        )  # fmt: skip
    qa_check.passed(f"{guard_case.steps} steps -> {forwards.count} DiT forwards", nfe=forwards.count,
                    steps=guard_case.steps)  # fmt: skip


def test_same_seed_same_image(
    qa_model: LoadedModel, qa_config: QAConfig, guard_case: Case, qa_check: Check
) -> None:
    first = _generate(qa_model, guard_case, qa_config)
    second = _generate(qa_model, guard_case, qa_config)
    diff = int(np.abs(first.astype(np.int16) - second.astype(np.int16)).max())
    if diff:
        changed = float((first != second).any(axis=-1).mean())
        qa_check.fail(
            f"seed {guard_case.seed} gave two different images (max pixel difference {diff}, "
            f"{changed:.1%} of pixels): the pipeline is nondeterministic on {qa_model.device}",
            max_abs_diff=diff,
        )  # fmt: skip
    qa_check.passed(f"seed {guard_case.seed} twice: identical pixels", max_abs_diff=diff)


def test_other_seed_other_image(
    qa_model: LoadedModel, qa_config: QAConfig, guard_case: Case, qa_check: Check
) -> None:
    first = _generate(qa_model, guard_case, qa_config)
    other = _generate(qa_model, guard_case, qa_config, seed=guard_case.seed + 1)
    mean_diff = float(np.abs(first.astype(np.float32) - other.astype(np.float32)).mean())
    if mean_diff < 1.0:
        qa_check.fail(f"seeds {guard_case.seed} and {guard_case.seed + 1} gave the same picture "
                      f"(mean difference {mean_diff:.2f}/255): the seed is ignored", mean_abs_diff=mean_diff)  # fmt: skip
    qa_check.passed(
        f"another seed moves the picture by {mean_diff:.1f}/255 on average", mean_abs_diff=mean_diff
    )
