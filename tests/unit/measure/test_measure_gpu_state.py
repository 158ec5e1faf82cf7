from __future__ import annotations

import os
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from zimage_qa.measure.gpu_state import GpuVerdict, decode_reasons, merge_states, read_gpu_state

if TYPE_CHECKING:
    from tests.unit.measure.conftest import FakeNvml


def test_decode_reasons() -> None:
    assert decode_reasons(0x4) == ("sw power cap",)
    assert decode_reasons(0x44) == ("sw power cap", "hw thermal slowdown")
    assert decode_reasons(0x0) == ()
    assert decode_reasons(0x1000) == ("0x1000",)


def test_power_cap_at_full_clocks_reads_power_capped_not_throttled(fake_nvml: FakeNvml) -> None:
    state = read_gpu_state(0)  # 0x4 at 1965 of 1980 MHz: what every H100/H200 reports under load
    assert state is not None
    assert state.verdict is GpuVerdict.POWER_CAPPED
    assert not state.throttled and not state.moves_latency
    assert state.throttle_reasons == ()
    assert state.describe() == "power-capped: 1965 MHz of 1980 MHz, 59 C, 650 W of 700 W"
    assert state.to_dict()["clock_event_reasons"] == "0x4"
    assert state.to_dict()["verdict"] == "power-capped"


@pytest.mark.parametrize(
    ("clock", "reasons", "verdict", "why"),
    [
        (1782, 0x4, GpuVerdict.POWER_CAPPED, ()),  # exactly 90 % of 1980: still full speed
        (1781, 0x4, GpuVerdict.THROTTLED, ("sw power cap", "SM clock at 90% of max")),
        (1400, 0x0, GpuVerdict.THROTTLED, ("SM clock at 71% of max",)),
        (1980, 0x40, GpuVerdict.THROTTLED, ("hw thermal slowdown",)),
        (1980, 0x20 | 0x4, GpuVerdict.THROTTLED, ("sw thermal slowdown",)),
        (1980, 0x8, GpuVerdict.THROTTLED, ("hw slowdown",)),
        (1980, 0x80, GpuVerdict.THROTTLED, ("hw power brake slowdown",)),
        (1980, 0x0, GpuVerdict.CLEAN, ()),
        (1980, 0x10, GpuVerdict.CLEAN, ()),  # sync boost does not slow a single card
        (210, 0x1, GpuVerdict.CLEAN, ()),  # idle: a low clock says nothing
    ],
)
def test_throttled_only_on_slow_clocks_or_slowdown_reasons(
    fake_nvml: FakeNvml, clock: int, reasons: int, verdict: GpuVerdict, why: tuple[str, ...]
) -> None:
    fake_nvml.clock, fake_nvml.reasons = clock, reasons
    state = read_gpu_state(0)
    assert state is not None
    assert state.verdict is verdict
    assert state.throttle_reasons == why
    assert state.moves_latency is (verdict is GpuVerdict.THROTTLED)


def test_unknown_clocks_fall_back_to_reasons(fake_nvml: FakeNvml, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake_nvml, "nvmlDeviceGetMaxClockInfo", lambda handle, kind: None)
    fake_nvml.clock = 900
    state = read_gpu_state(0)
    assert state is not None and state.clock_fraction is None
    assert state.verdict is GpuVerdict.POWER_CAPPED
    fake_nvml.reasons = 0x44
    assert read_gpu_state(0).verdict is GpuVerdict.THROTTLED  # type: ignore[union-attr]


def test_power_capped_and_shared_reads_shared(fake_nvml: FakeNvml) -> None:
    fake_nvml.processes = [SimpleNamespace(pid=999_999_999, usedGpuMemory=None)]
    state = read_gpu_state(0)
    assert state is not None
    assert state.verdict is GpuVerdict.SHARED and state.moves_latency


def test_idle_card_alone_is_clean(fake_nvml: FakeNvml) -> None:
    fake_nvml.reasons = 0x1
    fake_nvml.processes = [SimpleNamespace(pid=os.getpid(), usedGpuMemory=2**30)]
    state = read_gpu_state("cuda:0")
    assert state is not None
    assert state.verdict is GpuVerdict.CLEAN
    assert not state.shared


def test_another_process_makes_it_shared(fake_nvml: FakeNvml) -> None:
    fake_nvml.reasons = 0x0
    fake_nvml.processes = [
        SimpleNamespace(pid=os.getpid(), usedGpuMemory=2**30),
        SimpleNamespace(pid=999_999_999, usedGpuMemory=None),
    ]
    state = read_gpu_state(0)
    assert state is not None
    assert state.verdict is GpuVerdict.SHARED
    assert state.other_process_count == 1
    assert "1 other process(es)" in state.describe()


def test_merge_keeps_the_worst(fake_nvml: FakeNvml) -> None:
    a = read_gpu_state(0)
    fake_nvml.temperature, fake_nvml.clock, fake_nvml.reasons = 83, 1500, 0x40
    b = read_gpu_state(0)
    fake_nvml.clock, fake_nvml.reasons = 210, 0x1  # idle between runs: its clock says nothing
    c = read_gpu_state(0)
    merged = merge_states([a, None, b, c])
    assert merged is not None
    assert (merged.temperature_c, merged.sm_clock_mhz, merged.samples) == (83, 1500, 3)
    assert merged.verdict is GpuVerdict.THROTTLED
    assert merged.throttle_reasons == ("sw power cap", "hw thermal slowdown", "SM clock at 76% of max")
    assert merge_states([None]) is None


def test_merge_of_full_speed_readings_with_idle_gaps_is_power_capped(fake_nvml: FakeNvml) -> None:
    busy = read_gpu_state(0)
    fake_nvml.clock, fake_nvml.reasons = 210, 0x1
    idle = read_gpu_state(0)
    merged = merge_states([idle, busy, idle])
    assert merged is not None
    assert (merged.sm_clock_mhz, merged.verdict) == (1965, GpuVerdict.POWER_CAPPED)
    only_idle = merge_states([idle, idle])
    assert only_idle is not None and only_idle.verdict is GpuVerdict.CLEAN


def test_no_nvml_gives_none(no_nvml: None) -> None:
    assert read_gpu_state(0) is None


def test_merge_reads_the_typical_busy_clock_not_one_dip(fake_nvml: FakeNvml) -> None:
    readings = []
    for clock in (1965, 1980, 1470, 1950, 1965):  # one dip at the power limit, as H200 records show
        fake_nvml.clock = clock
        readings.append(read_gpu_state(0))
    merged = merge_states(readings)
    assert merged is not None
    assert (merged.sm_clock_mhz, merged.verdict) == (1965, GpuVerdict.POWER_CAPPED)
    fake_nvml.clock = 1400
    held_down = merge_states([*readings, *(read_gpu_state(0) for _ in range(5))])
    assert held_down is not None
    assert held_down.verdict is GpuVerdict.THROTTLED
