"""Fitting the golden thresholds on labelled pairs, and judging pairs held out of the fit.

Each pair is measured once (`measured`): the verdict's measure values do not depend on the thresholds,
so any set of thresholds can then judge it by comparing numbers (`judge`). The fitting procedure
(`fit`) is deterministic and runs per measure, on "distance from unchanged" d (the value for a
measure bounded above; 1 - value for SSIM and the share of levels kept, bounded below):

1. s = the largest d over the SAME pairs (a tolerated change must pass: no quantile, no exclusions);
2. low = s * 1.25 (a 25 % margin; at least `_MIN_STEP` of the measure above s);
3. r = the lower quartile of d over the REGRESSED pairs above low (the regressions this measure sees);
4. the threshold is the geometric midpoint sqrt(low * r) (the measures are ratios or log-ratios of
   change), or 2 * low when no regression goes above low;
5. rounded to 3 significant figures.

Margin and quartile were picked during development with both sets in view: on the leave-one-out
figures every margin in 1.25-2 and quantile in 10-33 gives 99.3-99.6 % right; on the set apart the
choice matters (94-97 %), so for these two numbers the set apart is not pristine.

`leave_one_out` fits on the pairs of all pictures but one and judges the pairs of the picture left out,
for every picture in turn. `python tests/unit/golden/heldout_fitting.py` prints the thresholds fitted
on the whole labelled set: the defaults in zimage_qa/golden/thresholds.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

import numpy as np
from golden_labelled_set import Pair

from zimage_qa.golden.outcome import Bound
from zimage_qa.golden.record import GoldenCase, GoldenRecord, make_record
from zimage_qa.golden.thresholds import Thresholds
from zimage_qa.golden.verdict import compare

# The measures the fit sets; validity (flat_std, black_level) and size are rules, not fitted.
FITTED = (
    "phash",
    "dhash",
    "structure",
    "colour_shift",
    "local_colour",
    "hue",
    "exposure",
    "contrast",
    "saturation",
    "sharpness",
    "noise",
    "levels",
    "periodicity",
    "seams",
)
_MARGIN = 1.25
_REGRESSED_QUANTILE = 25.0
_MIN_STEP = {"phash": 1.0, "dhash": 1.0, "noise": 0.5}  # integers and 8-bit levels: at least one step


@dataclass(frozen=True)
class Measured:
    """One labelled pair, measured: `values` by threshold name; `fixed_ok` = validity and size passed."""

    photo: str
    group: str
    kind: str
    same: bool
    low_chroma: bool
    values: dict[str, float]
    bounds: dict[str, Bound]
    fixed_ok: bool


def measured(pairs: Iterable[Pair]) -> list[Measured]:
    """Measure every pair once (one golden record per picture)."""
    records: dict[str, GoldenRecord] = {}
    out = []
    for pair in pairs:
        photo, golden, candidate = pair.photo, pair.golden, pair.candidate
        if photo not in records:
            records[photo] = make_record(golden, GoldenCase(photo, golden.shape[1], golden.shape[0]))
        verdict = compare(records[photo], candidate)
        values, bounds, fixed_ok = {}, {}, True
        for m in verdict.measures:
            key = m.name.replace(" ", "_")
            if key in FITTED:
                values[key], bounds[key] = float(m.value), m.bound
            else:
                fixed_ok = fixed_ok and m.passed
        group = pair.group
        out.append(Measured(photo, group, pair.kind, pair.same, group != "colour", values, bounds, fixed_ok))
    return out


def _distance(value: float, bound: Bound) -> float:
    return value if bound is Bound.AT_MOST else 1.0 - value


def judge(item: Measured, thresholds: Thresholds) -> bool:
    """True when `thresholds` would call this pair the same picture."""
    if not item.fixed_ok or len(item.values) < len(FITTED):
        return False
    for key, value in item.values.items():
        limit = getattr(thresholds, key)
        if not (value <= limit if item.bounds[key] is Bound.AT_MOST else value >= limit):
            return False
    return True


def _round3(value: float) -> float:
    if value == 0:
        return 0.0
    return round(value, 2 - math.floor(math.log10(abs(value))))


def fit(items: list[Measured]) -> Thresholds:
    """The thresholds the procedure in this module's docstring gives on `items`."""
    complete = [i for i in items if len(i.values) == len(FITTED)]
    fitted = {}
    for key in FITTED:
        bound = complete[0].bounds[key]
        same = np.array([_distance(i.values[key], bound) for i in complete if i.same])
        regressed = np.array([_distance(i.values[key], bound) for i in complete if not i.same])
        top = float(same.max())
        step = _MIN_STEP.get(key, 1e-3)
        low = max(top * _MARGIN, top + step)
        seen = regressed[regressed > low]
        limit = math.sqrt(low * float(np.percentile(seen, _REGRESSED_QUANTILE))) if seen.size else 2 * low
        value = limit if bound is Bound.AT_MOST else 1.0 - limit
        fitted[key] = _round3(max(value, 0.0))
    return replace(Thresholds(), **fitted)


