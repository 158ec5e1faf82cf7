"""Sharding the gate: every check exactly once (per-process checks in every shard), walls even against
the exhaustive optimum, the same plan whatever the input order."""

from __future__ import annotations

import itertools
import random

import pytest

from zimage_qa.config import QAConfig, builtin_config, parse_config
from zimage_qa.errors import QAUsageError
from zimage_qa.fleet.cost import CostModel
from zimage_qa.fleet.shard import (
    EVERY_SHARD,
    Unit,
    assign,
    plan_units,
    select_shard,
    shard_cost,
    unit_of,
)
from zimage_qa.options import Shard

SIZES = ((512, 512), (768, 768), (1024, 768), (1024, 1024))


def default_config() -> QAConfig:
    data = builtin_config()
    data.pop("budgets")  # budgets play no part in sharding
    return parse_config(data, "built-in (no budgets)")


@pytest.mark.parametrize("profile", ["synthetic", "reference"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_every_unit_runs_exactly_once_and_per_process_checks_everywhere(profile: str, n: int) -> None:
    units = plan_units(default_config(), profile, "all", looks=True, renders_text=True)
    plan = assign(units, n)
    shared = {u.id for u in units if not u.every}
    assert len(plan.shards) == n
    assert sum(len(s) for s in plan.shards) == len(shared)  # no unit twice
    assert set().union(*plan.shards) == shared  # none lost
    assert plan.every == set(EVERY_SHARD)
    for name in EVERY_SHARD:
        assert all(plan.selects(name, k) for k in range(n))


def test_both_tests_of_a_scenario_go_to_one_shard_and_a_test_to_one_shard() -> None:
    plan = assign(plan_units(default_config(), "synthetic", None, looks=False, renders_text=False), 3)
    ids = ["1024-simple", "512-simple", "768-simple", "1024-medium"]
    for scenario in ids:
        latency = [k for k in range(3) if plan.selects(f"test_latency[{scenario}]", k)]
        vram = [
            k for k in range(3) if plan.selects(f"zimage_qa/gate/test_vram.py::test_vram_peak[{scenario}]", k)
        ]
        assert len(latency) == 1 and latency == vram
    for unknown in ("test_something_new", "test_new_case[x]", "tests/gate/test_x.py::test_y"):
        assert sum(plan.selects(unknown, k) for k in range(3)) == 1


def test_unit_names() -> None:
    assert unit_of("tests/gate/test_latency.py::test_latency[512-simple]") == "scenario:512-simple"
    assert unit_of("test_vram_peak[512-simple]") == "scenario:512-simple"
    assert unit_of("test_glyph_text_is_legible[fu]") == "glyph:fu"
    assert unit_of("zimage_qa/gate/test_latency.py::test_back_to_back_drift") == "test_back_to_back_drift"


def test_the_same_plan_whatever_the_order_of_the_units() -> None:
    units = list(plan_units(default_config(), "synthetic", "all", looks=True, renders_text=True))
    expected = assign(units, 3)
    for seed in range(5):
        random.Random(seed).shuffle(units)
        assert assign(units, 3) == expected


def _random_units(rng: random.Random, count: int) -> list[Unit]:
    units = []
    for i in range(count):
        size = rng.choice(SIZES)
        gens = rng.choice((1, 2, 6, 8))
        units.append(Unit(f"u{i}", gens * CostModel().generation_s(*size), size))
    return units


def _optimum(units: list[Unit], n: int) -> float:
    best = float("inf")
    for owners in itertools.product(range(n), repeat=len(units) - 1):
        bins: list[list[Unit]] = [[] for _ in range(n)]
        for unit, k in zip(units, (0, *owners), strict=True):  # the first unit's shard fixed: symmetry
            bins[k].append(unit)
        best = min(best, max(shard_cost(b) for b in bins))
    return best


@pytest.mark.parametrize("seed", [7, 2026])
def test_walls_come_within_6_percent_of_the_best_split(seed: int) -> None:
    """The 6 % bound is the worst seen while tuning (seed 13: 5.9 %, a 3-way exchange the local search
    does not try); these seeds were not looked at before the bound was set."""
    rng = random.Random(seed)
    ratios = []
    for trial in range(40):
        n = 2 if trial % 2 else 3
        units = _random_units(rng, rng.randint(5, 9 if n == 3 else 11))
        plan = assign(units, n)
        ratios.append(max(plan.estimates_s) / _optimum(units, n))
    assert min(ratios) >= 1.0 - 1e-9  # nothing beats the exhaustive optimum: the harness can see a gap
    assert max(ratios) <= 1.06, sorted(ratios)[-5:]
    assert sum(r <= 1.0 + 1e-9 for r in ratios) >= 30  # most splits are optimal


def test_balanced_where_the_hand_split_of_issue_13_was_not() -> None:
    """The issue split the six scenarios 3/3 with guards and drift on the first GPU (48 vs 41
    generations); the plan's estimated walls differ by under 3 %."""
    config = default_config()
    units = plan_units(config, "synthetic", None, looks=False, renders_text=False)
    plan = assign(units, 2)
    assert max(plan.estimates_s) / min(plan.estimates_s) < 1.03
    ids = [s.id for s in config.select_scenarios(None)]
    by_id = {u.id: u for u in units}
    first = [by_id[f"scenario:{i}"] for i in ids[:3]] + [
        u for u in units if u.id.startswith("test_") and not u.every
    ]
    second = [by_id[f"scenario:{i}"] for i in ids[3:]]
    every = [u for u in units if u.every]
    hand = [shard_cost([*first, *every]), shard_cost([*second, *every])]
    assert max(hand) / min(hand) > 1.15  # the hand split really was uneven
    assert max(plan.estimates_s) < max(hand)


def test_select_shard_splits_a_collection_exactly() -> None:
    config = default_config()
    nodeids = [f"zimage_qa/gate/test_latency.py::test_latency[{s.id}]" for s in config.scenarios]
    nodeids += [f"zimage_qa/gate/test_vram.py::test_vram_peak[{s.id}]" for s in config.scenarios]
    nodeids += [f"zimage_qa/gate/test_golden.py::test_golden_image[{c.id}]" for c in config.golden]
    nodeids += [
        "zimage_qa/gate/test_latency.py::test_cold_start",
        "zimage_qa/gate/test_latency.py::test_back_to_back_drift",
        "zimage_qa/gate/test_guards.py::test_same_seed_same_image",
        "tests/test_mine.py::test_extra",
    ]
    shares = [select_shard(nodeids, Shard(k, 3), config, profile="synthetic") for k in (1, 2, 3)]
    cold = "zimage_qa/gate/test_latency.py::test_cold_start"
    assert all(cold in share for share in shares)
    rest = [share - {cold} for share in shares]
    assert sum(len(r) for r in rest) == len(nodeids) - 1 and set().union(*rest) == set(nodeids) - {cold}
    assert all(rest)
    for scenario in config.scenarios:
        owners = [k for k, share in enumerate(shares) if any(f"[{scenario.id}]" in n for n in share)]
        assert len(owners) == 1  # latency and VRAM peak of a scenario together
    assert select_shard(nodeids, Shard(1, 3), config, profile="synthetic") == shares[0]  # deterministic


def test_bad_plans() -> None:
    with pytest.raises(QAUsageError, match="at least 1"):
        assign([], 0)
    with pytest.raises(QAUsageError, match="repeat"):
        assign([Unit("a", 1.0), Unit("a", 2.0)], 2)
