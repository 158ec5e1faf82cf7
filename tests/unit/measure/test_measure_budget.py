from __future__ import annotations

import pytest

from qa.errors import QAUsageError
from qa.measure.budget import BudgetContext, BudgetStatus, LatencyBudget, MemoryCeiling
from qa.measure.memory import MemoryKind, PeakMemory
from qa.measure.stats import summarize

H100 = "NVIDIA H100 80GB HBM3"
CTX = BudgetContext("1024x1024/simple", H100)
GiB = 2**30


def test_latency_pass():
    verdict = LatencyBudget(median_s=1.6, worst_s=2.0).evaluate(summarize([1.50, 1.52, 1.51]), CTX)
    assert verdict.status is BudgetStatus.PASS
    assert verdict.passed
    assert LatencyBudget(median_s=1.6).check(summarize([1.50, 1.52, 1.51]), CTX) is None


def test_latency_fail_names_both_numbers_margin_and_the_stage_that_grew():
    ctx = BudgetContext(
        "1024x1024/simple",
        H100,
        stages_ms={"text_encode": 45.0, "denoise": 1402.0, "vae_decode": 92.0},
        baseline_stages_ms={"text_encode": 42.0, "denoise": 1237.0, "vae_decode": 91.0},
        hint="see qa-report/index.html; rebless with --qa-update-budgets",
    )
    message = LatencyBudget(median_s=1.6).check(summarize([1.70, 1.71, 1.72]), ctx)
    assert message == (
        f"p50 latency 1.71 s > budget 1.60 s (+6.9 %) for 1024x1024/simple on {H100}; "
        "denoise grew most: 1402 ms vs 1237 ms (+13.3 %); "
        "see qa-report/index.html; rebless with --qa-update-budgets"
    )


def test_worst_round_budget():
    message = LatencyBudget(median_s=1.6, worst_s=2.0).check(summarize([1.50, 1.51, 2.10]), CTX)
    assert message is not None
    assert message.startswith("worst round latency 2.10 s > budget 2.00 s (+5.0 %)")


def test_stage_note_without_baseline_lists_the_split():
    ctx = BudgetContext("512x512/simple", "cpu", stages_ms={"denoise": 400.0, "vae_decode": 23.0})
    message = LatencyBudget(median_s=0.3).check(summarize([0.476]), ctx)
    assert (
        message == "p50 latency 476 ms > budget 300 ms (+58.7 %) for 512x512/simple on cpu; "
        "stages denoise 400 ms, vae_decode 23 ms"
    )


def test_wide_spread_is_unstable_not_pass():
    noisy = summarize([1.20, 1.30, 1.50, 1.55, 1.58])  # median under budget, IQR 17 %
    verdict = LatencyBudget(median_s=1.6, max_rel_iqr=0.05).evaluate(noisy, CTX)
    assert verdict.status is BudgetStatus.UNSTABLE
    assert verdict.message is not None
    assert verdict.message.startswith("unstable: relative IQR 16.7 % > limit 5.0 % over 5 rounds")
    assert LatencyBudget(median_s=1.6, max_rel_iqr=0.05).check(noisy, CTX) == verdict.message
    assert LatencyBudget(median_s=1.6, max_rel_iqr=0.20).evaluate(noisy, CTX).status is BudgetStatus.PASS


def test_wide_spread_with_a_clear_miss_is_a_fail():
    noisy_and_slow = summarize([2.0, 2.2, 2.5, 2.6, 2.7])
    verdict = LatencyBudget(median_s=1.6, max_rel_iqr=0.05).evaluate(noisy_and_slow, CTX)
    assert verdict.status is BudgetStatus.FAIL


def test_latency_budget_parse():
    assert LatencyBudget.parse("p50:1.6s") == LatencyBudget(median_s=1.6)
    assert LatencyBudget.parse("median:850ms, max:1s, iqr:5%") == LatencyBudget(0.85, 1.0, 0.05)
    for bad in ["1.6s", "p99:1s", "p50:fast", "iqr:5%"]:
        with pytest.raises(QAUsageError):
            LatencyBudget.parse(bad)
    with pytest.raises(QAUsageError, match="positive"):
        LatencyBudget(median_s=0.0)


PEAKS = PeakMemory(allocated_bytes=round(21.69 * GiB), reserved_bytes=round(24.5 * GiB), nvml_bytes=None)


@pytest.mark.parametrize(
    ("kind", "limit_gib", "status"),
    [
        (MemoryKind.ALLOCATED, 22, BudgetStatus.PASS),
        (MemoryKind.ALLOCATED, 21, BudgetStatus.FAIL),
        (MemoryKind.RESERVED, 25, BudgetStatus.PASS),
        (MemoryKind.RESERVED, 24, BudgetStatus.FAIL),
        (MemoryKind.NVML, 26, BudgetStatus.NOT_RUN),
    ],
)
def test_memory_ceiling(kind, limit_gib, status):
    verdict = MemoryCeiling(limit_gib * GiB, kind).evaluate(PEAKS, CTX)
    assert verdict.status is status
    assert (verdict.message is None) == (status is BudgetStatus.PASS)


def test_memory_ceiling_sentence():
    message = MemoryCeiling(24 * GiB, MemoryKind.RESERVED).check(PEAKS, CTX)
    assert message == (
        f"peak reserved memory 24.50 GiB > ceiling 24.00 GiB (+2.1 %) for 1024x1024/simple on {H100} "
        "(allocated 21.69 GiB, reserved 24.50 GiB)"
    )


def test_memory_ceiling_parse():
    assert MemoryCeiling.parse("reserved:24GiB") == MemoryCeiling(24 * GiB, MemoryKind.RESERVED)
    assert MemoryCeiling.parse("NVML:26GiB").kind is MemoryKind.NVML
    with pytest.raises(QAUsageError, match="kinds: allocated, reserved, nvml"):
        MemoryCeiling.parse("24GiB")
    with pytest.raises(QAUsageError, match="bad size"):
        MemoryCeiling.parse("reserved:24")
