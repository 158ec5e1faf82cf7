"""Stub pipelines for the plugin's own tests: real torch modules with controlled time, memory and pictures.

A stub behaves like ZImagePipeline where the gate looks (text_encoder, transformer, vae.decode, the
scheduler, `do_classifier_free_guidance`) and draws a picture chosen by the test, so each gate can be
shown to pass what it should and fail what it should.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from PIL import Image

from qa.models.profiles import LoadedModel, ModelSpec


class _Sleeper(torch.nn.Module):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.weight = torch.nn.Parameter(torch.zeros(1))

    @property
    def dtype(self) -> torch.dtype:
        return self.weight.dtype

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        time.sleep(self.seconds)
        return self.weight


class _Vae(_Sleeper):
    def decode(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        return self(*args)


def noise_picture(seed: int, width: int, height: int) -> np.ndarray:
    """Smooth structured noise: a real-looking test picture that depends only on the seed and size."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(max(2, height // 32), max(2, width // 32), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))


@dataclass
class StubPipe:
    """`picture(prompt, seed, width, height) -> uint8 array` decides what comes out."""

    encode_s: float = 0.001
    forward_s: float = 0.002
    decode_s: float = 0.001
    forwards_per_step: int = 1
    picture: Callable[[str, int, int, int], np.ndarray] = lambda p, s, w, h: noise_picture(s, w, h)
    calls: int = 0
    scheduler: Any = field(default_factory=lambda: FlowMatchEulerDiscreteScheduler(shift=3.0))
    do_classifier_free_guidance: bool = False

    def __post_init__(self) -> None:
        self.text_encoder = _Sleeper(self.encode_s)
        self.transformer = _Sleeper(self.forward_s)
        self.vae = _Vae(self.decode_s)

    def __call__(self, prompt: str, *, height: int, width: int, num_inference_steps: int,
                 guidance_scale: float, generator: torch.Generator, output_type: str = "pil") -> Any:  # fmt: skip
        self.calls += 1
        self.do_classifier_free_guidance = guidance_scale > 0
        self.text_encoder(prompt)
        for _ in range(num_inference_steps * self.forwards_per_step):
            self.transformer(None)
        self.vae.decode(None)
        seed = int(generator.initial_seed())
        image = Image.fromarray(self.picture(prompt, seed, width, height))
        return type("Output", (), {"images": [image]})()


def stub_loader(
    pipe: StubPipe, loads: list[int] | None = None
) -> Callable[[ModelSpec, str, str], LoadedModel]:
    """A `pytest_zqa_loader` result that hands out `pipe` and counts loads in `loads`."""

    def load(spec: ModelSpec, device: str, dtype: str) -> LoadedModel:
        if loads is not None:
            loads.append(1)
        return LoadedModel(spec, pipe, "cpu", torch.float32, 0.01)

    return load


FONT = Path(__file__).resolve().parents[1] / "fonts" / "zqa-sans.otf"


def text_picture(text: str, width: int, height: int) -> np.ndarray:
    """`text` in black on a light background, large and centred: what a model that renders text draws."""
    from PIL import ImageDraw, ImageFont

    canvas = Image.new("RGB", (width, height), (236, 228, 210))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.truetype(str(FONT), size=max(24, width // (len(text) + 2)))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - (right - left)) / 2 - left, (height - (bottom - top)) / 2 - top), text, font=font,
              fill=(20, 20, 20))  # fmt: skip
    return np.asarray(canvas)
