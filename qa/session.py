"""The gate's session: options, configuration, the one model load, warm-up, and what could not run.

Pytest-free: the plugin builds one `GateSession` per run through `from_config`; a notebook or the CLI
can build one with explicit values.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.config import Case, QAConfig
from qa.errors import QAUsageError
from qa.measure.memory import MemoryReading, cuda_context_bytes, read_memory
from qa.models.profiles import LoadedModel, ModelSpec, load_model


class GoldenUpdate(enum.Enum):
    OFF = "off"
    CHANGED = "changed"  # write new and changed records; those tests still fail, naming what was written
    ALL = "all"  # rewrite every record; the run passes


@dataclass(frozen=True)
class GateOptions:
    """Every `--qa-*` choice, resolved (marker > command line > environment > ini > default)."""

    model: str = "reference"
    revision: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    config_path: Path | None = None
    scenarios: str | None = None
    require_gpu: bool = False
    report_dir: Path = Path("qa-report")
    golden_dir: Path = Path("golden")
    update_golden: GoldenUpdate = GoldenUpdate.OFF
    ocr_engine: str = "rapidocr"
    easyocr_dir: Path | None = None


Loader = Callable[[ModelSpec, str, str], LoadedModel]


@dataclass
class GateSession:
    """One gate run: loads the model at most once and warms it for the sizes the run will measure."""

    options: GateOptions
    config: QAConfig
    spec: ModelSpec
    loader: Loader = field(default=load_model)
    load_count: int = 0
    first_image_s: float | None = None
    warmed_sizes: set[tuple[int, int]] = field(default_factory=set)
    planned_cases: list[Case] = field(default_factory=list)
    fatal: str | None = None  # a sticky device error: every later GPU check reports it as not run
    memory_idle: MemoryReading | None = None  # before anything touched CUDA
    memory_loaded: MemoryReading | None = None
    context_bytes: int | None = None  # the CUDA context's share of device memory
    _model: LoadedModel | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def model(self) -> LoadedModel:
        """The session's model, loaded on first use and never again."""
        if self._model is None:
            self.load_count += 1
            device = "cuda:0" if self.options.device == "auto" else self.options.device
            self.memory_idle = read_memory(device)
            if self.memory_idle.nvml_used_bytes is not None and self.spec.profile != "reference":
                self.context_bytes = cuda_context_bytes(self.memory_idle.nvml_used_bytes, device)
            self._model = self.loader(self.spec, self.options.device, self.options.dtype)
            self.memory_loaded = read_memory(self._model.device)
        return self._model

    def gpu_reason(self) -> str | None:
        """Why GPU-only checks cannot run here, or None when they can."""
        model = self.model()
        if not model.device.startswith("cuda"):
            why = (
                "the reference profile runs on the CPU"
                if self.spec.profile == "reference"
                else "none visible"
            )
            return f"no CUDA device ({why})"
        return None

    def require_gpu_problem(self) -> str | None:
        """With --qa-require-gpu: what makes this run unfit for a GPU gate, else None."""
        if not self.options.require_gpu:
            return None
        if self.spec.profile == "reference":
            return "--qa-require-gpu: the reference profile is not a GPU gate; pass --qa-model synthetic or real weights"
        reason = self.gpu_reason()
        return f"--qa-require-gpu: {reason}" if reason else None

    def warm(self, cases: Iterable[Case] | None = None) -> None:
        """Untimed generations, one per size not yet warmed; the very first one is the first-image time."""
        model = self.model()
        for case in cases if cases is not None else self.planned_cases:
            size = (case.width, case.height)
            if size in self.warmed_sizes:
                continue
            for _ in range(max(1, self.config.run_for(self.spec.profile).warmup)):
                started = time.perf_counter()
                model.generate(
                    case.prompt, case.width, case.height, case.steps, case.seed, self.config.guidance
                )
                _synchronize(model.device)
                if self.first_image_s is None:
                    self.first_image_s = time.perf_counter() - started
            self.warmed_sizes.add(size)

    def cost_line(self, wall_s: float) -> str | None:
        """What the run cost against the model work it did: wall vs load plus generations."""
        if self._model is None:
            return None
        work = self._model.load_s + self._model.generation_s
        return (
            f"session: wall {wall_s:.1f} s; load {self._model.load_s:.1f} s + {self._model.generations} "
            f"generations {self._model.generation_s:.1f} s = {work:.1f} s (wall / work {wall_s / work:.2f})"
        )

    def device_name(self) -> str:
        model = self.model()
        if not model.device.startswith("cuda"):
            return "cpu"
        import torch

        return str(torch.cuda.get_device_name(torch.device(model.device)))

    def check_usable(self) -> None:
        """Refuse to go on after a sticky device error (the CUDA context is gone)."""
        if self.fatal:
            raise QAUsageError(self.fatal)


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def plan_sizes(cases: Iterable[Case]) -> list[tuple[int, int]]:
    return sorted({(c.width, c.height) for c in cases})


def new_plan(cases: Iterable[Any]) -> list[Case]:
    """The distinct cases a run will generate, first of each size kept (warm-up needs one per size)."""
    seen: dict[tuple[int, int], Case] = {}
    for case in cases:
        if isinstance(case, Case):
            seen.setdefault((case.width, case.height), case)
    return list(seen.values())
