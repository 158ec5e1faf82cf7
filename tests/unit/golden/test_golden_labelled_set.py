"""The verdict on the labelled set: real photographs, tolerated and regressing perturbations.

Run with `-s` or `-rA` to see the rates by perturbation kind. The thresholds in
qa/golden/thresholds.py were calibrated on this set; the margins printed below show how much room
each measure has on the tolerated (SAME) side.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pytest
from golden_labelled_set import pairs
from PIL import Image

from qa.golden.measures import hamming, phash_hex
from qa.golden.outcome import Bound, Verdict
from qa.golden.record import GoldenCase, GoldenRecord, make_record
from qa.golden.verdict import compare

PHASH_BASELINE = 8  # the naive gate: "same" when the pHash distance is at most 8


@dataclass(frozen=True)
class Outcome:
    photo: str
    kind: str
    same: bool
    verdict: Verdict
    phash_distance: int


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    records: dict[str, GoldenRecord] = {}
    results = []
    for pair in pairs():
        if pair.photo not in records:
            records[pair.photo] = make_record(pair.golden, GoldenCase(pair.photo, 512, 512))
        record = records[pair.photo]
        distance = hamming(record.measures.phash, phash_hex(Image.fromarray(pair.candidate)))
        results.append(Outcome(pair.photo, pair.kind, pair.same, compare(record, pair.candidate), distance))
    return results


def _rate(hits: list[bool]) -> float:
    return sum(hits) / len(hits)


def test_verdict_reaches_the_rates_on_the_labelled_set(outcomes: list[Outcome]) -> None:
    by_kind: dict[tuple[bool, str], list[bool]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[(outcome.same, outcome.kind)].append(outcome.verdict.same == outcome.same)
    overall = _rate([o.verdict.same == o.same for o in outcomes])
    kept = _rate([o.verdict.same for o in outcomes if o.same])
    print(f"\nlabelled set: {len(outcomes)} pairs; accuracy {overall:.1%}; SAME pairs kept {kept:.1%}")
    for (same, kind), hits in sorted(by_kind.items()):
        print(f"  {'SAME     ' if same else 'REGRESSED'} {kind:<30} {sum(hits):>2}/{len(hits)}")
    wrong = [f"{o.photo}/{o.kind}: {o.verdict.summary()}" for o in outcomes if o.verdict.same != o.same]
    print("  misjudged:", *wrong or ["none"], sep="\n    ")
    assert overall >= 0.97, wrong
    assert kept >= 0.98, wrong


def test_every_regression_kind_is_caught_somewhere(outcomes: list[Outcome]) -> None:
    caught = defaultdict(list)
    for outcome in outcomes:
        if not outcome.same:
            caught[outcome.kind].append(not outcome.verdict.same)
    missed = {kind: hits for kind, hits in caught.items() if _rate(hits) < 0.75}
    assert not missed


def test_margins_of_the_tolerated_changes(outcomes: list[Outcome]) -> None:
    """Print, per measure, the worst value a SAME pair reached next to its threshold."""
    worst: dict[str, tuple[float, float, Bound]] = {}
    for outcome in (o for o in outcomes if o.same):
        for m in outcome.verdict.measures:
            previous = worst.get(m.name, (m.value, m.threshold, m.bound))[0]
            pick = max if m.bound is Bound.AT_MOST else min
            worst[m.name] = (pick(previous, m.value), m.threshold, m.bound)
    print("\nworst SAME value per measure (threshold):")
    for name, (value, threshold, bound) in worst.items():
        print(f"  {name:<13} {value:>8.3g}  ({'<=' if bound is Bound.AT_MOST else '>='} {threshold:g})")
    assert all((v <= t) if b is Bound.AT_MOST else (v >= t) for v, t, b in worst.values()), (
        "a SAME pair crossed a threshold"
    )


def test_phash_alone_scores_clearly_lower(outcomes: list[Outcome]) -> None:
    baseline = _rate([(o.phash_distance <= PHASH_BASELINE) == o.same for o in outcomes])
    verdict = _rate([o.verdict.same == o.same for o in outcomes])
    print(f"\npHash distance <= {PHASH_BASELINE} alone: {baseline:.1%} correct; the verdict: {verdict:.1%}")
    assert baseline <= 0.75
    assert verdict - baseline >= 0.2
