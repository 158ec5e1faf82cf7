"""Which gate checks each of N processes runs: the gate split into units (a latency scenario with its VRAM
peak, a golden case, the drift run, a guard...), each with an estimated cost, assigned to N shards so
that the estimated walls are even. Deterministic: every process computes the same plan from the same
configuration, so no process needs to be told another's share.

A unit that shares a size with others costs less where that size is already warmed, so the cost of a
shard is not a plain sum (`shard_cost`); the assignment is greedy by falling cost (LPT), then improved
by moving and swapping units while the largest shard shrinks. Per-process checks (cold start: each
process loads its own pipeline; the scheduler and dtype guards: they read that pipeline, at no
generation) run in every shard; everything else runs exactly once.
"""

from __future__ import annotations

import enum
import itertools
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from zimage_qa.config import Case, QAConfig
from zimage_qa.errors import QAUsageError
from zimage_qa.fleet.cost import CostModel
from zimage_qa.options import Shard

Size = tuple[int, int]


class UnitKind(enum.Enum):
    SCENARIO = "scenario"  # test_latency[id] + test_vram_peak[id]: the peak reuses the latency rounds
    GOLDEN = "golden"
    GLYPH = "glyph"
    CHECK = "check"  # one unparametrised test (drift, leak, a generating guard)
    EVERY = "every"  # per-process: runs in every shard


# Gate test function -> the unit kind of its parametrised case. Both scenario tests share one unit.
CASE_TESTS: dict[str, UnitKind] = {
    "test_latency": UnitKind.SCENARIO,
    "test_vram_peak": UnitKind.SCENARIO,
    "test_golden_image": UnitKind.GOLDEN,
    "test_glyph_text_is_legible": UnitKind.GLYPH,
}
EVERY_SHARD = ("test_cold_start", "test_scheduler_is_flowmatch_euler", "test_dtype_is_the_configured_one")
# Generating guards on the guard case (the smallest size the shard warmed): generations each.
GUARD_GENERATIONS: dict[str, int] = {
    "test_guidance_is_zero_and_no_cfg_pass": 1,
    "test_dit_forwards_per_image": 1,
    "test_same_seed_same_image": 2,
    "test_other_seed_other_image": 2,
}
DRIFT_TEST = "test_back_to_back_drift"
LEAK_TEST = "test_vram_by_stage_and_no_leak"
GOLDEN_DETERMINISM_TEST = "test_golden_case_is_deterministic"
_NAME = re.compile(r"^(?P<func>[^\[]+)(?:\[(?P<param>.*)\])?$")


@dataclass(frozen=True)
class Unit:
    """A piece of the gate that one shard runs whole: `cost_s` estimated seconds of work after warm-up,
    generated at `size` (None: no generation); `every` units run in every shard."""

    id: str
    cost_s: float
    size: Size | None = None
    steps: int = 8
    every: bool = False


def split_name(test_name: str) -> tuple[str, str | None]:
    """'test_latency[512-simple]' -> ('test_latency', '512-simple'); a node id's path is dropped."""
    name = test_name.rsplit("::", 1)[-1]
    match = _NAME.match(name)
    return (match["func"], match["param"]) if match else (name, None)


def unit_of(test_name: str) -> str:
    """The unit a gate test (its pytest `item.name` or node id) belongs to."""
    func, param = split_name(test_name)
    kind = CASE_TESTS.get(func)
    if kind is not None and param is not None:
        return f"{kind.value}:{param}"
    return func if param is None else f"{func}[{param}]"


