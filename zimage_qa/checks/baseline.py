"""Judging this run against a saved run of the same deployment on the same runner (--qa-baseline): latency
rounds by the one decision rule (`zimage_qa.decision`), looked at as they come in; memory peaks with a
small tolerance; the forward count exactly."""

from __future__ import annotations

import math
import statistics
from dataclasses import replace

from zimage_qa.decision import (
    ALPHA,
    MIN_HOST_GAIN,
    Decision,
    Looks,
    Outcome,
    decide,
    host_adjusted,
    rounds_interval,
    widened,
)
from zimage_qa.measure.baseline import BaselineEntry
from zimage_qa.measure.probe import LAUNCH_BOUND_S, SLOW_FACTOR, HostState
from zimage_qa.measure.rounds import Rounds
from zimage_qa.measure.units import format_seconds
from zimage_qa.verdict import Verdict

MEMORY_TOLERANCE = 0.02  # a peak may grow 2 % (or 256 MiB, whichever is larger) before it is a regression
MEMORY_FLOOR_GIB = 0.25
# Two runs of a launch-bound scenario with the same probe still differ: 4.5-5.5 % (SD, log scale) between
# stretches of 10-15 512x512 rounds of one nvidia-h200 recording (benchmarks/results/2026-12-02-h200/
# 1-spells.json), per unit of probe elasticity (0.95 there).
HOST_FLOOR_SD = 0.05


class BaselineQuestion:
    """Is this scenario slower than its baseline? Each look spends part of alpha (`Looks`), so stopping as
    soon as the rule decides keeps its error rates; host-slow rounds (this run's and the baseline's, where
    it recorded its probes) are set aside."""

    def __init__(
        self,
        entry: BaselineEntry | None,
        case_id: str,
        nfe: int,
        min_effect: float,
        max_rounds: int,
        alpha: float = ALPHA,
    ) -> None:
        self.entry, self.case_id, self.nfe, self.min_effect = entry, case_id, nfe, min_effect
        self.looks = Looks(alpha, max_rounds)
        self.decision: Decision | None = None
        self._seen = 0
        self._verdict = self._fixed() or Verdict.not_run(f"{case_id}: not compared with the baseline yet")

    def _fixed(self) -> Verdict | None:
        """The verdict that no rounds can change: no baseline for the scenario, or another forward count."""
        entry = self.entry
        if entry is None:
            return Verdict.not_run(
                f"--qa-baseline holds no rounds for {self.case_id}; save a run that has it"
            )
        if entry.nfe is not None and entry.nfe != self.nfe:
            return Verdict.failed(
                f"{self.case_id}: {self.nfe} DiT forwards per image, the baseline ({entry.label}) made "
                f"{entry.nfe}: a library upgrade changed the step schedule",
                baseline_nfe=entry.nfe,
            )
        return None

    def look(self, rounds: Rounds, final: bool) -> bool:
        entry = self.entry
        if entry is None or self._fixed() is not None:
            return True
        now = rounds.normal_against(self._reference_ms(rounds))
        if len(now) < 2:
            self._verdict = Verdict.not_run(
                f"{self.case_id}: not judged against the baseline: {len(now)} of {len(rounds.times_s)} rounds "
                f"at normal host speed ({rounds.host.describe() if rounds.host else 'no probe'})"
            )
            return final
        if len(now) <= self._seen and not final:
            return False
        self._seen = len(now)
        alpha = self.looks.spend(len(now), final)
        if alpha <= 0:  # fewer rounds at normal speed than at an earlier look: nothing new to judge
            return final
        interval = rounds_interval(entry.normal_rounds_s, now, alpha)
        floor = self._host_floor(rounds, alpha)
        note = ""
        if floor is not None:
            interval = widened(interval, floor[0])
            note = (
                f"launch-bound on a host whose speed moved (the probe explains {floor[1]:.0%} of the rounds' "
                f"spread): a host floor of +-{floor[0]:.1%} between two runs, and no 'same' from two runs"
            )
        decision = decide(interval, self.min_effect, alpha)
        if floor is not None and decision.outcome in (Outcome.SAME, Outcome.IMPROVED):
            decision = replace(decision, outcome=Outcome.INCONCLUSIVE, rounds_needed=None)
        self.decision = decision
        self._verdict = self._judged(decision, entry, rounds, note)
        return decision.outcome.decided or final

    def _host_floor(self, rounds: Rounds, alpha: float) -> tuple[float, float] | None:
        """(half-width on the log scale, share of spread the probe explains) that two separate runs of a
        launch-bound scenario cannot resolve: where the host's speed explains at least MIN_HOST_GAIN of
        the rounds' spread, or the scenario is launch-bound by its time (under LAUNCH_BOUND_S: one run may
        sit inside one spell and show no slope), the unexplained run-to-run part (HOST_FLOOR_SD per unit of
        probe elasticity, measured on nvidia-h200) plus the elasticity times the two runs' probe apart."""
        entry, reference = self.entry, self._reference_ms(rounds)
        if entry is None or entry.host is None or rounds.host is None or reference is None:
            return None
        if any(p is None for p in (*entry.host.round_ms, *rounds.host.round_ms)):
            return None
        if len(entry.host.round_ms) != len(entry.rounds_s):
            return None
        a_s, a_ms = _kept(entry.rounds_s, entry.host, entry.host.normal_ms)
        b_s, b_ms = _kept(rounds.times_s, rounds.host, reference)
        fit = host_adjusted(a_s, a_ms, b_s, b_ms, reference)
        if fit is not None and fit.gain >= MIN_HOST_GAIN:
            slope, share = fit.slope, fit.gain
        elif (
            entry.median_s < LAUNCH_BOUND_S
        ):  # launch-bound by its time: a run inside one spell shows no slope
            slope, share = 1.0, fit.gain if fit is not None else 0.0
        else:
            return None
        apart = abs(math.log(statistics.median(b_ms) / statistics.median(a_ms)))
        if max(*a_ms, *b_ms) <= SLOW_FACTOR * min(*a_ms, *b_ms) and apart <= math.log(1.05):
            return None  # the host held its speed through both runs: their rounds compare as they are
        z = statistics.NormalDist().inv_cdf(1 - alpha / 2)
        return slope * (z * HOST_FLOOR_SD + apart), share

    def _reference_ms(self, rounds: Rounds) -> float | None:
        """The probe this run's rounds are held to: the baseline's normal where it recorded one (a host
        slower now than then sets rounds aside), else this session's own."""
        entry = self.entry
        mine = rounds.host.normal_ms if rounds.host is not None else None
        theirs = entry.host.normal_ms if entry is not None and entry.host is not None else None
        if theirs is None or mine is None:
            return mine
        return min(mine, theirs)

    def _judged(self, decision: Decision, entry: BaselineEntry, rounds: Rounds, note: str) -> Verdict:
        values = {
            "baseline_median_s": entry.median_s,
            "baseline_change": decision.change,
            "baseline_ci_low": decision.interval.low,
            "baseline_ci_high": decision.interval.high,
            "baseline_outcome": decision.outcome.value,
            "baseline_source": entry.label,
            "baseline_set_aside": len(entry.rounds_s) - len(entry.normal_rounds_s) + rounds.set_aside,
        }
        text = f"{decision.describe()} against the baseline ({entry.label}{'; ' + note if note else ''})"
        weights = f"; weights {entry.weights}" if entry.weights else ""
        if decision.outcome is Outcome.REGRESSED:
            return Verdict.failed(
                f"{self.case_id} is slower than its baseline: {text} (minimum effect "
                f"{self.min_effect:.0%}){weights}",
                **values,
            )
        if decision.outcome is Outcome.INCONCLUSIVE:
            if note:
                fix = "compare in one process instead (--qa-candidate: interleaved pairs share the host's state)"
            elif decision.interval.limited_before(decision.alpha):
                fix = "record the baseline again with more rounds ([run] rounds), on a quiet host"
            else:
                fix = "raise [run] max_rounds or time_budget_s"
            return Verdict.not_run(
                f"{self.case_id}: not judged against the baseline: {text}: {decision.why_undecided()}; {fix}",
                **values,
            )
        return Verdict.passed(f"{decision.outcome.value} as the baseline: {text}", **values)

    def verdict(self) -> Verdict:
        return self._verdict