def leave_one_out(items: list[Measured]) -> list[tuple[Measured, bool]]:
    """Every pair judged by thresholds fitted without its picture: (pair, judged same)."""
    judged: list[tuple[Measured, bool]] = []
    for photo in dict.fromkeys(i.photo for i in items):
        thresholds = fit([i for i in items if i.photo != photo])
        judged.extend((i, judge(i, thresholds)) for i in items if i.photo == photo)
    return judged


def differing_fields(shipped: Thresholds, fitted: Thresholds) -> dict[str, tuple[float, float]]:
    """Fitted thresholds whose shipped default differs: name -> (shipped, fitted)."""
    return {
        f.name: (getattr(shipped, f.name), getattr(fitted, f.name))
        for f in fields(Thresholds)
        if f.name in FITTED and getattr(shipped, f.name) != getattr(fitted, f.name)
    }


@dataclass(frozen=True)
class Rates:
    """How a list of judged pairs came out: share right, share of SAME pairs kept, and the counts."""

    right: int
    total: int
    kept: int
    same: int

    @classmethod
    def of(cls, judged: list[tuple[Measured, bool]]) -> Rates:
        right = sum(verdict == item.same for item, verdict in judged)
        kept = sum(verdict for item, verdict in judged if item.same)
        return cls(right, len(judged), kept, sum(item.same for item, _ in judged))

    @property
    def accuracy(self) -> float:
        return self.right / self.total

    @property
    def kept_rate(self) -> float:
        return self.kept / self.same if self.same else 1.0

    def line(self, label: str) -> str:
        return (
            f"{label:<34} {self.right:>3}/{self.total:<3} right ({self.accuracy:6.1%}); "
            f"SAME kept {self.kept:>3}/{self.same:<3} ({self.kept_rate:6.1%})"
        )


def closing_note(title: str, judged: list[tuple[Measured, bool]]) -> str:
    """The figures by picture group, low chroma apart, SAME and REGRESSED kind, and the misjudged pairs."""
    lines = [title, Rates.of(judged).line("all pairs")]
    for label, keep in (("colour pictures", False), ("low-chroma pictures", True)):
        lines.append(Rates.of([j for j in judged if j[0].low_chroma is keep]).line(label))
    for group in dict.fromkeys(item.group for item, _ in judged):
        lines.append(Rates.of([j for j in judged if j[0].group == group]).line(f"  group {group}"))
    for same in (True, False):
        for kind in dict.fromkeys(item.kind for item, _ in judged if item.same is same):
            hits = [j for j in judged if j[0].kind == kind and j[0].same is same]
            right = sum(verdict == item.same for item, verdict in hits)
            lines.append(f"  {'SAME     ' if same else 'REGRESSED'} {kind:<28} {right:>3}/{len(hits)}")
    wrong = [
        f"    {i.photo} / {i.kind} ({'SAME' if i.same else 'REGRESSED'})" for i, v in judged if v != i.same
    ]
    return "\n".join([*lines, "  misjudged:", *(wrong or ["    none"])])


if __name__ == "__main__":
    from golden_labelled_set import pairs

    print(fit(measured(pairs())))
