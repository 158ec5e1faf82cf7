from __future__ import annotations

import os
from types import SimpleNamespace

from qa.measure.gpu_state import GpuVerdict, decode_reasons, merge_states, read_gpu_state


def test_decode_reasons():
    assert decode_reasons(0x4) == ("sw power cap",)
    assert decode_reasons(0x44) == ("sw power cap", "hw thermal slowdown")
    assert decode_reasons(0x0) == ()
    assert decode_reasons(0x1000) == ("0x1000",)


def test_power_capped_card_reads_as_throttled(fake_nvml):
    state = read_gpu_state(0)
    assert state is not None
    assert state.verdict is GpuVerdict.THROTTLED
    assert state.throttle_reasons == ("sw power cap",)
    assert state.describe() == "throttled (sw power cap): 1965 MHz of 1980 MHz, 59 C, 650 W of 700 W"
    assert state.to_dict()["clock_event_reasons"] == "0x4"


def test_idle_card_alone_is_clean(fake_nvml):
    fake_nvml.reasons = 0x1
    fake_nvml.processes = [SimpleNamespace(pid=os.getpid(), usedGpuMemory=2**30)]
    state = read_gpu_state("cuda:0")
    assert state is not None
    assert state.verdict is GpuVerdict.CLEAN
    assert not state.shared


def test_another_process_makes_it_shared(fake_nvml):
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


def test_merge_keeps_the_worst(fake_nvml):
    a = read_gpu_state(0)
    fake_nvml.temperature, fake_nvml.clock, fake_nvml.reasons = 83, 1500, 0x40
    b = read_gpu_state(0)
    fake_nvml.clock, fake_nvml.reasons = 210, 0x1  # idle between runs: its clock says nothing
    c = read_gpu_state(0)
    merged = merge_states([a, None, b, c])
    assert merged is not None
    assert (merged.temperature_c, merged.sm_clock_mhz, merged.samples) == (83, 1500, 3)
    assert merged.throttle_reasons == ("sw power cap", "hw thermal slowdown")
    assert merge_states([None]) is None


def test_no_nvml_gives_none(no_nvml):
    assert read_gpu_state(0) is None
