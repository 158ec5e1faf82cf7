"""Access to NVML (nvidia-ml-py), initialised once per process, or None where there is no NVML.

Everything that reads the GPU through NVML goes through `library()` and `handle()`, so that a test can
replace NVML with a fake (`monkeypatch.setattr(_nvml, "library", lambda: fake)`) and a machine without
a GPU or driver gets None instead of an exception.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from collections.abc import Callable
from typing import Any


@functools.cache
def _initialised() -> Any | None:
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no package, no driver, no device: NVML is simply absent
        return None
    return pynvml


def library() -> Any | None:
    """The initialised `pynvml` module, or None when NVML cannot be used here."""
    return _initialised()


def _cuda_uuid(cuda_index: int) -> str | None:
    """The UUID torch reports for a CUDA device, when torch has already initialised CUDA."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_initialized():
        return None
    try:
        uuid = getattr(torch.cuda.get_device_properties(cuda_index), "uuid", None)
    except Exception:
        return None
    if uuid is None:
        return None
    text = str(uuid)
    return text if text.startswith(("GPU-", "MIG-")) else f"GPU-{text}"


def _visible_entry(cuda_index: int) -> str | None:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if not visible:
        return None
    entries = [e.strip() for e in visible.split(",") if e.strip()]
    return entries[cuda_index] if cuda_index < len(entries) else None


def handle(cuda_index: int = 0) -> Any | None:
    """The NVML handle of CUDA device `cuda_index`, or None.

    CUDA and NVML may number devices differently; the UUID torch reports wins, then
    CUDA_VISIBLE_DEVICES, then the index itself.
    """
    nvml = library()
    if nvml is None:
        return None
    try:
        uuid = _cuda_uuid(cuda_index)
        if uuid is not None:
            return nvml.nvmlDeviceGetHandleByUUID(uuid)
        entry = _visible_entry(cuda_index)
        if entry is not None and not entry.isdigit():
            return nvml.nvmlDeviceGetHandleByUUID(entry)
        index = int(entry) if entry is not None else cuda_index
        return nvml.nvmlDeviceGetHandleByIndex(index)
    except Exception:
        return None


def call(fn_name: str, *args: Any) -> Any | None:
    """`pynvml.<fn_name>(*args)`, or None when NVML is absent or the call is not supported."""
    nvml = library()
    fn = getattr(nvml, fn_name, None) if nvml is not None else None
    if fn is None:
        return None
    try:
        return fn(*args)
    except Exception:
        return None


def text(value: Any) -> str:
    """NVML returns bytes in old bindings and str in new ones."""
    return value.decode() if isinstance(value, bytes) else str(value)


def cuda_index(device: object) -> int:
    """The CUDA index of a device given as 'cuda', 'cuda:1', 1 or a torch.device (0 if none)."""
    if isinstance(device, int):
        return device
    index = getattr(device, "index", None)
    if isinstance(index, int):
        return index
    name = str(device)
    _, _, tail = name.partition(":")
    return int(tail) if tail.isdigit() else 0


def memory_used_reader(device_handle: Any) -> Callable[[], int | None] | None:
    """A cheap reader of NVML used memory for the sampler's hot loop, or None without NVML.

    pynvml calls through ctypes.CDLL, which releases the GIL for every call; a sampler thread then has
    to win the GIL back from the main thread after each reading. Calling the same library through
    ctypes.PyDLL keeps the GIL for the few microseconds the call takes: one GIL hand-over per sample
    instead of two. Falls back to pynvml where its library object is not at hand (e.g. a fake)."""
    nvml = library()
    if nvml is None or device_handle is None:
        return None
    lib_name = getattr(getattr(nvml, "nvmlLib", None), "_name", None)
    struct_type = getattr(nvml, "c_nvmlMemory_t", None)
    if lib_name is None or struct_type is None:
        return _pynvml_reader(nvml, device_handle)
    try:
        fn = ctypes.PyDLL(lib_name).nvmlDeviceGetMemoryInfo
    except (OSError, AttributeError):
        return _pynvml_reader(nvml, device_handle)
    memory = struct_type()
    ref = ctypes.byref(memory)

    def read() -> int | None:
        return int(memory.used) if fn(device_handle, ref) == 0 else None

    return read


def _pynvml_reader(nvml: Any, device_handle: Any) -> Callable[[], int | None]:
    def read() -> int | None:
        try:
            return int(nvml.nvmlDeviceGetMemoryInfo(device_handle).used)
        except Exception:
            return None

    return read
