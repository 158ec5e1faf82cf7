"""What groups saved runs (hardware) and what marks events on their timeline (software, weights).

Group key, read from pytest-benchmark's `machine_info`: the GPU name(s) and count, the device class,
the runner CPU and CPU count, from `machine_info["zimage_qa"]` (the gate writes
`zimage_qa.measure.fingerprint.Fingerprint.to_dict()` there: `gpus[].name`, `device_class`, `cpu`,
`cpu_count`; a few other spellings are accepted) or top-level keys, the CPU brand from py-cpuinfo's
`cpu.brand_raw`. GPU UUIDs are left out: two cards of one model on a runner pool are alike. Per
benchmark, the workload profile (`reference`, `synthetic` or `pretrained`, from `extra_info["model"]`)
and `extra_info["device"]` are added: the tiny reference model is another workload, not an upgrade.

Software: driver, CUDA (runtime and driver), torch, diffusers, transformers, modelscope, Python, kernel,
and per benchmark the weights (`extra_info["weights"]`, `extra_info["model_identity"]`, or the model
label of real weights, `org/name@revision`). A change of any of them between two runs of one group is
an event on the timeline, which a lasting change is attributed to.
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
    ("device_class", ("zimage_qa.device_class", "device_class")),
    ("cpu", ("zimage_qa.cpu", "cpu.brand_raw", "cpu.brand", "processor")),
    ("cpus", ("zimage_qa.cpu_count", "cpu.count", "cpu_count")),
)
_SOFTWARE_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "driver",
        ("zimage_qa.driver", "zimage_qa.driver_version", "zimage_qa.gpu.driver", "driver_version", "driver"),
    ),
    (
        "cuda",
        (
            "zimage_qa.cuda_runtime",
            "zimage_qa.cuda",
            "zimage_qa.cuda_version",
            "zimage_qa.gpu.cuda",
            "cuda_version",
            "cuda",
        ),
    ),
    ("cuda driver", ("zimage_qa.cuda_driver",)),
    ("torch", ("zimage_qa.torch", "torch")),
    ("diffusers", ("zimage_qa.diffusers", "diffusers")),
    ("transformers", ("zimage_qa.transformers", "transformers")),
    ("modelscope", ("zimage_qa.modelscope", "modelscope")),
    ("python", ("zimage_qa.python", "python_version")),
    ("kernel", ("release",)),
)
_BUILTIN_PROFILES = ("reference", "synthetic")


def machine_fields(machine_info: object) -> Fields:
    """The hardware of a saved run: GPU model(s) and count, device class, CPU model and count."""
    return _fields(machine_info, _MACHINE_KEYS)


def software_fields(machine_info: object) -> Fields:
    """The software stack of a saved run: driver, CUDA, torch, diffusers, ... (those recorded)."""
    return _fields(machine_info, _SOFTWARE_KEYS)


def _fields(machine_info: object, keys: tuple[tuple[str, tuple[str, ...]], ...]) -> Fields:
    if not isinstance(machine_info, Mapping):
        return ()
    found = []
    for name, paths in keys:
        value = next((v for v in (_lookup(machine_info, p) for p in paths) if v is not None), None)
        if value is None and name == "gpu":
            value = _gpu_list(machine_info.get("zimage_qa"))
        if value is not None:
            found.append((name, value))
    return tuple(found)


def _gpu_list(section: object) -> str | None:
    """`zimage_qa.measure.fingerprint`'s shape: {"gpus": [{"name": ...}, ...]} -> "NVIDIA H100 ... x2"."""
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
    """The workload profile, deployment variant, measuring mode and device of one benchmark record, added to
    its run's hardware group: a compiled and an eager deployment, or a solo and a concurrent measurement, are
    different workloads, never an upgrade of one another."""
    if type(extra_info) is not dict:
        return ()
    model, device = extra_info.get("model"), extra_info.get("device")
    variant, mode = extra_info.get("variant"), extra_info.get("mode")
    if model is None and device is None:
        return ()
    return _cached_fields(
        model if _scalar(model) else None, device if _scalar(device) else None,
        variant if _scalar(variant) else None, mode if _scalar(mode) else None,
    )  # fmt: skip


@functools.lru_cache(maxsize=256)
def _cached_fields(model: object, device: object, variant: object = None, mode: object = None) -> Fields:
    found = []
    if model is not None:
        label = _text(model)
        found.append(("profile", label if label in _BUILTIN_PROFILES else "pretrained"))
    if variant is not None and _text(variant) != "eager":
        found.append(("variant", _text(variant)))
    if mode is not None and _text(mode) != "solo":
        found.append(("mode", _text(mode)))
    if device is not None:
        found.append(("device", _text(device)))
    return tuple(found)


def weights_of(extra_info: object) -> str | None:
    """The weights a benchmark ran: `weights` or `model_identity` (text or a mapping), else the model
    label of real weights ('Tongyi-MAI/Z-Image-Turbo@<rev>'); None for the built-in profiles."""
    if type(extra_info) is not dict:
        return None
    for key in ("weights", "model_identity"):
        value = extra_info.get(key)
        if isinstance(value, Mapping) and value:
            return ", ".join(f"{k}={_text(v)}" for k, v in sorted(value.items()) if _scalar(v))
        if _scalar(value):
            return _text(value)
    model = extra_info.get("model")
    if _scalar(model) and _text(model) not in _BUILTIN_PROFILES:
        return _text(model)
    return None


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
