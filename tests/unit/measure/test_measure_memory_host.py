from __future__ import annotations

import builtins
import sys
from pathlib import Path

import pytest

from zimage_qa.measure import memory
from zimage_qa.measure.memory import MemoryKind, MemoryWatch, PeakMemory, read_host_memory, reset_host_peak

MiB = 2**20
linux_only = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")


@linux_only
def test_host_peak_sees_a_short_allocation_inside_the_span(no_nvml: None) -> None:
    reset_host_peak()
    before = read_host_memory()
    with MemoryWatch("cpu") as watch:
        block = bytearray(96 * MiB)  # touched (zeroed), so resident
        del block
    after = read_host_memory()
    peak = watch.peak
    assert peak.host_bytes is not None and before.rss_bytes is not None and after.rss_bytes is not None
    assert peak.host_bytes >= before.rss_bytes + 90 * MiB
    assert after.rss_bytes < peak.host_bytes  # freed again: only the peak remembers it
    assert peak.allocated_bytes is None and peak.nvml_bytes is None
    assert "host" in peak.describe()
    assert peak.to_dict()["peak_host_rss_bytes"] == peak.host_bytes


@linux_only
def test_reset_makes_the_peak_cover_only_what_follows() -> None:
    block = bytearray(128 * MiB)
    del block
    high = read_host_memory().peak_rss_bytes
    reset_host_peak()
    after_reset = read_host_memory()
    assert after_reset.peak_resettable
    assert high is not None and after_reset.peak_rss_bytes is not None
    assert after_reset.peak_rss_bytes < high - 100 * MiB
    assert after_reset.source == "/proc/self/status"


def test_portable_fallback_without_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_STATUS", "/nonexistent/status")
    host = read_host_memory()
    assert host.source == "psutil+resource"
    assert host.rss_bytes is not None and host.rss_bytes > 10 * MiB
    assert host.peak_rss_bytes is not None and host.peak_rss_bytes >= host.rss_bytes


def test_fallback_without_psutil_still_has_the_peak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_STATUS", "/nonexistent/status")
    real_import = builtins.__import__

    def no_psutil(name: str, *args: object, **kwargs: object) -> object:
        if name == "psutil":
            raise ImportError("no psutil")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.delitem(sys.modules, "psutil", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_psutil)
    host = read_host_memory()
    assert host.rss_bytes is None
    assert host.peak_rss_bytes is not None and host.peak_rss_bytes > 10 * MiB


def test_host_is_a_memory_kind_a_ceiling_can_name() -> None:
    peak = PeakMemory(None, None, None, host_bytes=12 * 2**30)
    assert peak.get(MemoryKind.HOST) == 12 * 2**30
    assert MemoryKind.HOST.label == "host RAM peak"
