"""The device a model runs on: the `--qa-device` value parsed once (`Device`), and the one test of whether a
torch device string is a CUDA device (`on_cuda`). Imports nothing heavy."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from zimage_qa.errors import QAUsageError

_DEVICE = re.compile(r"^(auto|cpu|cuda)(?::(\d+))?$")


@dataclass(frozen=True)
class Device:
    """The device option, parsed once: `auto`, `cpu`, `cuda` or `cuda:N`. Shared by the header, the lock,
    the memory reads and the loader."""

    kind: str  # auto | cpu | cuda
    index: int = 0

    @classmethod
    def parse(cls, text: str, where: str = "--qa-device") -> Device:
        match = _DEVICE.match(str(text).strip().lower())
        if match is None or (match.group(1) != "cuda" and match.group(2) is not None):
            raise QAUsageError(f"{where} {text!r} is not a device; use auto, cpu, cuda or cuda:N")
        return cls(match.group(1), int(match.group(2) or 0))

    def resolved(self, profile: str, cuda_available: bool | None = None) -> str:
        """The torch device string the model goes to: `auto` means CPU for the reference profile, else
        the first CUDA device (or the CPU when none is visible, which the GPU checks then report)."""
        if self.kind == "cpu" or (self.kind == "auto" and profile == "reference"):
            return "cpu"
        if self.kind == "auto" and cuda_available is False:
            return "cpu"
        return f"cuda:{self.index}"

    @property
    def is_cpu(self) -> bool:
        return self.kind == "cpu"

    def __str__(self) -> str:
        return self.kind if self.kind != "cuda" else f"cuda:{self.index}"


def on_cuda(device: object) -> bool:
    """Whether `device` (a torch device or its string: "cpu", "cuda", "cuda:1") is a CUDA device."""
    return str(device).startswith("cuda")


def synchronize(device: object) -> None:
    """Wait for the work queued on a CUDA device (nothing to wait for elsewhere, or before torch is imported)."""
    torch = sys.modules.get("torch")
    if torch is not None and on_cuda(device):
        torch.cuda.synchronize(device)
