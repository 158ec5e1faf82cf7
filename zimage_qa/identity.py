"""One identity for "the same deployment on the same machine": what two measurements must share to be
compared. Used by `--qa-baseline`, `zqa history` (its groups) and `zqa gate --each`.

A deployment is the hardware (GPU model(s) and count, device class, runner CPU and CPU count) and the
workload (profile: `reference`, `synthetic` or `pretrained`; the deployment variant, `eager` when not
given; the measuring mode, `solo` when not given; the device a benchmark names). Read from
pytest-benchmark's `machine_info` (the gate writes `zimage_qa.measure.fingerprint.Fingerprint.to_dict()`
under `machine_info["zimage_qa"]`: `gpus[].name`, `device_class`, `cpu`, `cpu_count`; a few other
spellings are accepted, and py-cpuinfo's `cpu.brand_raw`) and a benchmark's `extra_info` (`model`,
`variant`, `mode`, `device`). GPU UUIDs are left out: two cards of one model on a runner pool are alike.
Software (driver, CUDA, torch, diffusers...) and the weights are not part of it: they are what a baseline
and a history exist to compare across, read here too (`software_fields`, `weights_of`): a change of any of
them between two runs of one deployment is an event on its timeline.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

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
BUILTIN_PROFILES = ("reference", "synthetic")
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


def machine_fields(machine_info: object) -> Fields:
    """The hardware of a saved run: GPU model(s) and count, device class, CPU model and count."""
    return field_values(machine_info, _MACHINE_KEYS)


def software_fields(machine_info: object) -> Fields:
    """The software stack of a saved run: driver, CUDA, torch, diffusers, ... (those recorded)."""
    return field_values(machine_info, _SOFTWARE_KEYS)


def weights_of(extra_info: object) -> str | None:
    """The weights a benchmark ran: `weights` or `model_identity` (text or a mapping), else the model
    label of real weights ('Tongyi-MAI/Z-Image-Turbo@<rev>'); None for the built-in profiles."""
    if type(extra_info) is not dict:
        return None
    for key in ("weights", "model_identity"):
        value = extra_info.get(key)
        if isinstance(value, Mapping) and value:
            return ", ".join(f"{k}={text(v)}" for k, v in sorted(value.items()) if scalar(v))
        if scalar(value):
            return text(value)
    model = extra_info.get("model")
    if scalar(model) and text(model) not in BUILTIN_PROFILES:
        return text(model)
    return None


def field_values(machine_info: object, keys: tuple[tuple[str, tuple[str, ...]], ...]) -> Fields:
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
    names = [text(g["name"]) for g in gpus if isinstance(g, Mapping) and scalar(g.get("name"))]
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
        model if scalar(model) else None,
        device if scalar(device) else None,
        variant if scalar(variant) else None,
        mode if scalar(mode) else None,
    )


@functools.lru_cache(maxsize=256)
def _cached_fields(model: object, device: object, variant: object = None, mode: object = None) -> Fields:
    found = []
    if model is not None:
        label = text(model)
        found.append(("profile", label if label in BUILTIN_PROFILES else "pretrained"))
    if variant is not None and text(variant) != "eager":
        found.append(("variant", text(variant)))
    if mode is not None and text(mode) != "solo":
        found.append(("mode", text(mode)))
    if device is not None:
        found.append(("device", text(device)))
    return tuple(found)


@dataclass(frozen=True)
class Deployment:
    """The hardware and the workload of one measurement; `mismatch` says what keeps two apart."""

    machine: Fields
    workload: Fields

    @property
    def key(self) -> Fields:
        return (*self.machine, *self.workload)

    @property
    def label(self) -> str:
        """'NVIDIA H200, 16 CPUs; synthetic, compile=wrap'."""
        m, w = dict(self.machine), dict(self.workload)
        cpus = f", {m['cpus']} CPUs" if "cpus" in m else ""
        hardware = (m.get("gpu") or m.get("device_class") or "no GPU") + cpus
        workload = ", ".join(
            [w.get("profile", "unknown profile"), w.get("variant", "eager")]
            + ([w["mode"]] if "mode" in w else [])
        )
        return f"{hardware}; {workload}"

    def mismatch(self, other: Deployment) -> str | None:
        """None when alike, else the first difference, 'variant compile=wrap vs eager'. A field one side
        does not record (an older record) is not held against it, except the GPU and the profile; the
        variant and the mode default to eager and solo."""
        mine, theirs = self._full(), other._full()
        for name in dict.fromkeys([*mine, *theirs]):
            a, b = mine.get(name), theirs.get(name)
            if a == b:
                continue
            if (a is None or b is None) and name not in ("gpu", "profile"):
                continue
            return f"{name} {a or 'none'} vs {b or 'none'}"
        return None

    def _full(self) -> dict[str, str]:
        fields = {**dict(self.machine), **dict(self.workload)}
        fields.setdefault("variant", "eager")
        fields.setdefault("mode", "solo")
        device = fields.pop("device", None)  # the machine's GPU says it; older records only have this
        if "gpu" not in fields and device is not None and device != "cpu":
            fields["gpu"] = device
        return fields


def deployment_of(machine_info: object, extra_info: object) -> Deployment:
    """The deployment of one saved benchmark: its run's `machine_info` and its own `extra_info`. An older
    record without `machine_info["zimage_qa"]` falls back to the device its benchmark names."""
    machine = machine_fields(machine_info)
    if not any(name == "gpu" for name, _ in machine) and isinstance(extra_info, dict):
        device = extra_info.get("device")
        if scalar(device) and text(device) != "cpu":
            machine = (("gpu", text(device)), *machine)
    return Deployment(machine, benchmark_fields(extra_info))


def _lookup(data: Mapping[str, object], path: str) -> str | None:
    node: object = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return text(node) if scalar(node) else None


def scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip() != ""


def text(value: object) -> str:
    return str(value).strip()


GATE_MODULES = (
    "test_latency.py",
    "test_vram.py",
    "test_guards.py",
    "test_golden.py",
    "test_glyphs.py",
    "test_upgrade.py",
)
_GATE_TEST = re.compile(r"(?:^|.*/)(?:(?:zimage_qa|qa|tests)/gate/)?(?P<test>(?P<module>test_\w+\.py)::.+)$")
STABLE_PREFIX = "zimage_qa/gate/"


def stable_name(fullname: str) -> str:
    """A gate benchmark's name whatever the rootdir, install path or options it ran with:
    '../venv/lib/python3.12/site-packages/zimage_qa/gate/test_latency.py::test_latency[512-simple]',
    'test_latency.py::test_latency[512-simple]' and older names ('qa/gate/...', 'tests/gate/...') all
    become 'zimage_qa/gate/test_latency.py::test_latency[512-simple]'. A name of another folder or module
    is kept as it is."""
    path = fullname.replace("\\", "/")
    match = _GATE_TEST.match(path)
    if match is None or match.group("module") not in GATE_MODULES:
        return fullname
    folder = path[: match.start("test")]
    if folder and not re.search(r"(?:^|/)(?:zimage_qa|qa|tests)/gate/$", folder):
        return fullname
    return STABLE_PREFIX + match.group("test")
