"""One rule for every change the gate judges: regressed, same, or not yet decided.

Baseline, candidate A/B, history steps and upgrades, drift and leaks all reduce to an estimate of the
change with a confidence interval, and one rule reads it against the minimum effect `m`:

- **regressed** when the estimate is at least `m` and the interval excludes no change (low > 0);
- **improved** when the estimate is at most `-m` and the interval excludes no change (high < 0);
- **same** only when the interval's upper bound is below `m` (an equivalence test: no slowdown of
  `m` or more is compatible with the data);
- otherwise **inconclusive**: the caller measures more, and once it cannot, reports *not judged* with
  the rounds a decision would take (`rounds_needed`, a power estimate).

Each wrong call (regressed when nothing changed, same when it slowed by `m`) has probability at most
alpha/2. A caller that looks several times as rounds come in spends alpha across its looks
(`Looks`, a Pocock-type spending function, Bonferroni over the increments), so the error rates hold
whenever it stops.

Intervals (all on the log scale, reported as relative changes):
- two samples of rounds: Hodges-Lehmann shift with the distribution-free Mann-Whitney interval; its
  rank comes from the exact null distribution, which stays valid (conservative) with ties; rounds in
  time order that are correlated (host spells) count as fewer: n (1 - r) / (1 + r) with r their lag-1
  autocorrelation, from 8 rounds a side;
- pairs (interleaved A/B): Walsh averages with the exact Wilcoxon signed-rank interval;
- a trend over a sequence (drift, leaks): the Theil-Sen slope with Sen's interval from the exact
  Kendall distribution.
Pure Python: `zqa history` and the gate import it for free.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache

from zimage_qa.errors import QAUsageError

MIN_EFFECT = 0.05
ALPHA = 0.05  # two-sided: each wrong call at most 2.5 %
_EXACT_MAX = 4000  # n1 * n2 (pairs: n(n+1)/2; slopes: n(n-1)/2) up to which exact distributions are used
_MAX_AUTOCORRELATION = 0.8
_MIN_ROUNDS_FOR_AUTOCORRELATION = 8
_HL_EFFICIENCY = 1.05  # the rank interval is about 5 % wider than a t interval on normal data


class Outcome(Enum):
    REGRESSED = "regressed"
    IMPROVED = "improved"
    SAME = "same"
    INCONCLUSIVE = "inconclusive"

    @property
    def decided(self) -> bool:
        return self is not Outcome.INCONCLUSIVE


@dataclass(frozen=True)
class Interval:
    """An estimate of a change with its confidence interval; relative (after/before - 1) unless the
    caller says otherwise (a leak's bytes per image)."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str
    n_before: int
    n_after: int
    spread: float = math.nan  # the log-scale spread the power estimate uses (NaN: unknown)
    # the sizes the interval was drawn from: fewer than the rounds where neighbours move together (spells)
    effective_before: int | None = None
    effective_after: int | None = None

    @property
    def effective(self) -> tuple[int, int]:
        return (
            self.n_before if self.effective_before is None else self.effective_before,
            self.n_after if self.effective_after is None else self.effective_after,
        )

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    def limited_before(self, alpha: float) -> bool:
        """Unbounded only because the rounds before count as fewer than they are: counted in full, they would
        bound the interval against the rounds after as these count (record the rounds before again)."""
        before, after = self.effective
        if self.bounded or before >= self.n_before or after < 1:
            return False
        return _mw_bounded(self.n_before, after, alpha)


@dataclass(frozen=True)
class Decision:
    """The rule applied to one interval."""

    outcome: Outcome
    interval: Interval
    min_effect: float
    alpha: float  # the error rate this look spent
    rounds_needed: int | None = None  # per side (pairs for A/B), when inconclusive; None: no estimate

    @property
    def change(self) -> float:
        return self.interval.estimate

    def describe(self, relative: bool = True) -> str:
        """'+8.1 % [+6.2 %, +9.9 %] (97 % CI, 10 vs 10 rounds)'."""
        i = self.interval
        fmt = _pct if relative else _plain
        sides = f"{i.n_before} pairs" if "pairs" in i.method else f"{i.n_before} vs {i.n_after}"
        return f"{fmt(i.estimate)} [{fmt(i.low)}, {fmt(i.high)}] ({i.confidence:.1%} CI, {sides})"

    def why_undecided(self) -> str:
        """Why an inconclusive interval decides nothing, and what would decide it."""
        i = self.interval
        if not i.bounded:
            base = "too few rounds for a bounded interval"
            if i.effective[0] < i.n_before:
                base += f" (the {i.n_before} rounds before count as {i.effective[0]}: they move together)"
        elif i.estimate >= self.min_effect:
            base = f"the estimate reaches the minimum effect {_pct(self.min_effect)} but the interval includes no change"
        else:
            base = (
                f"the interval reaches the minimum effect {_pct(self.min_effect)} but the estimate does not"
            )
        need = self.rounds_needed
        if need is None:
            return base
        unit = "pairs" if "pairs" in i.method else "rounds a side"
        return f"{base}; about {need} {unit} would decide it"

    def to_dict(self) -> dict[str, object]:
        i = self.interval
        return {
            "outcome": self.outcome.value,
            "change": _finite(i.estimate),
            "ci_low": _finite(i.low),
            "ci_high": _finite(i.high),
            "confidence": round(i.confidence, 5),
            "method": i.method,
            "n_before": i.n_before,
            "n_after": i.n_after,
            "min_effect": self.min_effect,
            "alpha": round(self.alpha, 6),
            "rounds_needed": self.rounds_needed,
        }


def decide(interval: Interval, min_effect: float = MIN_EFFECT, alpha: float = ALPHA) -> Decision:
    """The rule: regressed, improved, same or inconclusive (see the module docstring)."""
    if min_effect <= 0:
        raise QAUsageError(f"minimum effect {min_effect} is not positive; use 0.05 for 5 %")
    e, low, high = interval.estimate, interval.low, interval.high
    if e >= min_effect and low > 0:
        outcome = Outcome.REGRESSED
    elif e <= -min_effect and high < 0:
        outcome = Outcome.IMPROVED
    elif high < min_effect:
        outcome = Outcome.SAME
    else:
        outcome = Outcome.INCONCLUSIVE
    need = None if outcome.decided else rounds_needed(interval, min_effect, alpha)
    return Decision(outcome, interval, min_effect, alpha, need)


# --- sequential looks ------------------------------------------------------------------------------


@dataclass
class Looks:
    """Alpha spent across the looks of one measurement that stops as soon as the rule decides.

    `spend(n)` returns the alpha of a look after `n` rounds (a side) out of at most `max_n`: the increase
    of alpha * ln(1 + (e - 1) t), t = n / max_n, since the previous look; the look at `max_n` (or one
    marked `final`) spends what is left. The increments sum to alpha, so the chance of any wrong call
    over all looks stays within alpha (Bonferroni), whenever the measurement stops."""

    alpha: float
    max_n: int
    spent: float = 0.0

    def spend(self, n: int, final: bool = False) -> float:
        if self.spent >= self.alpha:
            raise QAUsageError("every look of this measurement has been spent; start a new one")
        t = 1.0 if final or n >= self.max_n else max(n, 0) / self.max_n
        target = self.alpha * math.log1p((math.e - 1) * t)
        step = max(target - self.spent, 0.0)
        if step == 0.0:
            return 0.0
        self.spent = target
        return step


# --- intervals -------------------------------------------------------------------------------------


def rounds_interval(
    before: Sequence[float], after: Sequence[float], alpha: float = ALPHA, *, separate: bool = False
) -> Interval:
    """Two independent samples of positive times from one runner, each in time order: the relative
    change of `after` against `before` (Hodges-Lehmann on logs) and its 1 - alpha interval. `separate`:
    each value comes from a process of its own (the runs of a history), so no spell links neighbours and
    the sizes are not discounted for autocorrelation."""
    x, y = _times(before, "before"), _times(after, "after")
    lx, ly = [math.log(v) for v in x], [math.log(v) for v in y]
    diffs = sorted(b - a for a in lx for b in ly)
    n1, n2 = (len(lx), len(ly)) if separate else (_effective(lx), _effective(ly))
    k = _scaled_rank(_mw_rank(n1, n2, alpha), n1 * n2, len(diffs))
    low, high = (diffs[k - 1], diffs[-k]) if k >= 1 else (-math.inf, math.inf)
    spread = _pooled_spread(lx, ly)
    return Interval(
        math.expm1(_median(diffs)),
        math.expm1(low),
        math.expm1(high),
        1 - alpha,
        "Hodges-Lehmann / Mann-Whitney",
        len(x),
        len(y),
        spread,
        n1,
        n2,
    )


def shift_interval(
    before: Sequence[float], after: Sequence[float], alpha: float = ALPHA, *, separate: bool = False
) -> Interval:
    """`rounds_interval` for values that may be zero or negative (a score, a count): the Hodges-Lehmann
    shift of `after` against `before` on the values themselves, with the same rank interval, relative to
    the size of `before` (its median's magnitude; failing that, the mean magnitude of all values; 1)."""
    x, y = _values(before, "before"), _values(after, "after")
    diffs = sorted(b - a for a in x for b in y)
    n1, n2 = (len(x), len(y)) if separate else (_effective(x), _effective(y))
    k = _scaled_rank(_mw_rank(n1, n2, alpha), n1 * n2, len(diffs))
    low, high = (diffs[k - 1], diffs[-k]) if k >= 1 else (-math.inf, math.inf)
    scale = abs(_median(x)) or statistics.fmean(abs(v) for v in (*x, *y)) or 1.0
    method = "Hodges-Lehmann / Mann-Whitney, shift"
    spread = _pooled_spread(x, y) / scale
    return Interval(
        _median(diffs) / scale, low / scale, high / scale, 1 - alpha, method, len(x), len(y), spread, n1, n2
    )


def paired_interval(a_rounds: Sequence[float], b_rounds: Sequence[float], alpha: float = ALPHA) -> Interval:
    """Interleaved pairs (a[i], b[i]): the relative change of B against A and its 1 - alpha interval."""
    a, b = _times(a_rounds, "A"), _times(b_rounds, "B")
    if len(a) != len(b):
        raise QAUsageError(
            f"paired comparison needs one B round per A round, got {len(a)} A and {len(b)} B rounds; "
            "interleave them A, B, A, B"
        )
    d = [math.log(bi / ai) for ai, bi in zip(a, b, strict=True)]
    walsh = sorted((d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d)))
    k = _wsr_rank(len(d), alpha)
    low, high = (walsh[k - 1], walsh[-k]) if k >= 1 else (-math.inf, math.inf)
    spread = _robust_sd(d)
    return Interval(
        math.expm1(_median(walsh)),
        math.expm1(low),
        math.expm1(high),
        1 - alpha,
        "Wilcoxon signed-rank, pairs",
        len(d),
        len(d),
        spread,
    )


