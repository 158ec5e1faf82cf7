"""The GPUs of this host as NVML numbers them (PCI bus order), and the `--gpus` selection among them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.measure import _nvml


@dataclass(frozen=True)
class Card:
    """One GPU: its NVML index (the CUDA index under CUDA_DEVICE_ORDER=PCI_BUS_ID), name, UUID and PCI
    bus id ('0000:19:00.0', the sysfs spelling), each empty when NVML did not say."""

    index: int
    name: str = ""
    uuid: str = ""
    bus_id: str = ""

    @property
    def label(self) -> str:
        return f"GPU {self.index}"

    def describe(self) -> str:
        return f"{self.label} ({self.name})" if self.name else self.label

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "uuid": self.uuid, "bus_id": self.bus_id}


def sysfs_bus_id(nvml_bus_id: str) -> str:
    """NVML's '00000000:19:00.0' as sysfs spells it: '0000:19:00.0' (four-digit domain, lower case)."""
    text = nvml_bus_id.strip().lower()
    domain, sep, rest = text.partition(":")
    if not sep or not rest:
        return text
    return f"{domain[-4:].rjust(4, '0')}:{rest}"


def discover(nvml: Any | None = None) -> tuple[Card, ...]:
    """Every GPU NVML sees; QAUsageError (one line) when there is no NVML or no GPU."""
    if nvml is None:
        nvml = _nvml.library()
    if nvml is None:
        raise QAUsageError(
            "no GPU found: NVML cannot be used here (no NVIDIA driver, or nvidia-ml-py is not installed); "
            "zqa gate --gpus needs NVIDIA GPUs: run `pytest -m gpu` on a single device instead"
        )
    try:
        count = int(nvml.nvmlDeviceGetCount())
    except Exception as exc:
        raise QAUsageError(f"no GPU found: NVML cannot count devices ({exc}); check `nvidia-smi`") from None
    if count < 1:
        raise QAUsageError("no GPU found: NVML sees 0 devices; check `nvidia-smi`")
    return tuple(_card(nvml, i) for i in range(count))


def _card(nvml: Any, index: int) -> Card:
    def text(fn: str, *args: Any) -> str:
        try:
            value = getattr(nvml, fn)(*args)
        except Exception:
            return ""
        return value.decode() if isinstance(value, bytes) else str(value)

    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
    except Exception:
        return Card(index)
    try:
        bus = nvml.nvmlDeviceGetPciInfo(handle).busId
        bus_id = sysfs_bus_id(bus.decode() if isinstance(bus, bytes) else str(bus))
    except Exception:
        bus_id = ""
    return Card(index, text("nvmlDeviceGetName", handle), text("nvmlDeviceGetUUID", handle), bus_id)


def select(cards: Sequence[Card], spec: str) -> tuple[Card, ...]:
    """`all` or a comma list of indices ('0,1') among `cards`; QAUsageError names the valid indices."""
    known = {c.index: c for c in cards}
    listing = ", ".join(str(i) for i in known) or "none"
    text = spec.strip().lower()
    if text == "all":
        if not cards:
            raise QAUsageError("--gpus all: this host has no GPU")
        return tuple(cards)
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p.isdigit() for p in parts):
        raise QAUsageError(
            f"--gpus {spec!r} is not 'all' or a comma list of GPU indices; this host has {listing}"
        )
    indices = [int(p) for p in parts]
    if len(set(indices)) != len(indices):
        raise QAUsageError(f"--gpus {spec!r} names a GPU twice; give each index once")
    unknown = [i for i in indices if i not in known]
    if unknown:
        raise QAUsageError(
            f"--gpus {spec!r}: no GPU {', '.join(map(str, unknown))} on this host; it has {listing}"
        )
    return tuple(known[i] for i in indices)
