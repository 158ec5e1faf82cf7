"""The hardware fingerprint of a saved run: what must match before two runs are compared.

Read from pytest-benchmark's `machine_info`: the GPU name(s), driver, CUDA, CPU and device class
from `machine_info["zimage_qa"]` (the gate's plugin writes `qa.measure.fingerprint.Fingerprint.to_dict()`
there: `gpus[].name`, `driver`, `cuda_runtime`, `cpu`, `device_class`; a few other spellings are
accepted) or from top-level keys of the same names, and the CPU brand from py-cpuinfo's `cpu.brand_raw`.
GPU UUIDs are left out: two cards of one model on a runner pool are alike. Per benchmark,
`extra_info["model"]` and `extra_info["device"]` are added: a reference-profile run is never compared
with a full-size one. Software versions (torch, diffusers) are deliberately not part of it: an
upgrade is exactly the change the history must show.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

Fields = tuple[tuple[str, str], ...]

_MACHINE_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "gpu",
        (
            "zimage_qa.gpu.name",
            "zimage_qa.gpu_name",
            "zimage_qa.gpu",
            "zimage_qa.device_name",
            "gpu.name",
            "gpu_name",
            "gpu",
        ),
    ),
    ("gpus", ("zimage_qa.gpu_count", "gpu_count")),
    (
        "driver",
        ("zimage_qa.driver", "zimage_qa.driver_version", "zimage_qa.gpu.driver", "driver_version", "driver"),
    ),
    (
        "cuda",
        (
            "zimage_qa.cuda",
            "zimage_qa.cuda_version",
            "zimage_qa.cuda_runtime",
            "zimage_qa.gpu.cuda",
            "cuda_version",
            "cuda",
        ),
    ),
    ("device_class", ("zimage_qa.device_class", "device_class")),
    ("cpu", ("zimage_qa.cpu", "cpu.brand_raw", "cpu.brand", "processor")),
)
_BENCHMARK_KEYS = ("model", "device")


def machine_fields(machine_info: object) -> Fields:
    if not isinstance(machine_info, Mapping):
        return ()
    found = []
    for name, paths in _MACHINE_KEYS:
        value = next((v for v in (_lookup(machine_info, p) for p in paths) if v is not None), None)
        if value is None and name == "gpu":
            value = _gpu_list(machine_info.get("zimage_qa"))
        if value is not None:
            found.append((name, value))
    return tuple(found)


def _gpu_list(section: object) -> str | None:
    """`qa.measure.fingerprint`'s shape: {"gpus": [{"name": ...}, ...]} -> "NVIDIA H100 ... x2"."""
    gpus = section.get("gpus") if isinstance(section, Mapping) else None
    if not isinstance(gpus, list) or not gpus:
        return None
    names = [_text(g["name"]) for g in gpus if isinstance(g, Mapping) and _scalar(g.get("name"))]
    if not names:
        return None
    if len(set(names)) == 1:
        return names[0] if len(names) == 1 else f"{names[0]} x{len(names)}"
    return " + ".join(names)


def benchmark_fields(extra_info: object) -> Fields:
    if type(extra_info) is not dict:
        return ()
    model, device = extra_info.get("model"), extra_info.get("device")
    if model is None and device is None:
        return ()
    return _cached_fields(model if _scalar(model) else None, device if _scalar(device) else None)


@functools.lru_cache(maxsize=256)
def _cached_fields(model: object, device: object) -> Fields:
    return tuple(
        (k, _text(v)) for k, v in zip(_BENCHMARK_KEYS, (model, device), strict=True) if v is not None
    )


def _lookup(data: Mapping[str, object], path: str) -> str | None:
    node: object = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return _text(node) if _scalar(node) else None


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip() != ""


def _text(value: object) -> str:
    return str(value).strip()
