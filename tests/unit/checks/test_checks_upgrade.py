"""Upgrade A/B verdicts on plain values: interleaved pairs where B is slower fail, the same passes, too few
to tell are not judged; a candidate that needs more memory fails; its picture is the model's or it moved."""

from __future__ import annotations

import random

from check_values import noise

from zimage_qa.checks.upgrade import (
    Side,
    ab_latency_verdict,
    ab_picture_verdict,
    all_pairs_slow_verdict,
    memory_verdict,
)
from zimage_qa.config import Case
from zimage_qa.decision import decide, paired_interval
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.verdict import Status, Verdict

CASE = Case("cat", "a cat", 256, 256, 9, 42, 9)
GIB = 2**30


def pairs(n: int, slower: float, seed: int = 3) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    a = [1.0 * (1 + rng.gauss(0, 0.01)) for _ in range(n)]
    return a, [t * (1 + slower) * (1 + rng.gauss(0, 0.01)) for t in a]


def verdict_for(
    a_s: list[float], b_s: list[float], a_bytes: int | None = None, b_bytes: int | None = None
) -> Verdict:
    decision = decide(paired_interval(a_s, b_s), 0.05)
    a = Side("reference", a_s, a_bytes, [GIB] if a_bytes else [])
    b = Side("candidate@v2", b_s, b_bytes, [GIB] if b_bytes else [])
    return ab_latency_verdict(CASE, a, b, decision, 0, "cpu", {"variant": "eager"})


def test_a_candidate_ten_percent_slower_fails() -> None:
    verdict = verdict_for(*pairs(20, 0.10))
    assert verdict.status is Status.FAILED
    assert "the candidate candidate@v2 against reference: slower" in verdict.message
    assert verdict.values["pairs"] == 20 and verdict.values["variant"] == "eager"


def test_the_same_speed_passes() -> None:
    verdict = verdict_for(*pairs(20, 0.0))
    assert verdict.status is Status.PASSED and "same" in verdict.message


def test_too_few_noisy_pairs_are_not_judged() -> None:
    a, b = [1.0, 1.3, 0.9, 1.2, 1.0, 0.8], [1.1, 1.0, 1.3, 0.9, 1.2, 1.0]
    assert verdict_for(a, b).status is Status.NOT_RUN


def test_memory_is_resident_weights_plus_the_largest_transient() -> None:
    same, values = memory_verdict(Side("a", [], 10 * GIB, [GIB]), Side("b", [], 10 * GIB, [GIB]))
    assert same.status is Status.PASSED and values["memory_change"] == 0
    more, _ = memory_verdict(Side("a", [], 10 * GIB, [GIB]), Side("b", [], 12 * GIB, [GIB]))
    assert more.status is Status.FAILED and "the candidate needs more memory" in more.message
    unknown, none = memory_verdict(Side("a", []), Side("b", []))
    assert unknown.status is Status.PASSED and none == {}


def test_a_candidate_slower_on_memory_alone_fails() -> None:
    verdict = verdict_for(*pairs(20, 0.0), a_bytes=10 * GIB, b_bytes=14 * GIB)
    assert verdict.status is Status.FAILED and "needs more memory" in verdict.message


def test_the_candidates_picture_is_the_models_or_it_moved() -> None:
    model_picture = noise(42, 256, 256)
    same = ab_picture_verdict(CASE, model_picture, noise(42, 256, 256), Thresholds())
    assert same.status is Status.PASSED and "is the model's" in same.message
    moved = ab_picture_verdict(CASE, model_picture, noise(43, 256, 256), Thresholds())
    assert moved.status is Status.FAILED and "the candidate's picture moved" in moved.message


def test_pairs_all_run_on_a_slow_host_are_not_judged_by_name() -> None:
    verdict = all_pairs_slow_verdict(CASE, 22)
    assert verdict.status is Status.NOT_RUN
    assert (
        verdict.message
        == "cat: not judged: the host ran slow through all 22 pairs (each set aside); rerun on a quiet host"
    )
