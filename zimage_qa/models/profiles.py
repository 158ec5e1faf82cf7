"""What `--qa-model` names, resolved to a spec, and the loaded model the gate drives.

`resolve_spec` is pure (no torch); `load_model` builds or loads the pipeline once and says what the
profile can be judged on (a random-weight model cannot render text or be judged for looks).
"""

from __future__ import annotations

import enum
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zimage_qa.device import Device, on_cuda, synchronize
from zimage_qa.errors import QAUsageError
from zimage_qa.models import pretrained
from zimage_qa.models.identity import (
    WeightsIdentity,
    builtin_identity,
    folder_identity,
    modelscope_identity,
)
from zimage_qa.models.offload import release, release_after_failure, resident_models
from zimage_qa.models.reference import build_reference_pipeline
from zimage_qa.models.synthetic import build_synthetic_pipeline

if TYPE_CHECKING:
    from zimage_qa.models.variant import AppliedVariant

BUILTIN = ("reference", "synthetic")
DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


class ProfileKind(enum.Enum):
    REFERENCE = "reference"
    SYNTHETIC = "synthetic"
    LOCAL = "local"
    HUGGINGFACE = "huggingface"
    MODELSCOPE = "modelscope"


@dataclass(frozen=True)
class ModelSpec:
    """What to load: a built-in profile, a folder, or a hub id with an optional revision."""

    kind: ProfileKind
    source: str
    revision: str | None = None

    @property
    def label(self) -> str:
        if self.kind in (ProfileKind.REFERENCE, ProfileKind.SYNTHETIC):
            return str(self.kind.value)
        prefix = "modelscope:" if self.kind is ProfileKind.MODELSCOPE else ""
        suffix = f"@{self.revision}" if self.revision else ""
        return f"{prefix}{self.source}{suffix}"

    @property
    def profile(self) -> str:
        """The golden/budget profile key: built-ins by name, real weights all as `pretrained`."""
        return (
            self.kind.value if self.kind in (ProfileKind.REFERENCE, ProfileKind.SYNTHETIC) else "pretrained"
        )

    @property
    def renders_text(self) -> bool:
        return self.kind not in (ProfileKind.REFERENCE, ProfileKind.SYNTHETIC)

    @property
    def judged_for_looks(self) -> bool:
        """Golden images apply to the reference (deterministic) and to real weights, not to synthetic."""
        return self.kind is not ProfileKind.SYNTHETIC


def resolve_spec(name: str, revision: str | None = None) -> ModelSpec:
    """Turn the user's `--qa-model` value into a spec; a folder that is not there is an error."""
    value = name.strip()
    if not value:
        raise QAUsageError("--qa-model is empty; use reference, synthetic, a folder, or an id like org/name")
    if value in BUILTIN:
        if revision:
            raise QAUsageError(
                f"--qa-revision applies to real weights, not to the built-in {value!r} profile"
            )
        return ModelSpec(ProfileKind(value), value)
    if value.startswith("modelscope:"):
        model_id = value.removeprefix("modelscope:")
        _check_repo_id(model_id, value)
        return ModelSpec(ProfileKind.MODELSCOPE, model_id, revision)
    path = Path(value).expanduser()
    if path.is_dir():
        return ModelSpec(ProfileKind.LOCAL, str(path.resolve()), revision)
    if _looks_like_path(value):
        raise QAUsageError(
            f"model folder {path} does not exist; pass the folder that save_pretrained wrote, "
            "or an id like Tongyi-MAI/Z-Image-Turbo"
        )
    _check_repo_id(value, value)
    return ModelSpec(ProfileKind.HUGGINGFACE, value, revision)


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", ".", "~")) or value.count("/") > 1 or "\\" in value


def _check_repo_id(model_id: str, given: str) -> None:
    parts = model_id.split("/")
    if len(parts) != 2 or not all(parts) or any(" " in p for p in parts):
        raise QAUsageError(
            f"--qa-model {given!r} is neither a built-in profile, an existing folder, nor an id like "
            "org/name; use reference, synthetic, a folder, org/name or modelscope:org/name"
        )


def resolve_device(requested: str | Device, spec: ModelSpec) -> str:
    """The torch device for `--qa-device` (`Device.resolved`): `auto` means CUDA when visible, else CPU; the
    reference stays on CPU. A string comes from a loader hook (`pytest_zqa_loader` hands its loader one)."""
    import torch

    device = requested if isinstance(requested, Device) else Device.parse(requested)
    available = torch.cuda.is_available()
    if device.kind == "cuda" and not available:
        raise QAUsageError(f"--qa-device {device} was asked for but no CUDA device is visible; use cpu")
    return device.resolved(spec.kind.value, available)


def resolve_dtype(requested: str, device: str) -> Any:
    """`auto` means bf16 on a GPU (the validated setting) and fp32 on a CPU."""
    import torch

    if requested == "auto":
        return torch.bfloat16 if on_cuda(device) else torch.float32
    if requested not in DTYPES:
        raise QAUsageError(f"--qa-dtype {requested!r} is not known; use auto, bf16, fp16 or fp32")
    return getattr(torch, DTYPES[requested])


