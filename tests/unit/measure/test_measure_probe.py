"""The host probe: the normal it holds rounds to, which rounds it calls slow, and its record."""

from __future__ import annotations

import os

import pytest

from zimage_qa.measure.probe import HostCalibration, HostProbe, HostState, bracketed, busy_cpu, host_state_of


def test_the_normal_is_the_quicker_of_the_stored_one_and_the_session_quick_quartile() -> None:
    calibration = HostCalibration()
    assert calibration.normal() == (None, "none yet")
    for reading in (14.0, 14.2, 20.5, 21.0, 13.9, 22.0):
        calibration.add(reading)
    assert calibration.normal()[0] == pytest.approx(14.0)
    calibration.stored_ms, calibration.stored_source = 13.5, "budgets.toml"
    assert calibration.normal() == (13.5, "budgets.toml")
    calibration.stored_ms = 18.0  # a runner whose host is quicker today than when it stored its normal
    assert calibration.normal()[0] == pytest.approx(14.0)
    assert calibration.is_slow(17.6) and not calibration.is_slow(17.4)


def test_a_whole_session_in_a_slow_spell_is_held_to_the_stored_normal() -> None:
    calibration = HostCalibration(stored_ms=14.0, stored_source="built-in budgets")
    for reading in (20.0, 21.0, 20.5, 19.8, 20.2):
        calibration.add(reading)
    assert calibration.normal()[0] == 14.0 and calibration.is_slow(20.0)


def test_rounds_are_judged_by_the_slower_probe_around_them() -> None:
    marks = [14.0, 21.0, 14.1, 14.0, None]
    assert bracketed(marks, 4) == (21.0, 21.0, 14.1, 14.0)
    state = HostState(bracketed(marks, 4), 14.0, "session")
    assert state.slow == (True, True, False, False) and state.slow_count == 2
    assert "host slow in 2 of 4 rounds: probe up to 21.0 ms vs 14.0 ms normal (session)" in state.describe()
    busy = HostState((14.0, 14.0, 14.0), 14.0, "session", busy=(False, True, False))
    assert busy.slow == (False, True, False) and "other processes held the CPUs in 1" in busy.describe()


def test_the_record_reads_back() -> None:
    state = HostState((14.0, 22.0), 14.0, "session", "2000 kernel launches", (False, True))
    back = host_state_of(state.to_dict())
    assert back is not None and back.round_ms == (14.0, 22.0) and back.busy == (False, True)
    assert back.slow == state.slow
    assert host_state_of({"probe_ms": "nope"}) is None and host_state_of(None) is None


def test_a_cpu_host_is_busy_when_other_work_holds_half_its_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.1, 0.0, 0.0))
    assert not busy_cpu(own_threads=2)  # the gate's own two threads
    monkeypatch.setattr(os, "getloadavg", lambda: (3.2, 0.0, 0.0))
    assert busy_cpu(own_threads=2)


def test_the_cpu_probe_times_fixed_work() -> None:
    host = HostProbe("cpu")
    readings = [host.read_ms() for _ in range(3)]
    assert all(r > 0 for r in readings) and "matrix products" in host.kind
