"""Breaking any stage of the reference pipeline fails the golden check; an unbroken rerun passes.

Each break is small and realistic: a 10 % scheduler shift, one step fewer, other sigmas, DiT weights
perturbed by 1 %, the DiT output scaled by 0.97, the DiT in bfloat16, the prompt embedding truncated or
taken from another text-encoder layer, the text encoder perturbed by 2 %, the VAE scaling factor 10 %
off either way, the VAE shift factor dropped or 0.1 off either way, the VAE decoder perturbed by 2 %,
the VAE in bfloat16 (the rest in float32; on the first case only, as bfloat16 convolutions are slow on
a CPU). For every configured golden case the break's picture is judged by the shipped verdict against a
record of the unbroken picture, and must not be "same"; the VAE breaks must fail by a margin (the
most-failed measure's value over its threshold) of at least 1.5.
The margins are printed with `-s` for the report.
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from zimage_qa.config import Case, builtin_config, parse_config
from zimage_qa.golden.outcome import Bound
from zimage_qa.golden.record import GoldenCase, GoldenRecord, make_record
from zimage_qa.golden.verdict import compare
from zimage_qa.models.reference import build_reference_pipeline

Break = Callable[[Any, Case], np.ndarray]
CASES = parse_config(builtin_config(), "<builtin>").golden


def generate(pipe: Any, case: Case, prompt: str | None = "", **kwargs: Any) -> np.ndarray:
    import torch

    with torch.inference_mode():
        result = pipe(
            case.prompt if prompt == "" else prompt,
            height=case.height,
            width=case.width,
            num_inference_steps=kwargs.pop("steps", case.steps),
            guidance_scale=0.0,
            generator=torch.Generator("cpu").manual_seed(case.seed),
            output_type="np",
            **kwargs,
        )
    picture: np.ndarray = (np.clip(result.images[0], 0, 1) * 255 + 0.5).astype(np.uint8)
    return picture


def perturbed(module: Any, relative: float, seed: int = 1) -> None:
    """Add Gaussian noise of `relative` x each weight tensor's own spread (a slightly other checkpoint)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for weight in module.parameters():
            if weight.numel() > 1 and float(weight.std()) > 0:
                weight.add_(torch.randn(weight.shape, generator=generator) * weight.std() * relative)


def embeds(pipe: Any, case: Case, layer: int = -2) -> Any:
    import torch

    text = pipe.tokenizer.apply_chat_template(
        [{"role": "user", "content": case.prompt}], tokenize=False, add_generation_prompt=True
    )
    ids = pipe.tokenizer(text, return_tensors="pt").input_ids
    with torch.inference_mode():
        return pipe.text_encoder(input_ids=ids, output_hidden_states=True).hidden_states[layer][0]


def _scheduler(pipe: Any, **settings: Any) -> Any:
    return type(pipe.scheduler).from_config(pipe.scheduler.config, **settings)


def _shift(pipe: Any, case: Case) -> np.ndarray:
    pipe.scheduler = _scheduler(pipe, shift=pipe.scheduler.config.shift * 1.1)
    return generate(pipe, case)


def _dynamic_shift(pipe: Any, case: Case) -> np.ndarray:
    pipe.scheduler = _scheduler(pipe, use_dynamic_shifting=True)
    return generate(pipe, case)


def _sigmas(pipe: Any, case: Case) -> np.ndarray:  # diffusers < 0.36: N steps, N-1 forwards to 1/N
    return generate(pipe, case, sigmas=np.linspace(1.0, 1.0 / case.steps, case.steps + 1)[:-1].tolist())


def _output_scaled(pipe: Any, case: Case) -> np.ndarray:
    for layer in pipe.transformer.all_final_layer.values():
        layer.register_forward_hook(lambda module, args, out: out * 0.97)
    return generate(pipe, case)


def _dit_bf16(pipe: Any, case: Case) -> np.ndarray:
    import torch

    pipe.transformer.to(torch.bfloat16)
    return generate(pipe, case)


def _vae_config(**change: Callable[[float], float]) -> Break:
    def run(pipe: Any, case: Case) -> np.ndarray:
        pipe.vae.register_to_config(**{key: f(pipe.vae.config[key]) for key, f in change.items()})
        return generate(pipe, case)

    return run


def _perturbing(part: str, relative: float) -> Break:
    """Generate after `perturbed` on the pipeline's `part` (a dotted attribute path)."""

    def run(pipe: Any, case: Case) -> np.ndarray:
        perturbed(operator.attrgetter(part)(pipe), relative)
        return generate(pipe, case)

    return run


def _vae_bf16(pipe: Any, case: Case) -> np.ndarray:  # the pipeline casts the latents to the VAE's dtype
    import torch

    pipe.vae.to(torch.bfloat16)
    return generate(pipe, case)


