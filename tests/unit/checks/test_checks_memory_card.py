"""--qa-card-memory judges each scenario's own peak, and the session's device-level peak once: the offloaded
run of issue 14 fitted 16 GiB in its latency rounds (14.17 GiB) while its first back-to-back image held two
models (19.3 GiB allocated). Numbers are labelled stubs; the allocator's own peaks are faked."""

from __future__ import annotations

import pytest

from zimage_qa.checks.memory import card_verdict, session_card_verdict
from zimage_qa.measure import memory
from zimage_qa.measure.memory import MemoryKind, PeakMemory, SessionPeak
from zimage_qa.verdict import Status

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


def test_the_session_peak_keeps_the_highest_of_each_number_and_where_it_was(
    allocator: list[tuple[int | None, int | None]],
) -> None:
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


def test_a_scenario_that_fits_fails_the_card_when_the_session_did_not(
    allocator: list[tuple[int | None, int | None]],
) -> None:
    session = SessionPeak("cpu")
    session.add(latency_rounds(), "latency 1024x1024/1024-simple")
    session.add(PeakMemory(gib(19.9), gib(20.5), gib(21.8)), "back-to-back drift 1024x1024/1024-simple")
    assert card_verdict(CARD, latency_rounds(), "1024x1024/1024-simple").status is Status.PASSED
    verdict = session_card_verdict(CARD, session)
    assert verdict.status is Status.FAILED
    assert verdict.message.startswith("the session's device-level peak 21.80 GiB (back-to-back drift")
    assert "does not fit a 16.00 GiB card (--qa-card-memory)" in verdict.message
    assert "torch alone reserved 20.50 GiB" in verdict.message
    assert verdict.values["session_peak_nvml_in"] == "back-to-back drift 1024x1024/1024-simple"


def test_unwatched_work_that_reserves_more_than_the_card_fails_it(
    allocator: list[tuple[int | None, int | None]],
) -> None:
    session = SessionPeak("cpu")
    session.add(latency_rounds(), "latency 1024x1024/1024-simple")
    allocator.append((gib(19.4), gib(19.6)))  # two models held outside any measured run
    verdict = session_card_verdict(CARD, session)
    assert verdict.status is Status.FAILED
    assert "torch alone reserved 19.60 GiB (between the measured runs)" in verdict.message


def test_a_session_that_fits_passes_with_its_peak(allocator: list[tuple[int | None, int | None]]) -> None:
    session = SessionPeak("cpu")
    session.add(latency_rounds(), "latency 1024x1024/1024-simple")
    allocator.append((gib(12.1), gib(13.2)))
    verdict = session_card_verdict(CARD, session)
    assert verdict.status is Status.PASSED
    assert verdict.message == (
        "the session's device-level peak 14.17 GiB (latency 1024x1024/1024-simple) fits a 16.00 GiB card"
    )


def test_a_scenario_is_judged_on_its_own_peak_only(allocator: list[tuple[int | None, int | None]]) -> None:
    big = PeakMemory(gib(15.0), gib(15.5), gib(18.9))
    verdict = card_verdict(CARD, big, "1024x1024/1024-simple")
    assert verdict.status is Status.FAILED
    assert verdict.message == (
        "device-level peak 18.90 GiB does not fit a 16.00 GiB card (--qa-card-memory) "
        "for 1024x1024/1024-simple"
    )
    verdict = card_verdict(CARD, latency_rounds(), "1024x1024/1024-simple")
    assert verdict.status is Status.PASSED
    assert verdict.message == "device-level peak 14.17 GiB fits a 16.00 GiB card (--qa-card-memory)"


def test_without_nvml_a_scenario_reserving_more_than_the_card_still_fails(
    allocator: list[tuple[int | None, int | None]],
) -> None:
    verdict = card_verdict(CARD, PeakMemory(gib(16.2), gib(16.6), None), "1024x1024/1024-simple")
    assert verdict.status is Status.FAILED
    assert verdict.message.startswith("torch alone reserved 16.60 GiB for 1024x1024/1024-simple")


