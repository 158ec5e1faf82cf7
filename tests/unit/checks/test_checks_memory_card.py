"""--qa-card-memory judges the session's device-level peak, not one scenario's: the offloaded run of
issue 14 fitted 16 GiB in its latency rounds (14.17 GiB) while its first back-to-back image held two
models (19.3 GiB allocated). Numbers are labelled stubs; the allocator's own peaks are faked."""

from __future__ import annotations

import pytest

from qa.checks.memory import card_verdict
from qa.measure import memory
from qa.measure.memory import MemoryKind, PeakMemory, SessionPeak
from qa.verdict import Status

GIB = 2**30
CARD = 16 * GIB


def gib(value: float) -> int:
    return int(value * GIB)


@pytest.fixture
def allocator(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, int | None]]:
    """What torch's allocator peaks read since the last reset (last entry); none without CUDA here."""
    peaks: list[tuple[int | None, int | None]] = [(None, None)]
    monkeypatch.setattr(memory, "read_torch_peaks", lambda device="cuda:0": peaks[-1])
    return peaks


def latency_rounds() -> PeakMemory:
    return PeakMemory(gib(12.07), gib(12.89), gib(14.17), 100, gib(25.93))


def test_the_session_peak_keeps_the_highest_of_each_number_and_where_it_was(allocator):
    session = SessionPeak("cpu")
    session.before_watch()
    session.add(latency_rounds(), "latency 1024x1024/1024-simple")
    allocator.append((gib(12.1), gib(13.2)))  # the FLOP count's bare forward, between two watched runs
    session.before_watch()
    session.add(
        PeakMemory(gib(19.9), gib(20.5), gib(21.8), 90, gib(25.0)), "back-to-back drift 1024x1024/1024-simple"
    )
    peak = session.now()
    assert (peak.allocated_bytes, peak.nvml_bytes, peak.host_bytes) == (gib(19.9), gib(21.8), gib(25.93))
    assert session.where(MemoryKind.NVML) == "back-to-back drift 1024x1024/1024-simple"
    assert session.where(MemoryKind.HOST) == "latency 1024x1024/1024-simple"


def test_a_scenario_that_fits_fails_the_card_when_the_session_did_not(allocator):
    session = SessionPeak("cpu")
    session.add(latency_rounds(), "latency 1024x1024/1024-simple")
    session.add(PeakMemory(gib(19.9), gib(20.5), gib(21.8)), "back-to-back drift 1024x1024/1024-simple")
    verdict = card_verdict(CARD, session, latency_rounds(), "1024x1024/1024-simple")
    assert verdict.status is Status.FAILED
    assert verdict.message.startswith("the session's device-level peak 21.80 GiB (back-to-back drift")
    assert "does not fit a 16.00 GiB card (--qa-card-memory)" in verdict.message
    assert "torch alone reserved 20.50 GiB" in verdict.message
    assert verdict.values["session_peak_nvml_in"] == "back-to-back drift 1024x1024/1024-simple"


def test_unwatched_work_that_reserves_more_than_the_card_fails_it(allocator):
    session = SessionPeak("cpu")
    session.add(latency_rounds(), "latency 1024x1024/1024-simple")
    allocator.append((gib(19.4), gib(19.6)))  # two models held outside any measured run
    verdict = card_verdict(CARD, session, latency_rounds(), "1024x1024/1024-simple")
    assert verdict.status is Status.FAILED
    assert "torch alone reserved 19.60 GiB (between the measured runs)" in verdict.message


def test_a_session_that_fits_passes_with_its_peak(allocator):
    session = SessionPeak("cpu")
    session.add(latency_rounds(), "latency 1024x1024/1024-simple")
    allocator.append((gib(12.1), gib(13.2)))
    verdict = card_verdict(CARD, session, latency_rounds(), "1024x1024/1024-simple")
    assert verdict.status is Status.PASSED
    assert verdict.message == (
        "the session's device-level peak 14.17 GiB (latency 1024x1024/1024-simple) fits a 16.00 GiB card"
    )


def test_the_scenario_own_peak_over_the_card_is_named_once(allocator):
    session = SessionPeak("cpu")
    big = PeakMemory(gib(15.0), gib(15.5), gib(18.9))
    session.add(big, "latency 1024x1024/1024-simple")
    verdict = card_verdict(CARD, session, big, "1024x1024/1024-simple")
    assert verdict.status is Status.FAILED
    assert verdict.message.startswith("device-level peak 18.90 GiB does not fit a 16.00 GiB card (--qa-card-memory) "
                                      "for 1024x1024/1024-simple")  # fmt: skip
    assert "session's device-level peak" not in verdict.message and "torch alone" not in verdict.message


def test_without_nvml_the_card_question_is_not_answered(allocator):
    session = SessionPeak("cpu")
    session.add(PeakMemory(gib(12.0), gib(12.9), None), "latency 1024x1024/1024-simple")
    verdict = card_verdict(CARD, session)
    assert verdict.status is Status.NOT_RUN
    assert "no device-level reading (NVML)" in verdict.message
