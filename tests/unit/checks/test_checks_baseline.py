"""--qa-baseline as a question asked of rounds as they come in: the rule's three outcomes on labelled rounds,
host-slow rounds set aside, the forward count exactly, and launch-bound runs on a host whose speed moved
never concluding 'same'."""

from __future__ import annotations

import random

from zimage_qa.checks.baseline import BaselineQuestion, memory_against
from zimage_qa.identity import Deployment
from zimage_qa.measure.baseline import BaselineEntry
from zimage_qa.measure.probe import HostState
from zimage_qa.measure.rounds import Rounds
from zimage_qa.verdict import Status


def entry(rounds: list[float], probes: list[float] | None = None, nfe: int = 8) -> BaselineEntry:
    host = HostState(tuple(probes), 14.0, "stored") if probes is not None else None
    return BaselineEntry(
        "1024-simple",
        "t",
        tuple(rounds),
        {"peak_allocated_gib": 21.7},
        nfe,
        "NVIDIA H200",
        "synthetic",
        {},
        Deployment((), ()),
        "base.json",
        None,
        host,
    )


def ask(
    base: BaselineEntry, rounds: list[float], probes: list[float] | None = None, step: int = 2
) -> BaselineQuestion:
    """Look after 3 rounds and every `step` more, as the gate does, until the question is decided."""
    question = BaselineQuestion(base, "1024-simple", 8, 0.05, len(rounds))
    n = 3
    while True:
        host = HostState(tuple(probes[:n]), 14.0, "session") if probes is not None else None
        final = n >= len(rounds)
        if question.look(Rounds(tuple(rounds[:n]), host), final) or final:
            return question
        n = min(len(rounds), n + step)


def draw(rng: random.Random, n: int, median: float, cv: float = 0.01) -> list[float]:
    return [median * (1 + cv * rng.gauss(0, 1)) for _ in range(n)]


def test_a_clear_slowdown_fails_an_equal_run_passes_a_small_one_is_not_judged() -> None:
    rng = random.Random(4)
    base = entry(draw(rng, 10, 1.31))
    slow = ask(base, draw(rng, 15, 1.31 * 1.08))
    assert (
        slow.verdict().status is Status.FAILED and "is slower than its baseline: +" in slow.verdict().message
    )
    same = ask(base, draw(rng, 15, 1.31))
    assert same.verdict().status is Status.PASSED and same.verdict().message.startswith(
        "same as the baseline"
    )
    edge = ask(
        base, [1.31, 1.40, 1.355]
    )  # +3.4 % with a spread that reaches +6.9 %: three rounds decide nothing
    assert (
        edge.verdict().status is Status.NOT_RUN
        and "not judged against the baseline" in edge.verdict().message
    )


def test_host_slow_rounds_of_this_run_are_set_aside() -> None:
    rng = random.Random(5)
    base = entry(draw(rng, 10, 1.31), [14.0] * 10)
    rounds = draw(rng, 12, 1.31)
    probes = [14.0] * 13
    for i in (2, 3, 4):  # a spell: three rounds 40 % slower, the probe reads it
        rounds[i] *= 1.4
        probes[i] = probes[i + 1] = 21.0
    question = ask(base, rounds, probes)
    assert question.verdict().status is Status.PASSED


def test_a_forward_count_that_changed_fails_at_once() -> None:
    question = BaselineQuestion(entry([1.3] * 5, nfe=9), "1024-simple", 8, 0.05, 15)
    assert question.look(Rounds((1.3, 1.3, 1.3), None), final=False)
    assert question.verdict().status is Status.FAILED and "the baseline" in question.verdict().message


def test_launch_bound_runs_on_a_moving_host_never_conclude_same() -> None:
    """512x512 on an H200 VM: the two runs sat in different spells. The rounds alone would say 'same' (or
    even 'faster') of a 10 % slowdown; with the host floor it is not judged, and the message says why."""
    rng = random.Random(6)
    base = entry(draw(rng, 10, 0.55, 0.02), [19.0 + rng.random() for _ in range(10)])  # a slow spell
    rounds = draw(rng, 15, 0.42 * 1.10, 0.02)  # a quick spell, 10 % slower code
    question = ask(base, rounds, [14.0 + rng.random() for _ in range(16)])
    verdict = question.verdict()
    assert (
        verdict.status is Status.NOT_RUN
        and "launch-bound" in verdict.message
        and "--qa-candidate" in verdict.message
    )


def test_launch_bound_runs_on_a_host_that_held_its_speed_compare_as_they_are() -> None:
    rng = random.Random(7)
    base = entry(draw(rng, 10, 0.42), [14.0] * 10)
    question = ask(base, draw(rng, 15, 0.42), [14.0] * 16)
    assert question.verdict().status is Status.PASSED


def test_memory_is_compared_with_a_tolerance() -> None:
    base = entry([1.3] * 5)
    assert memory_against(base, "1024-simple", {"peak_allocated_gib": 21.8}).ok
    grown = memory_against(base, "1024-simple", {"peak_allocated_gib": 22.3})
    assert grown.status is Status.FAILED and "uses more memory than its baseline" in grown.message
    assert memory_against(None, "1024-simple", {}).status is Status.NOT_RUN


def test_a_baseline_recorded_in_one_spell_asks_to_be_recorded_again() -> None:
    """A baseline whose rounds creep as a spell starts counts as few rounds; when that alone leaves the
    interval unbounded, the fix named is a new baseline, not more rounds now (which could not bound it).
    Where this run's rounds move together too, more rounds now is the advice."""
    rng = random.Random(8)
    creeping = [1.31 * (1 + 0.004 * i) * (1 + 0.002 * rng.gauss(0, 1)) for i in range(12)]
    steady = draw(rng, 12, 1.32)
    verdict = ask(entry(creeping), steady).verdict()
    assert verdict.status is Status.NOT_RUN, verdict.message
    assert "the 12 rounds before count as" in verdict.message, verdict.message
    assert verdict.message.endswith(
        "record the baseline again with more rounds ([run] rounds), on a quiet host"
    )
    drifting = [1.32 * (1 + 0.003 * i) * (1 + 0.001 * rng.gauss(0, 1)) for i in range(12)]
    both = ask(entry(creeping), drifting).verdict()
    assert both.status is Status.NOT_RUN and both.message.endswith(
        "raise [run] max_rounds or time_budget_s"
    ), both.message