def test_without_nvml_the_card_question_is_not_answered(
    allocator: list[tuple[int | None, int | None]],
) -> None:
    verdict = card_verdict(CARD, PeakMemory(gib(12.0), gib(12.9), None), "1024x1024/1024-simple")
    assert verdict.status is Status.NOT_RUN
    assert "no device-level reading (NVML)" in verdict.message
    session = SessionPeak("cpu")
    session.add(PeakMemory(gib(12.0), gib(12.9), None), "latency 1024x1024/1024-simple")
    verdict = session_card_verdict(CARD, session)
    assert verdict.status is Status.NOT_RUN
    assert verdict.message == (
        "--qa-card-memory 16.00 GiB not judged for the session: no device-level reading "
        "(NVML); torch reserved at most 12.90 GiB (latency 1024x1024/1024-simple)"
    )


def test_the_warm_ups_before_the_first_watch_count(allocator: list[tuple[int | None, int | None]]) -> None:
    """The gate starts the session's peak right after the load; the warm-ups of every planned size run before
    the first measured run, watched (NVML) and seen by the allocator until that run resets its peaks."""
    session = SessionPeak("cpu")
    with session.watch("warm-up 1024x1024"):
        allocator.append((gib(19.3), gib(19.8)))  # the first image held two models
    with session.watch("latency 1024x1024/1024-simple"):
        allocator.append((gib(12.07), gib(12.89)))
    peak = session.now()
    assert peak.reserved_bytes == gib(19.8)
    assert session.where(MemoryKind.RESERVED) == "warm-up 1024x1024"
    verdict = session_card_verdict(CARD, session)
    assert verdict.status is Status.FAILED
    assert "torch alone reserved 19.80 GiB (warm-up 1024x1024)" in verdict.message


class _Pipe:
    """Just enough of a pipeline for the gate's warm-up: every call returns one picture."""

    def __call__(self, prompt: str, **kwargs: object) -> object:
        return type("Output", (), {"images": ["picture"]})()


def test_the_gate_starts_the_session_peak_before_the_warm_ups() -> None:
    import torch

    from zimage_qa.config import load_config
    from zimage_qa.models.profiles import LoadedModel, resolve_spec
    from zimage_qa.options import GateOptions
    from zimage_qa.session import GateSession

    def load(spec: object, device: str, dtype: str) -> LoadedModel:
        return LoadedModel(resolve_spec("reference"), _Pipe(), "cpu", torch.float32, 0.01)

    gate = GateSession(GateOptions(), load_config(), resolve_spec("reference"), loader=load)
    gate.model()
    assert gate.memory_peak is not None and gate.memory_peak.where(MemoryKind.HOST) is None
    case = gate.config.scenarios[0]
    gate.warm([case])  # the first image at a size: watched, host RAM here (NVML on a GPU)
    assert gate.memory_peak.where(MemoryKind.HOST) == f"warm-up {case.size}"


def test_the_leak_check_and_the_session_card_never_hide_each_other() -> None:
    from zimage_qa.checks.memory import _with_session_card
    from zimage_qa.verdict import Verdict

    leak = Verdict.failed("tiny x3: allocated memory grows 80.00 MiB per generation")
    too_big = Verdict.failed("the session's device-level peak 18.00 GiB (warm-up 256x256) does not fit")
    unknown = Verdict.not_run(
        "--qa-card-memory 16.00 GiB not judged for the session: no device-level reading"
    )
    both = _with_session_card(leak, too_big)
    assert (both.status, both.message) == (Status.FAILED, f"{leak.message}; {too_big.message}")
    noted = _with_session_card(leak, unknown)
    assert (noted.status, noted.message) == (Status.FAILED, f"{leak.message}; {unknown.message}")
    unasked = _with_session_card(Verdict.passed("no growth over 3 generations"), unknown)
    assert unasked.status is Status.NOT_RUN
    assert unasked.message.endswith("; memory by stage and leak: passed, no growth over 3 generations")
