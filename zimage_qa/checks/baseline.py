"""Judging this run against a saved run of the same runner (--qa-baseline): latency rounds with a rank
test and a minimum effect, memory peaks with a small tolerance, the forward count exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zimage_qa.measure.baseline import Baseline, BaselineEntry, load_baseline
from zimage_qa.measure.compare import Outcome, compare_rounds
from zimage_qa.measure.units import format_seconds
from zimage_qa.verdict import Verdict

GIB = 2**30
MEMORY_TOLERANCE = 0.02  # a peak may grow 2 % (or 256 MiB, whichever is larger) before it is a regression
MEMORY_FLOOR_GIB = 0.25


def read(path: Path, fingerprint: dict[str, Any]) -> Baseline:
    return load_baseline(path, hardware=fingerprint)


def latency_against(entry: BaselineEntry | None, case_id: str, rounds_s: tuple[float, ...], nfe: int,
                    min_effect: float) -> Verdict:  # fmt: skip
    if entry is None:
        return Verdict.not_run(f"--qa-baseline holds no rounds for {case_id}; save a run that has it")
    if entry.nfe is not None and entry.nfe != nfe:
        return Verdict.failed(f"{case_id}: {nfe} DiT forwards per image, the baseline ({entry.label}) made "
                              f"{entry.nfe}: a library upgrade changed the step schedule", baseline_nfe=entry.nfe)  # fmt: skip
    comparison = compare_rounds(entry.rounds_s, rounds_s, min_effect=min_effect)
    values = {"baseline_median_s": comparison.before_median, "baseline_change": comparison.change,
              "baseline_ci_low": comparison.ci_low, "baseline_ci_high": comparison.ci_high,
              "baseline_p": comparison.p_value, "baseline_source": entry.label}  # fmt: skip
    text = f"against the baseline ({entry.label}): {comparison.describe()}"
    if comparison.outcome is Outcome.SLOWER:
        return Verdict.failed(f"{case_id} is slower than its baseline: {comparison.describe()} (minimum effect "
                              f"{min_effect:.0%}; baseline {entry.label})", **values)  # fmt: skip
    if comparison.outcome is Outcome.TOO_FEW:
        return Verdict.not_run(f"{case_id}: too few rounds to compare with the baseline ({comparison.n_before} vs "
                               f"{comparison.n_after}); raise [run] rounds", **values)  # fmt: skip
    return Verdict.passed(text, **values)


def memory_against(entry: BaselineEntry | None, case_id: str, peaks_gib: dict[str, float]) -> Verdict:
    if entry is None or not entry.vram_gib:
        return Verdict.not_run(f"--qa-baseline holds no memory peaks for {case_id}")
    grown = []
    for key, now in peaks_gib.items():
        before = entry.vram_gib.get(key)
        if before is None:
            continue
        if now - before > max(before * MEMORY_TOLERANCE, MEMORY_FLOOR_GIB):
            grown.append(f"{key.removesuffix('_gib').replace('_', ' ')} {now:.2f} GiB vs {before:.2f} GiB "
                         f"(+{(now / before - 1) * 100:.1f} %)")  # fmt: skip
    values = {f"baseline_{k}": v for k, v in entry.vram_gib.items()}
    if grown:
        return Verdict.failed(f"{case_id} uses more memory than its baseline ({entry.label}): " + "; ".join(grown),
                              **values)  # fmt: skip
    return Verdict.passed(f"memory within {MEMORY_TOLERANCE:.0%} of the baseline", **values)


def describe(entry: BaselineEntry) -> str:
    return f"baseline median {format_seconds(entry.median_s)} ({entry.label})"