@dataclass(frozen=True)
class Trend:
    """Theil-Sen fit of a sequence against its position: slope (units per step) with its interval and
    the fitted value at the first position."""

    slope: float
    low: float
    high: float
    start: float
    n: int
    confidence: float

    def relative(self, method: str = "Theil-Sen trend") -> Interval:
        """First to last as a relative change: slope * (n - 1) / the fitted first value."""
        span = (self.n - 1) / self.start if self.start > 0 else math.nan
        return Interval(
            self.slope * span, self.low * span, self.high * span, self.confidence, method, self.n, self.n
        )


def trend(values: Sequence[float], alpha: float = ALPHA, positions: Sequence[int] | None = None) -> Trend:
    """The Theil-Sen slope of `values` against their positions (0, 1, 2... unless given: a sequence with
    values set aside keeps the others' places) with Sen's 1 - alpha interval (exact Kendall distribution);
    the fitted start is the median of value - slope * position, at position 0."""
    y = [float(v) for v in values]
    x = list(range(len(y))) if positions is None else [int(p) for p in positions]
    if len(y) < 2 or len(x) != len(y) or not all(math.isfinite(v) for v in y) or len(set(x)) != len(x):
        raise QAUsageError(f"a trend needs at least 2 finite values at distinct positions, got {len(y)}")
    n = len(y)
    slopes = sorted((y[j] - y[i]) / (x[j] - x[i]) for i in range(n) for j in range(i + 1, n))
    b = _median(slopes)
    k = _kendall_rank(n, alpha)
    low, high = (slopes[k - 1], slopes[-k]) if k >= 1 else (-math.inf, math.inf)
    start = _median([v - b * p for p, v in zip(x, y, strict=True)])
    return Trend(b, low, high, start, max(x) + 1, 1 - alpha)


