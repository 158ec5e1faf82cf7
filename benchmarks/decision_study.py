"""The decision rule on rounds recorded on a GPU, host spells included: error rates and power.

    python benchmarks/decision_study.py [SPELLS.json] [--trials 400] [--markdown]

Input: back-to-back images with the host probe before each (`benchmarks/gpu/spells.py` on `nvidia-h200`;
default: benchmarks/results/2026-12-02-h200/1-spells.json). Each trial draws two stretches of the
recording at random places, a baseline and a current run, so that the spells they fall in are the ones the
host had; the current run's images are made slower by the effect (the probe is not). Both go through what
the gate does (`zimage_qa.checks.baseline.BaselineQuestion` over `zimage_qa.measure.rounds.Rounds`): the
baseline's probes set its slow rounds aside; the current run is looked at after 3 rounds and every 2 more,
up to 20, with host-slow rounds set aside; the first look that decides ends it. Paired A/B trials take
neighbouring images as pairs. The table gives per size and effect: regressed (a failure), same (a pass),
not judged, and the rounds used; the old rule (Mann-Whitney p <= 0.01 and the minimum effect on the point
estimate, everything else a pass, no probe) is shown beside it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from dataclasses import dataclass
from pathlib import Path

from zimage_qa.checks.baseline import BaselineQuestion
from zimage_qa.decision import ALPHA, Looks, Outcome, decide, paired_interval
from zimage_qa.identity import Deployment
from zimage_qa.measure.baseline import BaselineEntry
from zimage_qa.measure.probe import HostCalibration, HostState, bracketed
from zimage_qa.measure.rounds import Rounds

DEFAULT = Path(__file__).resolve().parent / "results" / "2026-12-02-h200" / "1-spells.json"
EFFECTS = (0.0, 0.02, 0.05, 0.08, 0.10, 0.15)
FIRST, STEP, CAP, BASELINE_ROUNDS = 3, 2, 20, 10  # the gate's min_rounds, its step, max_rounds


@dataclass(frozen=True)
class Stretch:
    times: list[float]
    probes: list[float]  # one before each image, and one after the last


def stretch(rows: list[dict[str, float]], start: int, n: int, effect: float = 0.0) -> Stretch:
    part = rows[start : start + n + 1]
    return Stretch([r["image_s"] * (1 + effect) for r in part[:n]], [r["probe_ms"] for r in part])


def host(s: Stretch, n: int, calibration: HostCalibration) -> HostState:
    normal, source = calibration.normal()
    return HostState(bracketed(s.probes[: n + 1], n), normal, source)


def gate_trial(rows: list[dict[str, float]], rng: random.Random, effect: float) -> tuple[str, int]:
    """One baseline and one current run through the gate's BaselineQuestion: (outcome, rounds used)."""
    cap = min(CAP, len(rows) - BASELINE_ROUNDS - 4)  # a short recording caps the rounds lower
    span = len(rows) - cap - BASELINE_ROUNDS - 2
    b0, c0 = rng.randrange(span), rng.randrange(span)
    base = stretch(rows, b0, BASELINE_ROUNDS)
    calibration = HostCalibration(readings=list(base.probes))
    entry = BaselineEntry(
        "s",
        "s",
        tuple(base.times),
        {},
        8,
        "NVIDIA H200",
        "synthetic",
        {},
        Deployment((), ()),
        "study",
        None,
        host(base, BASELINE_ROUNDS, calibration),
    )
    question = BaselineQuestion(entry, "s", 8, 0.05, cap)
    current = stretch(rows, c0, cap, effect)
    session = HostCalibration(readings=list(current.probes[:6]))  # the warm-up's probes
    n = FIRST
    while True:
        for p in current.probes[n - STEP if n > FIRST else 0 : n + 1]:
            session.add(p)
        final = n >= cap
        rounds = Rounds(tuple(current.times[:n]), host(current, n, session))
        if question.look(rounds, final) or final:
            decision = question.decision
            outcome = decision.outcome.value if decision is not None else "not judged (host)"
            return ("not judged" if outcome == Outcome.INCONCLUSIVE.value else outcome), n
        n = min(cap, n + STEP)


