"""What a gate run refuses before its first check, once, in one line: a device this machine does not have,
a profile that needs a GPU on a machine without one, model weights that are neither here nor reachable.

Pytest-free: the plugin calls `check_device` and `check_weights` when the gate's items are about to run,
`zqa doctor` calls the same ones, so both agree on what the gate would refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from zimage_qa.errors import QAUsageError
from zimage_qa.models import pretrained
from zimage_qa.models.profiles import ModelSpec, ProfileKind
from zimage_qa.options import GateOptions


def cuda_device_count() -> int:
    """CUDA devices this process can see (CUDA_VISIBLE_DEVICES applied), without creating a CUDA context."""
    import torch

    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def check_device(options: GateOptions, spec: ModelSpec, count: Callable[[], int] = cuda_device_count) -> None:
    """QAUsageError when the device option names a CUDA device this machine lacks, or the synthetic profile
    (full size, built on the GPU) would run without one."""
    device = options.device
    if device.kind == "cuda":
        visible = count()
        if device.index >= visible:
            have = (
                "no CUDA device is visible"
                if visible == 0
                else f"only cuda:0..cuda:{visible - 1} are visible"
            )
            raise QAUsageError(
                f"{options.source('device')} {str(device)!r}: {have} here; "
                + ("use cpu or auto" if visible == 0 else f"use cuda:0..cuda:{visible - 1}")
            )
    if spec.kind is ProfileKind.SYNTHETIC and (device.is_cpu or count() == 0):
        raise QAUsageError(
            f"{options.source('model')} synthetic needs a CUDA GPU (the full-size model is built on it) and "
            + ("--qa-device is cpu" if device.is_cpu else "none is visible here")
            + "; use --qa-model reference on this machine, or run on a GPU host"
        )


def check_weights(spec: ModelSpec, source: str = "--qa-model") -> None:
    """QAUsageError when real weights can be neither read here nor fetched: a folder without a pipeline, a hub
    id that is not in the cache while the run is offline, or one the hub does not know (or cannot be
    reached for). Weights already cached are never looked up online."""
    if spec.kind is ProfileKind.LOCAL:
        pretrained.check_pipeline_dir(Path(spec.source))
        return
    if spec.kind is ProfileKind.HUGGINGFACE:
        try:
            pretrained.hf_cached(spec.source, spec.revision)
            return
        except pretrained.NotInCache as missing:
            if pretrained.offline():
                raise QAUsageError(f"{missing} (the run is offline: HF_HUB_OFFLINE is set)") from None
            _check_on_hub(spec, source, str(missing).split(";")[0])
    if spec.kind is ProfileKind.MODELSCOPE:
        try:
            pretrained.modelscope_cached(spec.source, spec.revision)
        except pretrained.NotInCache as missing:
            if pretrained.offline():
                raise QAUsageError(f"{missing} (the run is offline: HF_HUB_OFFLINE is set)") from None
            if not pretrained.modelscope_installed():
                raise QAUsageError(
                    f"{str(missing).split(';')[0]}, and downloading it needs the modelscope package: "
                    "pip install 'zimage-qa[modelscope]'"
                ) from None


def _check_on_hub(spec: ModelSpec, source: str, missing: str) -> None:
    """One metadata request: does the Hugging Face hub know this id at this revision?"""
    from huggingface_hub import HfApi

    try:
        HfApi().model_info(spec.source, revision=spec.revision, timeout=20)
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        here = Path(spec.source)
        folder = f"; there is no folder {here} here either" if not here.exists() else ""
        raise QAUsageError(
            f"{source} {spec.source!r}: {missing}, and the Hugging Face hub did not confirm it "
            f"({type(exc).__name__}: {detail[:160]}){folder}; check the id, or pass a local folder"
        ) from None