def _kept(
    times: tuple[float, ...], host: HostState, normal_ms: float | None
) -> tuple[list[float], list[float]]:
    """The rounds at normal host speed against `normal_ms` and their probes (all of them under two)."""
    slow = host.slow_against(normal_ms)
    kept = [(t, float(p or 0.0)) for t, p, s in zip(times, host.round_ms, slow, strict=True) if not s]
    if len(kept) < 2:
        kept = [(t, float(p or 0.0)) for t, p in zip(times, host.round_ms, strict=True)]
    return [t for t, _ in kept], [p for _, p in kept]


def memory_against(entry: BaselineEntry | None, case_id: str, peaks_gib: dict[str, float]) -> Verdict:
    """Each peak against the baseline's: more than MEMORY_TOLERANCE (at least MEMORY_FLOOR_GIB) is a
    regression. Allocator peaks repeat to the byte from run to run, so no interval is needed."""
    if entry is None or not entry.vram_gib:
        return Verdict.not_run(f"--qa-baseline holds no memory peaks for {case_id}")
    grown = []
    for key, now in peaks_gib.items():
        before = entry.vram_gib.get(key)
        if before is None:
            continue
        if now - before > max(before * MEMORY_TOLERANCE, MEMORY_FLOOR_GIB):
            grown.append(
                f"{key.removesuffix('_gib').replace('_', ' ')} {now:.2f} GiB vs {before:.2f} GiB "
                f"(+{(now / before - 1) * 100:.1f} %)"
            )
    values = {f"baseline_{k}": v for k, v in entry.vram_gib.items()}
    if grown:
        return Verdict.failed(
            f"{case_id} uses more memory than its baseline ({entry.label}): " + "; ".join(grown), **values
        )
    return Verdict.passed(f"memory within {MEMORY_TOLERANCE:.0%} of the baseline", **values)


def describe(entry: BaselineEntry) -> str:
    return f"baseline median {format_seconds(entry.median_s)} ({entry.label})"
