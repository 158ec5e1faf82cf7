"""Plain values for the check tests: a scenario, its budgets, a `ScenarioResult` of given rounds, and a
model of plain parts whose pictures a test decides."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from PIL import Image

from zimage_qa.config import BudgetSet, Scenario, ScenarioBudget
from zimage_qa.measure.budget import LatencyBudget, MemoryCeiling
from zimage_qa.measure.memory import MemoryKind, PeakMemory
from zimage_qa.measure.rounds import LatencyPolicy
from zimage_qa.measure.scenario import ScenarioResult
from zimage_qa.measure.stages import GenerationTiming
from zimage_qa.measure.stats import summarize
from zimage_qa.models.profiles import LoadedModel, resolve_spec

GIB = 2**30
CASE = Scenario("1024-simple", "a cat", 1024, 1024, 9, 42, 9)
POLICY = LatencyPolicy(
    first_look=3, rounds=5, warmup=1, max_rounds=20, max_rel_iqr=0.10, min_stage_coverage=0.90
)


def result(
    times_s: Sequence[float], nfe: int = 9, coverage: float = 0.98, peak: PeakMemory | None = None
) -> ScenarioResult:
    """Rounds of `times_s` whose stages cover `coverage` of each total."""

    def stages(t: float) -> dict[str, float]:
        return {"text_encode": t * 50.0, "denoise": t * 1000.0 * coverage - t * 100.0, "vae_decode": t * 50.0}

    timings = tuple(GenerationTiming(t * 1000.0, stages(t), nfe) for t in times_s)
    return ScenarioResult(CASE, timings, summarize(list(times_s)), peak, None, None)


def budgets(
    median_s: float | None = 1.6,
    worst_s: float | None = 2.0,
    reserved_gib: float | None = None,
    **cold: float,
) -> BudgetSet:
    latency = LatencyBudget(median_s, worst_s) if median_s or worst_s else None
    ceilings = (MemoryCeiling(int(reserved_gib * GIB), MemoryKind.RESERVED),) if reserved_gib else ()
    return BudgetSet(
        "reference",
        "cpu",
        cold.get("load_s"),
        cold.get("first_image_s"),
        {CASE.id: ScenarioBudget(latency, ceilings)},
        compile_s=cold.get("compile_s"),
        source="budgets.toml",
    )


class Transformer(torch.nn.Module):
    """Counts as the DiT: one call per forward, in the pipe's dtype."""

    def __init__(self, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1, dtype=dtype))

    @property
    def dtype(self) -> torch.dtype:
        return self.weight.dtype

    def forward(self, *args: Any) -> torch.Tensor:
        return self.weight


def noise(seed: int, width: int, height: int) -> np.ndarray:
    """Smooth noise that depends only on the seed and size: a picture any check can judge."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(max(2, height // 32), max(2, width // 32), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))


@dataclass
class Pipe:
    """A pipeline of plain parts: `picture(seed, width, height, call)` says what comes out of each call."""

    picture: Callable[[int, int, int, int], np.ndarray] = lambda s, w, h, n: noise(s, w, h)
    forwards_per_step: int = 1
    cfg: bool = False  # runs a classifier-free guidance pass whatever the guidance
    dtype: torch.dtype = torch.float32
    calls: int = 0
    scheduler: Any = field(default_factory=lambda: FlowMatchEulerDiscreteScheduler(shift=3.0))
    do_classifier_free_guidance: bool = False

    def __post_init__(self) -> None:
        self.transformer = Transformer(self.dtype)
        self.text_encoder = Transformer(self.dtype)
        self.vae = Transformer(self.dtype)

    def __call__(
        self,
        prompt: str,
        *,
        height: int,
        width: int,
        num_inference_steps: int,
        guidance_scale: float,
        generator: torch.Generator,
        output_type: str = "pil",
    ) -> Any:
        self.calls += 1
        self.do_classifier_free_guidance = self.cfg or guidance_scale > 0
        for _ in range(num_inference_steps * self.forwards_per_step):
            self.transformer()
        pixels = self.picture(int(generator.initial_seed()), width, height, self.calls)
        return type("Output", (), {"images": [Image.fromarray(pixels)]})()


def model(pipe: Pipe | None = None, profile: str = "reference") -> LoadedModel:
    pipe = pipe if pipe is not None else Pipe()
    return LoadedModel(resolve_spec(profile), pipe, "cpu", pipe.dtype, 0.01)