def plan_units(
    config: QAConfig,
    profile: str | None,
    selection: str | None,
    *,
    looks: bool,
    renders_text: bool,
    cost: CostModel | None = None,
) -> tuple[Unit, ...]:
    """The units of a gate run: the selected scenarios, golden and glyph cases (free where the profile
    does not judge looks or cannot render text: their tests only say so), drift, leak and the guards."""
    model = cost or CostModel()
    run = config.run_for(profile) if profile else config.run_default
    scenarios = config.select_scenarios(selection)

    def gens(case: Case, n: float, extra_s: float = 0.0) -> Unit:
        return Unit(
            "",
            n * model.generation_s(case.width, case.height, case.steps) + extra_s,
            (case.width, case.height),
            case.steps,
        )

    def named(unit_id: str, unit: Unit) -> Unit:
        return Unit(unit_id, unit.cost_s, unit.size, unit.steps)

    units = [named(f"scenario:{s.id}", gens(s, run.rounds + run.warmup)) for s in scenarios]
    units += [named(f"golden:{c.id}", gens(c, 1) if looks else Unit("", 0.0)) for c in config.golden]
    if looks and config.golden:
        units.append(named(GOLDEN_DETERMINISM_TEST, gens(config.golden[0], 2)))
    units += [
        named(f"glyph:{c.id}", gens(c, 1, model.ocr_s) if renders_text else Unit("", 0.0))
        for c in config.glyphs
    ]
    units.append(named(DRIFT_TEST, gens(config.scenario(run.drift_scenario), run.drift_images)))
    units.append(named(LEAK_TEST, gens(config.scenario(run.leak_scenario), run.leak_images)))
    smallest = min((*scenarios, *config.scenarios), key=lambda c: c.width * c.height)
    # A guard generates at the smallest size its shard has already warmed: no warm-up of its own.
    units += [Unit(name, gens(smallest, n).cost_s) for name, n in GUARD_GENERATIONS.items()]
    units += [Unit(name, 0.0, every=True) for name in EVERY_SHARD]
    return tuple(units)


@dataclass(frozen=True)
class ShardPlan:
    """`shards[k]`: the unit ids shard k runs once; `every`: those every shard runs; `estimates_s[k]`:
    the estimated wall of shard k, load included."""

    shards: tuple[frozenset[str], ...]
    every: frozenset[str]
    estimates_s: tuple[float, ...] = field(default=())

    @property
    def count(self) -> int:
        return len(self.shards)

    def shard_of_unit(self, unit_id: str) -> int | None:
        """The shard that runs `unit_id`; None for an every-shard unit."""
        if unit_id in self.every:
            return None
        for k, members in enumerate(self.shards):
            if unit_id in members:
                return k
        return zlib.crc32(unit_id.encode("utf-8")) % self.count  # a test the plan does not know

    def selects(self, test_name: str, index: int) -> bool:
        """Whether shard `index` runs the gate test `test_name` (its pytest `item.name` or node id)."""
        owner = self.shard_of_unit(unit_of(test_name))
        return owner is None or owner == index


def select_shard(
    nodeids: Sequence[str],
    shard: Shard,
    config: QAConfig,
    *,
    profile: str | None = None,
    looks: bool = True,
    renders_text: bool = True,
    cost: CostModel | None = None,
) -> set[str]:
    """The node ids (of one collection) that shard `shard` (K/N, K from 1) runs. The plan covers exactly
    the collected tests, so every process of a run, collecting the same tests, computes the same plan;
    a test the cost model does not know counts as one generation at the smallest size."""
    model = cost or CostModel()
    known = {
        u.id: u
        for u in plan_units(config, profile, "all", looks=looks, renders_text=renders_text, cost=model)
    }
    smallest = min(config.scenarios, key=lambda c: c.width * c.height, default=None)
    guess = model.generation_s(smallest.width, smallest.height, smallest.steps) if smallest else 1.0
    wanted = dict.fromkeys(unit_of(n) for n in nodeids)
    units = [known.get(u) or Unit(u, guess) for u in wanted]
    plan = assign(units, shard.count, model)
    return {n for n in nodeids if plan.selects(n, shard.index - 1)}


def shard_cost(units: Iterable[Unit], cost: CostModel | None = None) -> float:
    """Estimated wall of a process that runs `units`: its load, one warm-up per distinct size, the units."""
    model = cost or CostModel()
    chosen = list(units)
    sizes = {(u.size, u.steps) for u in chosen if u.size is not None}
    warm = sum(model.warm_s(w, h, steps) for (w, h), steps in sizes)
    return model.load_s + warm + sum(u.cost_s for u in chosen)


