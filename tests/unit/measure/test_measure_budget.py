from __future__ import annotations

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.budget import BudgetContext, LatencyBudget, MemoryCeiling
from zimage_qa.measure.memory import MemoryKind, PeakMemory
from zimage_qa.measure.stats import summarize
from zimage_qa.verdict import Status

H100 = "NVIDIA H100 80GB HBM3"
CTX = BudgetContext("1024x1024/simple", H100)
GiB = 2**30


def test_latency_pass() -> None:
    verdict = LatencyBudget(median_s=1.6, worst_s=2.0).evaluate(summarize([1.50, 1.52, 1.51]), CTX)
    assert verdict.status is Status.PASSED
    assert verdict.ok
    assert LatencyBudget(median_s=1.6).evaluate(summarize([1.50, 1.52, 1.51]), CTX).ok


def test_latency_fail_names_both_numbers_margin_and_the_stage_that_grew() -> None:
    ctx = BudgetContext(
        "1024x1024/simple",
        H100,
        stages_ms={"text_encode": 45.0, "denoise": 1402.0, "vae_decode": 92.0},
        baseline_stages_ms={"text_encode": 42.0, "denoise": 1237.0, "vae_decode": 91.0},
        hint="see qa-report/index.html; rebless with --qa-update-budgets",
    )
    message = LatencyBudget(median_s=1.6).evaluate(summarize([1.70, 1.71, 1.72]), ctx).message
    assert message == (
        f"p50 latency 1.71 s > budget 1.60 s (+6.9 %) for 1024x1024/simple on {H100}; "
        "denoise grew most: 1402 ms vs 1237 ms (+13.3 %); "
        "see qa-report/index.html; rebless with --qa-update-budgets"
    )


def test_worst_round_budget() -> None:
    message = LatencyBudget(median_s=1.6, worst_s=2.0).evaluate(summarize([1.50, 1.51, 2.10]), CTX).message
    assert message is not None
    assert message.startswith("worst round latency 2.10 s > budget 2.00 s (+5.0 %)")


def test_stage_note_without_baseline_lists_the_split() -> None:
    ctx = BudgetContext("512x512/simple", "cpu", stages_ms={"denoise": 400.0, "vae_decode": 23.0})
    message = LatencyBudget(median_s=0.3).evaluate(summarize([0.476]), ctx).message
    assert (
        message == "p50 latency 476 ms > budget 300 ms (+58.7 %) for 512x512/simple on cpu; "
        "stages denoise 400 ms, vae_decode 23 ms"
    )


def test_wide_spread_is_unstable_not_pass() -> None:
    noisy = summarize([1.20, 1.30, 1.50, 1.55, 1.58])  # median under budget, IQR 17 %
    verdict = LatencyBudget(median_s=1.6, max_rel_iqr=0.05).evaluate(noisy, CTX)
    assert verdict.status is Status.UNSTABLE
    assert verdict.message.startswith("relative IQR 16.7 % > limit 5.0 % over 5 rounds")
    assert LatencyBudget(median_s=1.6, max_rel_iqr=0.20).evaluate(noisy, CTX).status is Status.PASSED


def test_wide_spread_with_a_clear_miss_is_a_fail() -> None:
    noisy_and_slow = summarize([2.0, 2.2, 2.5, 2.6, 2.7])
    verdict = LatencyBudget(median_s=1.6, max_rel_iqr=0.05).evaluate(noisy_and_slow, CTX)
    assert verdict.status is Status.FAILED


def test_median_over_budget_fails_whatever_the_spread() -> None:
    """The old rule called a 25 % overrun "unstable" while its lower quartile was under budget."""
    noisy_and_over = summarize([1.30, 1.50, 2.00, 2.10, 2.20])  # median 2.0 = +25 %, q1 1.5 under 1.6
    verdict = LatencyBudget(median_s=1.6, max_rel_iqr=0.05).evaluate(noisy_and_over, CTX)
    assert verdict.status is Status.FAILED
    assert verdict.message.startswith("p50 latency 2.00 s > budget 1.60 s (+25.0 %)")


def test_latency_budget_needs_a_limit() -> None:
    with pytest.raises(QAUsageError, match="positive"):
        LatencyBudget(median_s=0.0)
    with pytest.raises(QAUsageError, match="needs a median"):
        LatencyBudget()


PEAKS = PeakMemory(allocated_bytes=round(21.69 * GiB), reserved_bytes=round(24.5 * GiB), nvml_bytes=None)


@pytest.mark.parametrize(
    ("kind", "limit_gib", "status"),
    [
        (MemoryKind.ALLOCATED, 22, Status.PASSED),
        (MemoryKind.ALLOCATED, 21, Status.FAILED),
        (MemoryKind.RESERVED, 25, Status.PASSED),
        (MemoryKind.RESERVED, 24, Status.FAILED),
        (MemoryKind.NVML, 26, Status.NOT_RUN),
    ],
)
def test_memory_ceiling(kind: MemoryKind, limit_gib: int, status: Status) -> None:
    verdict = MemoryCeiling(limit_gib * GiB, kind).evaluate(PEAKS, CTX)
    assert verdict.status is status
    assert ("<=" in verdict.message) == (status is Status.PASSED)


def test_memory_ceiling_sentence() -> None:
    message = MemoryCeiling(24 * GiB, MemoryKind.RESERVED).evaluate(PEAKS, CTX).message
    assert message == (
        f"peak reserved memory 24.50 GiB > ceiling 24.00 GiB (+2.1 %) for 1024x1024/simple on {H100} "
        "(allocated 21.69 GiB, reserved 24.50 GiB)"
    )
