"""Out of memory in one scenario: a failure sentence with the numbers, the memory released, the
session alive. The traceback's frames keep the failed generation's tensors alive; they are cleared."""

from __future__ import annotations

import gc
import re
import sys
import traceback
from types import TracebackType

from zimage_qa.device import on_cuda
from zimage_qa.measure.memory import read_torch_peaks
from zimage_qa.measure.units import SIZE_UNITS, format_bytes

_ASKED = re.compile(r"(?:tried to allocate|Tried to allocate)\s+([0-9.]+)\s*([KMGT]i?B|bytes)", re.IGNORECASE)
_FREE = re.compile(r"of which\s+([0-9.]+)\s*([KMGT]i?B|bytes)\s+is free", re.IGNORECASE)


def _size(match: re.Match[str] | None) -> int | None:
    if match is None:
        return None
    unit = match.group(2).lower()
    return round(float(match.group(1)) * (1 if unit == "bytes" else SIZE_UNITS[unit]))


def is_oom(exc: BaseException) -> bool:
    """torch.OutOfMemoryError (CUDA), or the CPU allocator's RuntimeError."""
    torch = sys.modules.get("torch")
    oom_type = getattr(torch, "OutOfMemoryError", None) if torch is not None else None
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text.lower() or "can't allocate memory" in text
    )


def _free_bytes(device: object) -> int | None:
    torch = sys.modules.get("torch")
    if torch is None or not on_cuda(device) or not torch.cuda.is_available():
        return None
    try:
        return int(torch.cuda.mem_get_info(device)[0])
    except Exception:
        return None


def process_cap(device: object) -> tuple[float, int] | None:
    """(fraction, bytes) of a per-process memory cap set with torch.cuda.set_per_process_memory_fraction,
    None when there is none (fraction 1) or no CUDA."""
    torch = sys.modules.get("torch")
    if torch is None or not on_cuda(device) or not torch.cuda.is_available():
        return None
    try:
        fraction = float(torch.cuda.get_per_process_memory_fraction(device))
        total = int(torch.cuda.get_device_properties(device).total_memory)
    except Exception:
        return None
    return (fraction, int(fraction * total)) if fraction < 1.0 else None


def release_memory(exc: BaseException | None = None, device: object = "cuda:0") -> None:
    """Drop what a failed generation still holds: the frames of `exc`'s traceback (and of the
    exceptions chained to it), then garbage, then torch's cached blocks."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if exc.__traceback__ is not None:
            traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and on_cuda(device) and torch.cuda.is_available():
        torch.cuda.empty_cache()


def oom_failure(exc: BaseException, context: str = "", device: object = "cuda:0") -> str:
    """The failure sentence for an out-of-memory error (asked, free, peak), after releasing memory:

    'out of memory for 2048x2048/simple on NVIDIA H100 80GB HBM3: asked 9.00 GiB with 1.10 GiB free
    (peak allocated 77.9 GiB, reserved 78.2 GiB); released, 60.2 GiB free now'
    """
    message = str(exc)
    asked = _size(_ASKED.search(message))
    free = _free_bytes(device)
    if free is None:
        free = _size(_FREE.search(message))
    allocated, reserved = read_torch_peaks(device)
    release_memory(exc, device)
    free_after = _free_bytes(device)
    where = f" for {context}" if context else ""
    head = f"out of memory{where}: asked {format_bytes(asked) if asked is not None else 'an unknown amount'}"
    cap = process_cap(device)
    if cap is not None:  # the device's free memory says nothing here: this process may use only its share
        head += (
            f" under a per-process cap of {format_bytes(cap[1])} ({cap[0]:.0%} of the card, "
            "torch.cuda.set_per_process_memory_fraction)"
        )
    elif free is not None:
        head += f" with {format_bytes(free)} free"
    else:
        head += " (free memory unknown)"
    if allocated is not None and reserved is not None:
        head += f" (peak allocated {format_bytes(allocated)}, reserved {format_bytes(reserved)})"
    tail = f"; released, {format_bytes(free_after)} free now" if free_after is not None else "; released"
    return head + tail


class OomGuard:
    """Turns an out-of-memory error inside the block into `failure` (a sentence) and releases the
    memory; any other exception passes through.

        with OomGuard("1024x1024/simple on NVIDIA H100", "cuda:0") as guard:
            pipe(...)
        if guard.failure:
            pytest.fail(guard.failure)
    """

    def __init__(self, context: str = "", device: object = "cuda:0"):
        self.context = context
        self.device = device
        self.failure: str | None = None

    def __enter__(self) -> OomGuard:
        self.failure = None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if exc is None or not is_oom(exc):
            return False
        self.failure = oom_failure(exc, self.context, self.device)
        return True