def assign(units: Sequence[Unit], n: int, cost: CostModel | None = None) -> ShardPlan:
    """`units` over `n` shards with even estimated walls; the same input always gives the same plan."""
    if n < 1:
        raise QAUsageError(f"cannot split the gate into {n} shards; give at least 1")
    ids = [u.id for u in units]
    if len(set(ids)) != len(ids):
        raise QAUsageError(f"unit ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    model = cost or CostModel()
    shared = [u for u in units if not u.every]
    starts = (
        sorted(shared, key=lambda u: (-u.cost_s - _warm(u, model), u.id)),  # largest first (LPT)
        sorted(shared, key=lambda u: (-(u.size or (0, 0))[0] * (u.size or (0, 0))[1], -u.cost_s, u.id)),
    )
    bins = min(
        (_improved(_greedy(order, n, model), model) for order in starts), key=lambda b: _score(b, model)
    )
    every = [u for u in units if u.every]
    return ShardPlan(
        tuple(frozenset(u.id for u in b) for b in bins),
        frozenset(u.id for u in every),
        tuple(shard_cost([*b, *every], model) for b in bins),
    )


def _greedy(order: Sequence[Unit], n: int, model: CostModel) -> list[list[Unit]]:
    """Each unit, in `order`, to the shard whose wall it raises least."""
    bins: list[list[Unit]] = [[] for _ in range(n)]
    for unit in order:
        best = min(range(n), key=lambda k: (shard_cost([*bins[k], unit], model), len(bins[k]), k))
        bins[best].append(unit)
    return bins


def _score(bins: list[list[Unit]], model: CostModel) -> tuple[float, float, tuple[tuple[str, ...], ...]]:
    costs = [shard_cost(b, model) for b in bins]
    return (round(max(costs), 9), round(sum(costs), 9), tuple(tuple(sorted(u.id for u in b)) for b in bins))


def _warm(unit: Unit, model: CostModel) -> float:
    return model.warm_s(*unit.size, unit.steps) if unit.size is not None else 0.0


def _improved(bins: list[list[Unit]], model: CostModel, max_passes: int = 500) -> list[list[Unit]]:
    """`bins` after exchanging one or two units of the most expensive shard for none, one or two of
    another shard, best exchange first, while that lowers (max, sum) of the walls."""
    for _ in range(max_passes):
        costs = [shard_cost(b, model) for b in bins]
        top = max(range(len(bins)), key=lambda k: (costs[k], -k))
        best = (round(max(costs), 9), round(sum(costs), 9))
        chosen: tuple[int, tuple[int, ...], tuple[int, ...]] | None = None
        for most in (1, 2):  # single moves and swaps first; pairs only when those are exhausted
            for other in (k for k in range(len(bins)) if k != top):
                for out in _picks(len(bins[top]), 1, most):
                    for back in _picks(len(bins[other]), 0, most):
                        score = _score_after(bins, costs, top, out, other, back, model)
                        if score < best:
                            best, chosen = score, (other, out, back)
            if chosen is not None:
                break
        if chosen is None:
            break
        other, out, back = chosen
        moving = [bins[top][i] for i in out]
        returning = [bins[other][j] for j in back]
        bins[top] = sorted(
            [u for i, u in enumerate(bins[top]) if i not in out] + returning, key=lambda u: u.id
        )
        bins[other] = sorted(
            [u for j, u in enumerate(bins[other]) if j not in back] + moving, key=lambda u: u.id
        )
    return bins


def _picks(count: int, least: int, most: int) -> Iterator[tuple[int, ...]]:
    for size in range(least, most + 1):
        yield from itertools.combinations(range(count), size)


def _score_after(
    bins: list[list[Unit]],
    costs: list[float],
    top: int,
    out: tuple[int, ...],
    other: int,
    back: tuple[int, ...],
    model: CostModel,
) -> tuple[float, float]:
    a = [u for i, u in enumerate(bins[top]) if i not in out] + [bins[other][j] for j in back]
    b = [u for j, u in enumerate(bins[other]) if j not in back] + [bins[top][i] for i in out]
    after = list(costs)
    after[top], after[other] = shard_cost(a, model), shard_cost(b, model)
    return (round(max(after), 9), round(sum(after), 9))