@dataclass(frozen=True)
class HostAdjusted:
    """Rounds adjusted for the host's speed: log time less `slope` times the log of the round's probe
    against `reference_ms`, and how much of the rounds' spread that removed (`gain`)."""

    before: tuple[float, ...]
    after: tuple[float, ...]
    slope: float
    gain: float


def widened(interval: Interval, half_width: float) -> Interval:
    """`interval` widened by `half_width` on the log scale each side (a noise floor it cannot see)."""
    low = math.expm1(math.log1p(interval.low) - half_width) if interval.low > -1 else interval.low
    high = (
        math.expm1(math.log1p(interval.high) + half_width) if math.isfinite(interval.high) else interval.high
    )
    return replace(interval, low=low, high=high, method=f"{interval.method}, host floor")


MAX_HOST_SLOPE = 1.2  # a launch-bound image scales at most about one to one with its launch path
MIN_HOST_GAIN = 0.3  # the probe explains this much of the rounds' spread: launch-bound on this host


def host_adjusted(
    before: Sequence[float],
    before_ms: Sequence[float],
    after: Sequence[float],
    after_ms: Sequence[float],
    reference_ms: float,
) -> HostAdjusted | None:
    """Both runs' rounds on host-normalised time: a slope of log time on log probe, fitted within each run
    and pooled, takes the host's speed out of every round (a launch-bound image follows its launch path
    closely: at 512x512 on an H200 the probe explains half of the rounds' spread). None when a run has fewer
    than 4 probed rounds or the probe explains nothing."""
    if min(len(before), len(after)) < 4 or len(before) != len(before_ms) or len(after) != len(after_ms):
        return None
    runs = [
        ([math.log(t) for t in ts], [math.log(p) for p in ps])
        for ts, ps in ((before, before_ms), (after, after_ms))
    ]
    fit = _pooled_fit(runs)
    if fit is None:
        return None
    slope, gain = fit
    ref = math.log(reference_ms)
    adjusted = [
        tuple(math.exp(x - slope * (z - ref)) for x, z in zip(xs, zs, strict=True)) for xs, zs in runs
    ]
    return HostAdjusted(adjusted[0], adjusted[1], slope, gain)


