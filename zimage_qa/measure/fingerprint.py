"""The environment a measurement was taken in, so that runs on different hardware or stacks are never
compared as if alike. Cheap: package versions come from metadata, GPUs from NVML; torch is imported
only when it already is (or `use_torch=True`)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from zimage_qa.measure import _nvml
from zimage_qa.storage import safe_name

PACKAGES = ("torch", "diffusers", "transformers", "modelscope")


@dataclass(frozen=True)
class GpuInfo:
    index: int  # NVML index (CUDA may number differently; see device_class)
    name: str
    compute_capability: str | None
    memory_bytes: int | None
    uuid: str | None


@dataclass(frozen=True)
class Fingerprint:
    gpus: tuple[GpuInfo, ...]
    driver: str | None  # NVIDIA driver version
    cuda_driver: str | None  # newest CUDA the driver supports
    cuda_runtime: str | None  # CUDA torch was built with (torch.version.cuda)
    torch: str | None
    diffusers: str | None
    transformers: str | None
    modelscope: str | None
    python: str
    platform: str
    cpu: str
    cpu_count: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; fits pytest-benchmark's `machine_info` and `zqa doctor --json`."""
        data = asdict(self)
        data["gpus"] = [asdict(g) for g in self.gpus]
        data["device_class"] = device_class(self)
        return data


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _torch_cuda_build() -> str | None:
    """torch.version.cuda without importing torch (read from torch/version.py)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return getattr(torch.version, "cuda", None)
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return None
    try:
        source = (Path(spec.origin).parent / "version.py").read_text()
    except OSError:
        return None
    match = re.search(r"^cuda\s*(?::\s*[^=]+)?=\s*['\"]([^'\"]+)['\"]", source, re.MULTILINE)
    return match.group(1) if match else None


def _cpu_brand() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _cpu_count() -> int | None:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count()


def _nvml_gpus() -> tuple[GpuInfo, ...]:
    count = _nvml.call("nvmlDeviceGetCount")
    gpus = []
    for index in range(int(count or 0)):
        handle = _nvml.call("nvmlDeviceGetHandleByIndex", index)
        if handle is None:
            continue
        name = _nvml.call("nvmlDeviceGetName", handle)
        capability = _nvml.call("nvmlDeviceGetCudaComputeCapability", handle)
        memory = _nvml.call("nvmlDeviceGetMemoryInfo", handle)
        uuid = _nvml.call("nvmlDeviceGetUUID", handle)
        gpus.append(
            GpuInfo(
                index=index,
                name=_nvml.text(name) if name is not None else "unknown GPU",
                compute_capability=f"{capability[0]}.{capability[1]}" if capability else None,
                memory_bytes=int(memory.total) if memory is not None else None,
                uuid=_nvml.text(uuid) if uuid is not None else None,
            )
        )
    return tuple(gpus)


def _torch_gpus(torch: Any) -> tuple[GpuInfo, ...]:
    if not torch.cuda.is_available():
        return ()
    gpus = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        uuid = getattr(props, "uuid", None)
        gpus.append(
            GpuInfo(
                index,
                props.name,
                f"{props.major}.{props.minor}",
                int(props.total_memory),
                str(uuid) if uuid is not None else None,
            )
        )
    return tuple(gpus)


def fingerprint(use_torch: bool | None = None) -> Fingerprint:
    """Where we are running. GPUs come from NVML; torch is asked only when NVML is absent and torch is
    already imported (or `use_torch=True`), because importing torch costs seconds."""
    gpus = _nvml_gpus()
    want_torch = ("torch" in sys.modules) if use_torch is None else use_torch
    if not gpus and want_torch and importlib.util.find_spec("torch") is not None:
        import torch

        gpus = _torch_gpus(torch)
    cuda_driver = _nvml.call("nvmlSystemGetCudaDriverVersion_v2") or _nvml.call(
        "nvmlSystemGetCudaDriverVersion"
    )
    driver = _nvml.call("nvmlSystemGetDriverVersion")
    versions = {name: package_version(name) for name in PACKAGES}
    return Fingerprint(
        gpus=gpus,
        driver=_nvml.text(driver) if driver is not None else None,
        cuda_driver=f"{int(cuda_driver) // 1000}.{int(cuda_driver) % 1000 // 10}" if cuda_driver else None,
        cuda_runtime=_torch_cuda_build(),
        torch=versions["torch"],
        diffusers=versions["diffusers"],
        transformers=versions["transformers"],
        modelscope=versions["modelscope"],
        python=platform.python_version(),
        platform=platform.platform(),
        cpu=_cpu_brand(),
        cpu_count=_cpu_count(),
    )


def _gpu_for(fp: Fingerprint, cuda_index: int) -> GpuInfo | None:
    if not fp.gpus:
        return None
    uuid = _nvml._cuda_uuid(cuda_index) or _nvml._visible_entry(cuda_index)
    if uuid is not None and not uuid.isdigit():
        for gpu in fp.gpus:
            if gpu.uuid == uuid:
                return gpu
    index = int(uuid) if uuid is not None and uuid.isdigit() else cuda_index
    return next((g for g in fp.gpus if g.index == index), fp.gpus[0])


def device_class(fp: Fingerprint, device: object = "cuda:0") -> str:
    """'cpu', or the name of the GPU `device` runs on ('NVIDIA H100 80GB HBM3'): the key budgets and
    goldens are filed under."""
    if str(device).startswith("cpu"):
        return "cpu"
    gpu = _gpu_for(fp, _nvml.cuda_index(device))
    return gpu.name if gpu is not None else "cpu"


def device_slug(gpu_name: str | None) -> str:
    """The folder a device class files its goldens and budgets under: "cpu" for no GPU, else a slug of the
    GPU name ("NVIDIA H100 80GB HBM3" -> "nvidia-h100-80gb-hbm3")."""
    if gpu_name is None or not gpu_name.strip():
        return "cpu"
    slug = re.sub(r"[^a-z0-9]+", "-", gpu_name.strip().lower()).strip("-")
    return safe_name(slug) if slug else "cpu"
