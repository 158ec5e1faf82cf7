"""Guards: the model runs with the settings it is validated with, and a seed means one picture."""

from __future__ import annotations

import numpy as np

from zimage_qa.config import Case, QAConfig
from zimage_qa.golden.validity import checked_picture
from zimage_qa.measure.stages import count_forwards
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.verdict import Verdict


def generate(model: LoadedModel, case: Case, config: QAConfig, seed: int | None = None) -> np.ndarray:
    """One picture; a NaN, black or flat one raises InvalidPicture with that diagnosis."""
    seed = case.seed if seed is None else seed
    image = model.generate(case.prompt, case.width, case.height, case.steps, seed, config.guidance)
    return np.asarray(checked_picture(image, f"{case.id} (seed {seed})", model.nonfinite_output))


def scheduler_verdict(model: LoadedModel, config: QAConfig) -> Verdict:
    name = type(model.pipe.scheduler).__name__
    if name != config.scheduler:
        return Verdict.failed(
            f"scheduler is {name}, the model is validated with {config.scheduler}", scheduler=name
        )
    return Verdict.passed(f"scheduler {name}", scheduler=name)


def guidance_verdict(model: LoadedModel, config: QAConfig, case: Case) -> Verdict:
    if config.guidance != 0.0:
        return Verdict.failed(f"guidance is {config.guidance}; Z-Image-Turbo is validated with guidance 0.0")
    generate(model, case, config)
    if model.pipe.do_classifier_free_guidance:
        return Verdict.failed(
            "the pipeline ran classifier-free guidance (a second, negative pass) with guidance 0"
        )
    return Verdict.passed("guidance 0.0, no CFG pass", guidance=config.guidance)


def dtype_verdict(model: LoadedModel) -> Verdict:
    expected = "bfloat16" if model.on_cuda else "float32"
    wanted = model.dtype_name if model.spec.profile != "synthetic" else "bfloat16"
    found = {
        name: str(getattr(model.pipe, name).dtype).removeprefix("torch.")
        for name in ("transformer", "text_encoder", "vae")
    }
    if set(found.values()) != {wanted}:
        return Verdict.failed(f"component dtypes {found} differ from the configured {wanted}", **found)
    return Verdict.passed(
        f"all components in {wanted} (validated setting on {model.device}: {expected})", **found
    )


def forwards_verdict(model: LoadedModel, config: QAConfig, case: Case) -> Verdict:
    with count_forwards(model.pipe.transformer) as forwards:
        generate(model, case, config)
    if forwards.count != case.nfe:
        return Verdict.failed(
            f"{case.steps} steps made {forwards.count} DiT forwards, the configuration promises {case.nfe} "
            "(diffusers >= 0.42 makes N steps N forwards; earlier, 9 steps made 8): latency moves with the "
            "forward count, so set nfe in the config only after checking the change",
            nfe=forwards.count,
            steps=case.steps,
        )
    return Verdict.passed(
        f"{case.steps} steps -> {forwards.count} DiT forwards", nfe=forwards.count, steps=case.steps
    )


def same_seed_verdict(model: LoadedModel, config: QAConfig, case: Case) -> Verdict:
    first = generate(model, case, config)
    second = generate(model, case, config)
    diff = int(np.abs(first.astype(np.int16) - second.astype(np.int16)).max())
    if diff:
        changed = float((first != second).any(axis=-1).mean())
        return Verdict.failed(
            f"seed {case.seed} gave two different images (max pixel difference {diff}, {changed:.1%} of pixels): "
            f"the pipeline is nondeterministic on {model.device}",
            max_abs_diff=diff,
        )
    return Verdict.passed(f"seed {case.seed} twice: identical pixels", max_abs_diff=diff)


def other_seed_verdict(model: LoadedModel, config: QAConfig, case: Case) -> Verdict:
    first = generate(model, case, config)
    other = generate(model, case, config, seed=case.seed + 1)
    mean_diff = float(np.abs(first.astype(np.float32) - other.astype(np.float32)).mean())
    if mean_diff < 1.0:
        return Verdict.failed(
            f"seeds {case.seed} and {case.seed + 1} gave the same picture (mean difference "
            f"{mean_diff:.2f}/255): the seed is ignored",
            mean_abs_diff=mean_diff,
        )
    return Verdict.passed(
        f"another seed moves the picture by {mean_diff:.1f}/255 on average", mean_abs_diff=mean_diff
    )