def host_elasticity(times: Sequence[float], probes_ms: Sequence[float]) -> tuple[float, float] | None:
    """(slope, gain) of log time on log probe within one run: how far its rounds follow the host's speed
    (0 for a GPU-bound image, about 1 for a launch-bound one) and the share of their spread that explains.
    None under 5 rounds, or where the probe hardly moved (under 10 % from its fastest to its slowest)."""
    if len(times) < 5 or len(times) != len(probes_ms) or max(probes_ms) < 1.1 * min(probes_ms):
        return None
    return _pooled_fit([([math.log(t) for t in times], [math.log(p) for p in probes_ms])])


def _pooled_fit(runs: Sequence[tuple[list[float], list[float]]]) -> tuple[float, float] | None:
    """Least-squares slope of log time (x) on log probe (z) within runs, pooled, clamped to
    [0, MAX_HOST_SLOPE]; and the share of the within-run variance it removes."""
    sxy = sxx = syy = 0.0
    for xs, zs in runs:
        mx, mz = statistics.fmean(xs), statistics.fmean(zs)
        sxy += sum((x - mx) * (z - mz) for x, z in zip(xs, zs, strict=True))
        sxx += sum((z - mz) ** 2 for z in zs)
        syy += sum((x - mx) ** 2 for x in xs)
    if sxx <= 0 or syy <= 0:
        return None
    slope = min(max(sxy / sxx, 0.0), MAX_HOST_SLOPE)
    return slope, 1 - (syy - 2 * slope * sxy + slope * slope * sxx) / syy


# --- power ----------------------------------------------------------------------------------------