BREAKS: dict[str, Break] = {
    "scheduler shift +10 %": _shift,
    "scheduler dynamic shifting": _dynamic_shift,
    "sigmas of another spacing": _sigmas,
    "one step fewer": lambda pipe, case: generate(pipe, case, steps=case.steps - 1),
    "DiT weights perturbed 1 %": _perturbing("transformer", 0.01),
    "DiT output x0.97": _output_scaled,
    "DiT in bfloat16": _dit_bf16,
    "prompt embedding truncated by 4 tokens": lambda pipe, case: generate(
        pipe, case, None, prompt_embeds=[embeds(pipe, case)[:-4]]
    ),
    "prompt embedding from the last layer": lambda pipe, case: generate(
        pipe, case, None, prompt_embeds=[embeds(pipe, case, -1)]
    ),
    "text encoder perturbed 2 %": _perturbing("text_encoder", 0.02),
    "VAE scaling factor +10 %": _vae_config(scaling_factor=lambda s: s * 1.1),
    "VAE scaling factor -10 %": _vae_config(scaling_factor=lambda s: s * 0.9),
    "VAE shift factor dropped": _vae_config(shift_factor=lambda s: 0.0),
    "VAE shift factor +0.1": _vae_config(shift_factor=lambda s: s + 0.1),
    "VAE shift factor -0.1": _vae_config(shift_factor=lambda s: s - 0.1),
    "VAE decoder perturbed 2 %": _perturbing("vae.decoder", 0.02),
    "VAE in bfloat16": _vae_bf16,
}
# bfloat16 convolutions on a CPU without bfloat16 units: the VAE takes 12 s on the 512x512 case and 64 s on all
# three (2-core machine), so that break is judged on the first case only
ONE_CASE = {"VAE in bfloat16"}
VAE_MARGIN = 1.5  # the VAE breaks fail by at least this (they were the ones the verdict once tolerated)


def margin(verdict: Any) -> tuple[float, str]:
    """The most-failed measure's value over its threshold (> 1 fails), e.g. (3.2, "structure");
    infinite for a picture that is invalid on its own (black, flat, non-finite)."""
    if verdict.status.value == "invalid":
        return math.inf, "invalid"
    ratios = []
    for m in verdict.measures:
        if m.bound is Bound.AT_MOST and m.threshold > 0:
            ratios.append((m.value / m.threshold, m.name))
        elif m.bound is Bound.AT_LEAST and m.threshold < 1:
            ratios.append(((1 - m.value) / (1 - m.threshold), m.name))
    return max(ratios)


@pytest.fixture(scope="module")
def pipe() -> Any:
    return build_reference_pipeline()


@pytest.fixture(scope="module")
def golden(pipe: Any) -> dict[str, tuple[np.ndarray, GoldenRecord]]:
    out = {}
    for case in CASES:
        image = generate(pipe, case)
        out[case.id] = (image, make_record(image, GoldenCase(case.id, case.width, case.height)))
    return out


def test_the_golden_cases_are_configured() -> None:
    assert len(CASES) >= 3


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_break_fails_the_golden_check_on_every_case(
    name: str, pipe: Any, golden: dict[str, tuple[np.ndarray, GoldenRecord]]
) -> None:
    needed = VAE_MARGIN if name.startswith("VAE") else 1.0
    missed = []
    for case in CASES[:1] if name in ONE_CASE else CASES:
        broken = BREAKS[name](copy.deepcopy(pipe), case)
        verdict = compare(golden[case.id][1], broken)
        worst, measure = margin(verdict)
        print(f"{name} / {case.id}: {verdict.status.value}, margin x{worst:.2f} ({measure})")
        if verdict.same or worst < needed:
            missed.append(f"{case.id} ({verdict.status.value}, margin x{worst:.2f} < x{needed})")
    assert not missed, f"{name} was not caught clearly by the golden check on {', '.join(missed)}"


def test_an_unbroken_rerun_is_the_same_picture(
    pipe: Any, golden: dict[str, tuple[np.ndarray, GoldenRecord]]
) -> None:
    for case in CASES:
        image, record = golden[case.id]
        again = generate(copy.deepcopy(pipe), case)
        assert np.array_equal(again, image)
        assert compare(record, again).same


def test_rerun_noise_is_tolerated(golden: dict[str, tuple[np.ndarray, GoldenRecord]]) -> None:
    """JPEG q85, 0.5 px blur and 3/255 noise on the reference pictures: still the same picture."""
    import io

    from PIL import Image, ImageFilter

    rng = np.random.default_rng(0)
    for case_id, (image, record) in golden.items():
        buffer = io.BytesIO()
        Image.fromarray(image).filter(ImageFilter.GaussianBlur(0.5)).save(buffer, "JPEG", quality=85)
        noisy = np.asarray(Image.open(buffer)).astype(float) + rng.normal(0, 3, image.shape)
        verdict = compare(record, np.clip(noisy + 0.5, 0, 255).astype(np.uint8))
        assert verdict.same, f"{case_id}: {verdict.summary()}"


def test_other_prompts_and_seeds_give_other_pictures(
    pipe: Any, golden: dict[str, tuple[np.ndarray, GoldenRecord]]
) -> None:
    case = CASES[0]
    record = golden[case.id][1]
    other_seed = Case(case.id, case.prompt, case.width, case.height, case.steps, case.seed + 1, case.nfe)
    other_prompt = Case(
        case.id, case.prompt + ", seen from above", case.width, case.height, case.steps, case.seed, case.nfe
    )
    assert not compare(record, generate(pipe, other_seed)).same
    assert not compare(record, generate(pipe, other_prompt)).same
