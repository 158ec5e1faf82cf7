"""Launch-bound timings alone: which checks run solo, and the barrier that keeps siblings idle meanwhile."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.fleet.shard import Unit
from zimage_qa.fleet.solo import RunMode, SoloBarrier, SoloPolicy

UNITS = {
    "scenario:512-simple": Unit("scenario:512-simple", 3.0, (512, 512)),
    "scenario:1024-simple": Unit("scenario:1024-simple", 8.0, (1024, 1024)),
    "test_back_to_back_drift": Unit("test_back_to_back_drift", 4.0, (512, 512)),
}


def test_launch_bound_means_timed_checks_below_1024x1024() -> None:
    policy = SoloPolicy.parse("launch-bound")
    assert policy.is_solo("zimage_qa/gate/test_latency.py::test_latency[512-simple]", UNITS)
    assert not policy.is_solo("test_latency[1024-simple]", UNITS)
    assert not policy.is_solo("test_vram_peak[512-simple]", UNITS)  # not timed
    assert policy.is_solo("test_back_to_back_drift", UNITS)
    assert not policy.is_solo("test_latency[unknown]", UNITS)
    assert SoloPolicy.parse("all").is_solo("test_latency[1024-simple]", UNITS)
    assert not SoloPolicy.parse("none").is_solo("test_latency[512-simple]", UNITS)
    assert not SoloPolicy.parse("below:512x512").is_solo("test_latency[512-simple]", UNITS)
    for text in ("launch-bound", "all", "none", "below:768x768"):
        assert str(SoloPolicy.parse(text)) == text
    with pytest.raises(QAUsageError, match="is not known"):
        SoloPolicy.parse("below:0x5")


def test_a_solo_hold_waits_for_running_work_and_goes_before_work_that_comes_later(tmp_path: Path) -> None:
    """flock locks of separate open files exclude each other even within one process, so three barrier
    objects in three threads stand for three gate processes."""
    events: list[str] = []
    lock = threading.Lock()
    a, b, c = (SoloBarrier(tmp_path) for _ in range(3))
    a_in, b_waiting = threading.Event(), threading.Event()

    def note(text: str) -> None:
        with lock:
            events.append(text)

    def concurrent_a() -> None:
        with a.hold(solo=False) as mode:
            assert mode is RunMode.CONCURRENT
            note("a in")
            a_in.set()
            b_waiting.wait(5)
            time.sleep(0.3)  # b (solo) has asked and c (concurrent) is about to: both must wait for a
            note("a out")

    def solo_b() -> None:
        a_in.wait(5)
        b_waiting.set()
        with b.hold(solo=True) as mode:
            assert mode is RunMode.SOLO
            note("b in")
            time.sleep(0.2)
            note("b out")

    def concurrent_c() -> None:
        b_waiting.wait(5)
        time.sleep(0.1)
        with c.hold(solo=False):
            note("c in")
            note("c out")

    threads = [threading.Thread(target=f) for f in (concurrent_a, solo_b, concurrent_c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    for barrier in (a, b, c):
        barrier.close()
    assert events == ["a in", "a out", "b in", "b out", "c in", "c out"]


def test_two_concurrent_holds_share(tmp_path: Path) -> None:
    a, b = SoloBarrier(tmp_path), SoloBarrier(tmp_path)
    with a.hold(solo=False), b.hold(solo=False):
        pass  # a second shared hold does not wait for the first (a deadlock would hang here)
    a.close()
    b.close()
    with pytest.raises(QAUsageError, match="does not exist"):
        SoloBarrier(tmp_path / "missing")