def rounds_needed(
    interval: Interval, min_effect: float, alpha: float = ALPHA, cap: int = 10_000
) -> int | None:
    """About how many rounds a side (pairs for A/B) would decide an inconclusive interval at its current
    estimate and spread, counting the rounds after as the interval did (correlated rounds count as fewer);
    None when the spread is unknown, the estimate sits on a decision edge, or no number of rounds after
    would bound the interval against the rounds before as they count."""
    s, e = interval.spread, math.log1p(interval.estimate) if interval.estimate > -1 else math.nan
    m = math.log1p(min_effect)
    if not (math.isfinite(s) and math.isfinite(e)) or s <= 0 or not 0 < alpha < 1:
        return None
    gap = e if e >= m else m - e  # regressed needs low > 0; same needs high < m
    if gap <= 1e-9:
        return None
    z = statistics.NormalDist().inv_cdf(1 - alpha / 2) * _HL_EFFICIENCY
    if "pairs" in interval.method:
        need = max((z * s / gap) ** 2, _fewest_pairs(alpha))
        return min(cap, max(interval.n_after + 1, math.ceil(need)))
    before, after = interval.effective
    fewest = _fewest_after(before, alpha, cap)
    if fewest >= cap:
        return None
    need = max(2 * (z * s / gap) ** 2, fewest) * interval.n_after / max(after, 1)
    return min(cap, max(interval.n_after + 1, math.ceil(need)))


def _fewest_pairs(alpha: float) -> int:
    """The fewest pairs whose signed-rank interval is bounded at `alpha`."""
    return next(n for n in range(1, 64) if 2 / 2**n <= alpha)


def _fewest_after(n_before: int, alpha: float, cap: int) -> int:
    """The fewest rounds against `n_before` whose Mann-Whitney interval is bounded at `alpha`."""
    for n in range(1, cap + 1):
        if _mw_bounded(n_before, n, alpha):
            return n
    return cap


def _mw_bounded(n1: int, n2: int, alpha: float) -> bool:
    """Whether a Mann-Whitney interval of `n1` against `n2` samples can be bounded at `alpha`: the two
    extreme orderings alone are rarer than alpha."""
    return 2 / math.comb(n1 + n2, n2) <= alpha


# --- rank machinery -------------------------------------------------------------------------------


def _mw_rank(a: int, b: int, alpha: float) -> int:
    """k such that the interval [D_(k), D_(N-k+1)] of the N = a*b pairwise differences has coverage
    >= 1 - alpha."""
    if a < 1 or b < 1:
        return 0
    if a * b <= _EXACT_MAX:
        return _exact_rank(_mw_counts(a, b), math.comb(a + b, a), alpha)
    sd = math.sqrt(a * b * (a + b + 1) / 12)
    return max(0, math.floor(a * b / 2 - _z(alpha) * sd + 0.5))


def _wsr_rank(n: int, alpha: float) -> int:
    total = n * (n + 1) // 2
    if n < 1:
        return 0
    if total <= _EXACT_MAX:
        return _exact_rank(_wsr_counts(n), 2**n, alpha)
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    return max(0, math.floor(total / 2 - _z(alpha) * sd + 0.5))


def _kendall_rank(n: int, alpha: float) -> int:
    """k for Sen's interval [S_(k), S_(N-k+1)] over the N = n(n-1)/2 pairwise slopes."""
    total = n * (n - 1) // 2
    if n < 2:
        return 0
    if total <= _EXACT_MAX:
        return _exact_rank(_mahonian(n), math.factorial(n), alpha)
    sd = math.sqrt(n * (n - 1) * (2 * n + 5) / 18) / 2  # of the count of discordant pairs
    return max(0, math.floor(total / 2 - _z(alpha) * sd + 0.5))


def _scaled_rank(k: int, cells: int, full: int) -> int:
    """The rank among all `full` differences that keeps the share k / cells of the effective samples'
    exact rank (the same rank when no autocorrelation shrank them)."""
    if k <= 0 or cells <= 0:
        return 0
    return k if cells == full else max(0, math.floor(k / cells * full))


def _exact_rank(counts: tuple[int, ...], total: int, alpha: float) -> int:
    """The largest k with P(stat <= k - 1) <= alpha / 2."""
    cumulative, k = 0, 0
    for count in counts:
        cumulative += count
        if cumulative / total > alpha / 2:
            break
        k += 1
    return k


