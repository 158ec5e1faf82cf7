"""What the overhead benchmark and the GPU self-test run: a model profile (`profile:NAME`, through
`zimage_qa.models`), any builder (`MODULE:FUNC`, called with the device), or a toy pipeline with
ZImagePipeline's shape (`toy`, `toy-gpu`: `text_encoder`, one `transformer` forward per step,
`vae.decode`). Imports torch at module level: only the scripts in `benchmarks/` import it."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zimage_qa.errors import QAUsageError


class ToyTextEncoder(nn.Module):
    def __init__(self, dim: int, vocab: int = 256, layers: int = 2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(nn.Linear(dim, dim) for _ in range(layers))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)
        for layer in self.layers:
            x = torch.nn.functional.gelu(layer(x))
        return x


class ToyTransformer(nn.Module):
    def __init__(self, dim: int, layers: int):
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)) for _ in range(layers)
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor, cap: torch.Tensor) -> torch.Tensor:
        x = x + cap.mean(dim=0, keepdim=True) * t
        for block in self.blocks:
            x = x + block(x)
        return x


class ToyVae(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.proj = nn.Linear(dim, 48)
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        side = int(latents.shape[0] ** 0.5)
        pixels = (
            self.proj(latents)
            .reshape(side, side, 3, 4, 4)
            .permute(2, 0, 3, 1, 4)
            .reshape(1, 3, side * 4, side * 4)
        )
        return self.conv(pixels)


class ToyPipeline:
    """`pipe(prompt, num_inference_steps=8)`: encode, `steps` transformer forwards with an Euler-like
    update in between, decode, copy the image to the host (as output_type='np' would)."""

    def __init__(
        self, device: str = "cpu", dim: int = 128, layers: int = 2, tokens: int = 256, dtype: Any = None
    ):
        dtype = dtype or (torch.bfloat16 if str(device).startswith("cuda") else torch.float32)
        self.device = torch.device(device)
        self.tokens = tokens
        self.text_encoder = ToyTextEncoder(dim).to(self.device, dtype).eval()
        self.transformer = ToyTransformer(dim, layers).to(self.device, dtype).eval()
        self.vae = ToyVae(dim).to(self.device, dtype).eval()
        self.dtype = dtype
        self.dim = dim

    @torch.no_grad()
    def __call__(self, prompt: str = "a red apple on a table", num_inference_steps: int = 8) -> Any:
        ids = torch.tensor([b % 256 for b in prompt.encode()] or [0], device=self.device)
        cap = self.text_encoder(ids)
        gen = torch.Generator(device=self.device).manual_seed(42)
        latents = torch.randn(self.tokens, self.dim, device=self.device, dtype=self.dtype, generator=gen)
        for i in range(num_inference_steps):
            t = torch.tensor(1.0 - i / num_inference_steps, device=self.device, dtype=self.dtype)
            velocity = self.transformer(latents, t, cap)
            latents = latents - velocity / num_inference_steps
        image = self.vae.decode(latents)
        return image.float().cpu()


def toy_pipeline(device: str = "cpu", size: str = "small") -> ToyPipeline:
    """'small' runs in milliseconds anywhere; 'gpu' is about a 1024x1024 token count with a few
    TFLOP per forward, for timing on a GPU."""
    if size == "gpu":
        return ToyPipeline(device, dim=3072, layers=12, tokens=4096)
    return ToyPipeline(device)


@dataclass(frozen=True)
class Workload:
    """A pipeline and one fixed generation of it."""

    name: str
    pipe: Any
    generate: Callable[[], object]
    steps: int


def _from_profile(name: str, device: str, height: int, width: int, steps: int) -> Workload:
    """Model profile `name` ('reference', 'synthetic', a folder or a model id) loaded the way the gate
    loads it (`zimage_qa.models.profiles`), generating through `LoadedModel.generate`."""
    try:
        profiles = importlib.import_module("zimage_qa.models.profiles")
    except ImportError as exc:
        raise QAUsageError(
            f"profile {name!r} needs zimage_qa.models, which is not importable here ({exc}); use toy"
        ) from exc
    loaded = profiles.load_model(profiles.resolve_spec(name), device=device)
    generate = functools.partial(loaded.generate, "A red apple on a table", width, height, steps, 42)
    return Workload(f"profile:{name}", loaded.pipe, generate, steps)


def _from_builder(spec: str, device: str) -> Any:
    module_name, _, func_name = spec.partition(":")
    try:
        builder = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise QAUsageError(f"cannot load pipeline builder {spec!r} ({exc}); write MODULE:FUNCTION") from exc
    return builder(device)


def _diffusers_generate(pipe: Any, height: int, width: int, steps: int, device: str) -> Callable[[], object]:
    params = inspect.signature(pipe.__call__).parameters
    kwargs: dict[str, Any] = {"height": height, "width": width, "num_inference_steps": steps}
    if "guidance_scale" in params:
        kwargs["guidance_scale"] = 0.0
    if "output_type" in params:
        kwargs["output_type"] = "pil"

    def generate() -> object:
        generator = torch.Generator(device=device).manual_seed(42)
        return pipe("A red apple on a table", generator=generator, **kwargs)

    return generate


def load_workload(spec: str, device: str, height: int = 1024, width: int = 1024, steps: int = 8) -> Workload:
    """`toy`, `toy-gpu`, `profile:NAME` or `MODULE:FUNC` -> a Workload on `device`. A builder's pipeline
    is called like ZImagePipeline (prompt, height, width, num_inference_steps, guidance 0, seed 42)."""
    if spec in ("toy", "toy-gpu"):
        pipe: Any = toy_pipeline(device, "gpu" if spec == "toy-gpu" else "small")
        return Workload(spec, pipe, functools.partial(pipe, num_inference_steps=steps), steps)
    if spec.startswith("profile:"):
        return _from_profile(spec.removeprefix("profile:"), device, height, width, steps)
    if ":" in spec:
        pipe = _from_builder(spec, device)
    else:
        raise QAUsageError(f"bad workload {spec!r}: write toy, toy-gpu, profile:NAME or MODULE:FUNCTION")
    if hasattr(pipe, "set_progress_bar_config"):
        pipe.set_progress_bar_config(disable=True)
    return Workload(spec, pipe, _diffusers_generate(pipe, height, width, steps, device), steps)


def default_workload_spec(device: str) -> str:
    """The model profile when zimage_qa.models is there (synthetic on GPU, reference on CPU), else the toy."""
    if importlib.util.find_spec("zimage_qa.models") is None:
        return "toy-gpu" if device.startswith("cuda") else "toy"
    return "profile:synthetic" if device.startswith("cuda") else "profile:reference"