@dataclass
class LoadedModel:
    """A pipeline ready to generate, with what it is and how long loading took."""

    spec: ModelSpec
    pipe: Any
    device: str
    dtype: Any
    load_s: float
    generations: int = field(default=0)
    generation_s: float = field(default=0.0)  # wall time spent inside generate(), all calls
    nonfinite_output: bool = field(default=False)  # the last generate() cast NaN/inf pixels to 8 bits
    identity: WeightsIdentity | None = field(default=None)  # what actually loaded (snapshot, content hash)
    variant: AppliedVariant | None = field(
        default=None
    )  # how it is served (compile, offload...), if not eager

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    @property
    def on_cuda(self) -> bool:
        return on_cuda(self.device)

    def generator(self, seed: int) -> Any:
        import torch

        return torch.Generator(self.device).manual_seed(seed)

    def generate(
        self, prompt: str, width: int, height: int, steps: int, seed: int, guidance: float = 0.0
    ) -> Any:
        """One image as a PIL picture; inference mode, no progress bar. With model CPU offload every model
        is back on the host afterwards, also when the call raised (see zimage_qa.models.offload)."""
        import torch

        started = time.perf_counter()
        try:
            with torch.inference_mode(), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = self.pipe(
                    prompt,
                    height=height,
                    width=width,
                    num_inference_steps=steps,
                    guidance_scale=guidance,
                    generator=self.generator(seed),
                    output_type="pil",
                )
        except BaseException:
            release_after_failure(self.pipe)  # the call never reached maybe_free_model_hooks()
            raise
        if resident_models(self.pipe):  # a pipeline whose call does not end by freeing the hooks
            release(self.pipe)
        self.nonfinite_output = _replay_warnings(caught)
        self.generations += 1
        self.generation_s += time.perf_counter() - started  # PIL output: the device work is done
        return result.images[0]


def _replay_warnings(caught: list[warnings.WarningMessage]) -> bool:
    """Re-issue what the pipeline warned, except numpy's NaN-to-uint8 cast (diffusers' `numpy_to_pil`
    on NaN latents), which is reported as True: the picture that came out of NaN is only black."""
    nonfinite = False
    for item in caught:
        if issubclass(item.category, RuntimeWarning) and "invalid value encountered" in str(item.message):
            nonfinite = True
            continue
        warnings.warn_explicit(item.message, item.category, item.filename, item.lineno, source=item.source)
    return nonfinite


def load_model(
    spec: ModelSpec, device: str | Device = "auto", dtype: str = "auto", *, on_host: bool = False
) -> LoadedModel:
    """Build or load the pipeline for `spec` once; the caller keeps it for the whole session. `on_host`:
    weights from a folder or hub stay in host memory (the deployment offloads them); the built-in
    profiles are built where they run (the synthetic one on the GPU: random init on the host is slow)."""
    device = device if isinstance(device, Device) else Device.parse(device)
    if spec.kind is ProfileKind.SYNTHETIC and device.kind in ("auto", "cpu"):
        import torch

        if device.kind == "cpu" or not torch.cuda.is_available():
            raise QAUsageError(
                "the synthetic profile needs a CUDA GPU and none is visible; "
                "use --qa-model reference on this machine, or run on a GPU host"
            )
    resolved_device = resolve_device(device, spec)
    torch_dtype = resolve_dtype(dtype, resolved_device)
    started = time.perf_counter()
    folder: Path | None = None
    if spec.kind is ProfileKind.REFERENCE:
        pipe = build_reference_pipeline(resolved_device, torch_dtype)
    elif spec.kind is ProfileKind.SYNTHETIC:
        pipe = build_synthetic_pipeline(resolved_device, torch_dtype)
    else:
        if spec.kind is ProfileKind.LOCAL:
            folder = Path(spec.source)
        elif spec.kind is ProfileKind.MODELSCOPE:
            folder = pretrained.modelscope_snapshot(spec.source, spec.revision)
        else:
            folder = pretrained.hf_snapshot(spec.source, spec.revision)
        pipe = pretrained.load_pretrained(folder, resolved_device, torch_dtype, place=not on_host)
    synchronize(resolved_device)
    load_s = time.perf_counter() - started
    return LoadedModel(spec, pipe, resolved_device, torch_dtype, load_s, identity=identify(spec, folder))


def identify(spec: ModelSpec, folder: Path | None) -> WeightsIdentity:
    """The identity of what `load_model` loaded for `spec` from `folder` (None for the built-ins)."""
    if spec.kind in (ProfileKind.REFERENCE, ProfileKind.SYNTHETIC):
        return builtin_identity(spec.kind.value)
    if folder is None:
        raise QAUsageError(f"{spec.label} names real weights but no folder was loaded; pass the folder")
    if spec.kind is ProfileKind.MODELSCOPE:
        return modelscope_identity(folder)
    return folder_identity(folder)