@lru_cache(maxsize=512)
def _mw_counts(n1: int, n2: int) -> tuple[int, ...]:
    """Arrangements giving U = 0..n1*n2: the coefficients of the Gaussian binomial [n1+n2, n1]_q."""
    m, n = min(n1, n2), max(n1, n2)
    poly = [1]
    for i in range(1, m + 1):
        out = poly + [0] * (n + i)
        for r, c in enumerate(poly):  # * (1 - q^(n+i))
            out[r + n + i] -= c
        poly = out
        for r in range(i, len(poly)):  # / (1 - q^i): exact, the quotient is a polynomial
            poly[r] += poly[r - i]
        while len(poly) > 1 and poly[-1] == 0:
            poly.pop()
    return tuple(poly + [0] * (m * n + 1 - len(poly)))


@lru_cache(maxsize=256)
def _wsr_counts(n: int) -> tuple[int, ...]:
    """Sign patterns giving W+ = 0..n(n+1)/2: the coefficients of prod (1 + q^i)."""
    poly = [1]
    for i in range(1, n + 1):
        poly = [*poly, *([0] * i)]
        for r in range(len(poly) - 1, i - 1, -1):
            poly[r] += poly[r - i]
    return tuple(poly)


@lru_cache(maxsize=256)
def _mahonian(n: int) -> tuple[int, ...]:
    """Permutations of n with 0..n(n-1)/2 inversions (discordant pairs): prod (1 + q + ... + q^(i-1))."""
    poly = [1]
    for i in range(1, n + 1):
        out = [0] * (len(poly) + i - 1)
        running = 0
        for r in range(len(out)):  # out[r] = sum of poly[r-i+1 .. r]
            running += poly[r] if r < len(poly) else 0
            if r - i >= 0:
                running -= poly[r - i]
            out[r] = running
        poly = out
    return tuple(poly)


# --- samples --------------------------------------------------------------------------------------


def lag1_autocorrelation(values: Sequence[float]) -> float:
    """Lag-1 autocorrelation of a sequence in time order (0 for fewer than 3 values or no spread)."""
    n = len(values)
    if n < 3:
        return 0.0
    mean = statistics.fmean(values)
    dev = [v - mean for v in values]
    den = sum(d * d for d in dev)
    if den == 0:
        return 0.0
    return sum(dev[i] * dev[i + 1] for i in range(n - 1)) / den


def _effective(log_times: list[float]) -> int:
    """The sample's size discounted for positive lag-1 autocorrelation (spells), from 8 rounds on."""
    n = len(log_times)
    if n < _MIN_ROUNDS_FOR_AUTOCORRELATION:
        return n
    r = min(max(lag1_autocorrelation(log_times), 0.0), _MAX_AUTOCORRELATION)
    return max(1, math.floor(n * (1 - r) / (1 + r)))


def _robust_sd(values: Sequence[float]) -> float:
    """1.4826 MAD, or the standard deviation where the MAD is 0 (few distinct values)."""
    if len(values) < 2:
        return math.nan
    centre = _median(values)
    mad = 1.4826 * _median([abs(v - centre) for v in values])
    return mad if mad > 0 else statistics.stdev(values)


def _pooled_spread(a: list[float], b: list[float]) -> float:
    spreads = [(len(s) - 1, _robust_sd(s)) for s in (a, b) if len(s) >= 2]
    spreads = [(w, s) for w, s in spreads if math.isfinite(s)]
    if not spreads:
        return math.nan
    return math.sqrt(sum(w * s * s for w, s in spreads) / sum(w for w, _ in spreads))


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _z(alpha: float) -> float:
    return statistics.NormalDist().inv_cdf(1 - alpha / 2)


def _times(values: Sequence[float], what: str) -> list[float]:
    data = [float(v) for v in values]
    bad = [v for v in data if not (math.isfinite(v) and v > 0)]
    if bad:
        raise QAUsageError(f"{what} rounds must be positive finite seconds, got {bad[:3]}; check the record")
    if not data:
        raise QAUsageError(f"no {what} rounds to compare; the record has no rounds_s")
    return data


def _values(values: Sequence[float], what: str) -> list[float]:
    data = [float(v) for v in values]
    if not data or not all(math.isfinite(v) for v in data):
        raise QAUsageError(f"{what} values must be finite and at least one, got {data[:3]}; check the record")
    return data


def _pct(change: float) -> str:
    return f"{change * 100:+.1f} %" if math.isfinite(change) else ("+inf" if change > 0 else "-inf")


def _plain(value: float) -> str:
    return f"{value:+.4g}" if math.isfinite(value) else ("+inf" if value > 0 else "-inf")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
