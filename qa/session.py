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
from qa.errors import QACheckError, QAUsageError
from qa.measure.memory import MemoryReading, cuda_context_bytes, read_memory
from qa.models.profiles import LoadedModel, ModelSpec, load_model


class GpuLock(enum.Enum):
    """What a run does when another zimage-qa run holds the same device."""

    WAIT = "wait"
    FAIL = "fail"
    OFF = "off"


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
    timeout_s: float = 900.0  # per GPU test; 0 turns it off
    gpu_lock: GpuLock = GpuLock.WAIT


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

    def warm(self, cases: Iterable[Case] | None = None, *, skip_oom: bool = False) -> None:
        """Untimed generations, one per size not yet warmed; the very first one is the first-image time.
        With `skip_oom`, a size that runs out of memory is released and left cold: its own check meets
        the error and fails with the numbers, while the rest of the session runs."""
        from qa.measure.oom import is_oom, release_memory

        model = self.model()
        for case in cases if cases is not None else self.planned_cases:
            size = (case.width, case.height)
            if size in self.warmed_sizes:
                continue
            try:
                self._warm_size(model, case)
            except Exception as exc:
                if not (skip_oom and is_oom(exc)):
                    raise
                release_memory(exc, model.device)
                continue
            self.warmed_sizes.add(size)

    def _warm_size(self, model: LoadedModel, case: Case) -> None:
        for _ in range(max(1, self.config.run_for(self.spec.profile).warmup)):
            started = time.perf_counter()
            model.generate(case.prompt, case.width, case.height, case.steps, case.seed, self.config.guidance)
            _synchronize(model.device)
            if self.first_image_s is None:
                self.first_image_s = time.perf_counter() - started

    def expected_device(self) -> str:
        """Where the model will run, said before loading and without importing torch (NVML names GPUs)."""
        from qa.measure.fingerprint import fingerprint

        if (
            self.spec.profile == "reference" and self.options.device == "auto"
        ) or self.options.device == "cpu":
            return "cpu"
        gpus = fingerprint(use_torch=False).gpus
        if not gpus:
            return "cpu (no CUDA device visible)"
        index = int(self.options.device.split(":")[1]) if self.options.device.startswith("cuda:") else 0
        return next((f"cuda:{index} {g.name}" for g in gpus if g.index == index), f"cuda:{index}")

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

    def device_key(self) -> str:
        """What the per-device lock is keyed by: `cpu`, or the GPU's UUID (whatever its CUDA index)."""
        if self.spec.profile == "reference" and self.options.device in ("auto", "cpu"):
            return "cpu"
        if self.options.device == "cpu":
            return "cpu"
        from qa.measure import _nvml

        index = _nvml.cuda_index(self.options.device)
        handle = _nvml.handle(index)
        uuid = _nvml.call("nvmlDeviceGetUUID", handle) if handle is not None else None
        return _nvml.text(uuid) if uuid else f"cuda{_nvml._visible_entry(index) or index}"

    def absorb(self, exc: BaseException, where: str) -> str | None:
        """The failure sentence for a fault the gate survives (out of memory, a sticky device error,
        an invalid picture), or None for any other exception. A sticky error sets `fatal`."""
        from qa.measure.oom import is_oom, oom_failure

        if isinstance(exc, InvalidPicture):
            return str(exc)
        device = self._model.device if self._model is not None else "cuda:0"
        if is_oom(exc):
            return oom_failure(exc, where, device)
        if is_sticky_device_error(exc):
            first = _first_line(exc)
            self.fatal = (
                f"a sticky CUDA error in {where} ({first}) left the CUDA context unusable; "
                "restart the process, and check the driver and the card (nvidia-smi, dmesg) before trusting "
                "this GPU"
            )
            return f"sticky CUDA error: {first}; every remaining GPU check of this run is not run"
        return None

    def not_run_reason(self) -> str | None:
        """Why a GPU check must not start (a sticky device error earlier in the run), or None."""
        return f"not run: {self.fatal}" if self.fatal else None


class HangWatchdog:
    """The backstop behind pytest-timeout's signal method, which cannot interrupt a native call (a CUDA
    kernel or synchronise that never returns): after `seconds`, say which test hung, dump every
    thread's stack, and end the process so that a CI runner is freed instead of hanging for hours."""

    def __init__(
        self, seconds: float, test_id: str, exit_code: int = 3, before: Callable[[], object] | None = None
    ) -> None:
        import threading

        self.seconds, self.test_id, self.exit_code, self.before = seconds, test_id, exit_code, before
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> HangWatchdog:
        if self.seconds > 0:
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        import faulthandler
        import os
        import sys

        if self.before is not None:  # e.g. stop pytest's output capture, so that the lines reach the terminal
            self.before()
        stream = sys.__stderr__ or sys.stderr
        stream.write(
            f"\nzimage-qa: {self.test_id} is still running after {self.seconds:.0f} s, stuck inside a native "
            "call that the per-test timeout cannot interrupt; stopping the process (files already written are "
            "intact). Stacks of every thread follow.\n"
        )
        stream.flush()
        faulthandler.dump_traceback(file=stream, all_threads=True)
        stream.flush()
        os._exit(self.exit_code)


class InvalidPicture(QACheckError):
    """The pipeline produced a picture no check can judge: NaN, black or flat."""


# Errors after which the CUDA context is unusable: every later call on it fails the same way.
_STICKY = (
    "illegal memory access", "device-side assert", "unspecified launch failure", "misaligned address",
    "illegal instruction", "an illegal address", "uncorrectable ecc", "cuda error: launch failure",
    "cudaerrorlaunchfailure", "device not ready", "gpu has fallen off the bus", "cublas_status_execution_failed",
)  # fmt: skip


def is_sticky_device_error(exc: BaseException) -> bool:
    """A CUDA error that poisons the context (device-side assert, illegal address, Xid), not an OOM."""
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and "out of memory" not in text and any(s in text for s in _STICKY)


def picture_problem(image: Any, nonfinite: bool = False) -> str | None:
    """Why `image` cannot be judged (NaN in the decoded output, black, flat), or None when it is valid."""
    from qa.golden.pixels import as_pixels
    from qa.golden.validity import invalid_reasons

    pixels = as_pixels(image)
    reasons = invalid_reasons(pixels)
    if nonfinite or pixels.nonfinite:
        return "NaN or infinite values in the decoded picture" + (
            f" (so it is {reasons[0]})" if reasons else ""
        )
    return reasons[0] if reasons else None


def checked_picture(model: LoadedModel, image: Any, what: str) -> Any:
    """`image`, or InvalidPicture naming `what` and the diagnosis."""
    problem = picture_problem(image, bool(getattr(model, "nonfinite_output", False)))
    if problem:
        raise InvalidPicture(
            f"the pipeline produced an invalid picture for {what}: {problem}; check the weights, dtype and "
            "VAE (NaN latents show as black)"
        )
    return image


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def new_plan(cases: Iterable[Any]) -> list[Case]:
    """The distinct cases a run will generate, first of each size kept (warm-up needs one per size)."""
    seen: dict[tuple[int, int], Case] = {}
    for case in cases:
        if isinstance(case, Case):
            seen.setdefault((case.width, case.height), case)
    return list(seen.values())
