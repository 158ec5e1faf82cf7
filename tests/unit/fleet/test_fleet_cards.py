"""GPU discovery through NVML (a fake here) and the `--gpus` selection."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.fleet.cards import Card, discover, select, sysfs_bus_id

CARDS = (Card(0, "NVIDIA H200"), Card(1, "NVIDIA H200"))


class FakeNvml:
    def __init__(self, count: int) -> None:
        self.count = count

    def nvmlDeviceGetCount(self) -> int:
        return self.count

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return b"NVIDIA H200"

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        return f"GPU-{handle:04d}"

    def nvmlDeviceGetPciInfo(self, handle: int) -> Any:
        return SimpleNamespace(busId=f"00000000:{0x19 + handle * 0x80:02X}:00.0".encode())


def test_discover_reads_every_card() -> None:
    found = discover(FakeNvml(2))
    assert found == (
        Card(0, "NVIDIA H200", "GPU-0000", "0000:19:00.0"),
        Card(1, "NVIDIA H200", "GPU-0001", "0000:99:00.0"),
    )


def test_no_nvml_or_no_gpu_is_one_line() -> None:
    with pytest.raises(QAUsageError, match="0 devices"):
        discover(FakeNvml(0))


def test_no_nvml_names_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    from zimage_qa.measure import _nvml

    monkeypatch.setattr(_nvml, "library", lambda: None)
    with pytest.raises(QAUsageError, match="NVML cannot be used here"):
        discover()


def test_selection() -> None:
    assert select(CARDS, "all") == CARDS
    assert select(CARDS, "1") == (CARDS[1],)
    assert select(CARDS, " 1,0 ") == (CARDS[1], CARDS[0])
    with pytest.raises(QAUsageError, match="no GPU 2 on this host; it has 0, 1"):
        select(CARDS, "0,2")
    with pytest.raises(QAUsageError, match="not 'all' or a comma list"):
        select(CARDS, "0-1")
    with pytest.raises(QAUsageError, match="twice"):
        select(CARDS, "1,1")


def test_bus_ids_as_sysfs_spells_them() -> None:
    assert sysfs_bus_id("00000000:9A:00.0") == "0000:9a:00.0"
    assert sysfs_bus_id("0000:19:00.0") == "0000:19:00.0"