def old_trial(rows: list[dict[str, float]], rng: random.Random, effect: float) -> str:
    """The rule before: 5 rounds a side, Mann-Whitney p <= 0.01, the minimum effect on the point estimate,
    the 99 % interval's low bound above 0; anything else passed."""
    from scipy.stats import mannwhitneyu

    span = len(rows) - 12
    a = stretch(rows, rng.randrange(span), 5).times
    b = stretch(rows, rng.randrange(span), 5, effect).times
    change = statistics.median(b) / statistics.median(a) - 1
    p = mannwhitneyu(a, b, method="exact").pvalue
    low = sorted(y / x - 1 for x in a for y in b)[1]  # k = 2 of the 25 ratios: the 99 % Hodges-Lehmann bound
    return "regressed" if p <= 0.01 and change >= 0.05 and low > 0 else "same"


def paired_trial(rows: list[dict[str, float]], rng: random.Random, effect: float, pairs: int = 10) -> str:
    """Interleaved A/B: neighbouring images as pairs, B slowed by the effect, one look after 10 pairs and
    every 6 more up to 40 (the gate's cap: max_rounds x 2)."""
    most = min(
        40, (len(rows) - 1) // 2
    )  # the gate's cap (max_rounds 20 x 2); a short recording caps it lower
    start = rng.randrange(len(rows) - 2 * most)
    looks, n = Looks(ALPHA, most), min(pairs, most)
    while True:
        a = [rows[start + 2 * i]["image_s"] for i in range(n)]
        b = [rows[start + 2 * i + 1]["image_s"] * (1 + effect) for i in range(n)]
        final = n + 6 > most
        alpha = looks.spend(n, final)
        decision = decide(paired_interval(a, b, alpha), 0.05, alpha)
        if decision.outcome.decided or final:
            return "not judged" if decision.outcome is Outcome.INCONCLUSIVE else decision.outcome.value
        n += 6


def study(path: Path, trials: int, seed: int = 2026) -> list[dict[str, object]]:
    data = json.loads(path.read_text())
    table = []
    for size, rows in data["sizes"].items():
        for effect in EFFECTS:
            rng = random.Random(f"{seed}-{size}-{effect}")
            gate = [gate_trial(rows, rng, effect) for _ in range(trials)]
            old = [old_trial(rows, rng, effect) for _ in range(trials)]
            paired = [paired_trial(rows, rng, effect) for _ in range(trials)]
            share = lambda xs, k: sum(x == k for x in xs) / len(xs)  # noqa: E731
            outcomes = [g[0] for g in gate]
            table.append(
                {
                    "size": size,
                    "effect": effect,
                    "trials": trials,
                    "regressed": share(outcomes, "regressed"),
                    "same": share(outcomes, "same") + share(outcomes, "improved"),
                    "not_judged": 1
                    - share(outcomes, "regressed")
                    - share(outcomes, "same")
                    - share(outcomes, "improved"),
                    "rounds": statistics.mean(g[1] for g in gate),
                    "old_regressed": share(old, "regressed"),
                    "paired_regressed": share(paired, "regressed"),
                    "paired_not_judged": share(paired, "not judged"),
                }
            )
    return table


def markdown(table: list[dict[str, object]]) -> str:
    lines = [
        "| size | effect | regressed | same | not judged | rounds (mean) | old rule: regressed | A/B: regressed | A/B: not judged |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['size']} | +{float(r['effect']):.0%} | {float(r['regressed']):.1%} | {float(r['same']):.1%} | "
            f"{float(r['not_judged']):.1%} | {float(r['rounds']):.1f} | {float(r['old_regressed']):.1%} | "
            f"{float(r['paired_regressed']):.1%} | {float(r['paired_not_judged']):.1%} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spells", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    table = study(args.spells, args.trials)
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))
    print(markdown(table))


if __name__ == "__main__":
    main()
