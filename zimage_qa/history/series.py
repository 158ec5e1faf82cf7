"""From saved runs to series: one numpy array per benchmark x hardware group x metric, in run order."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from zimage_qa.history.records import Fingerprint, GroupInfo, RunRef
from zimage_qa.history.steps import Array
from zimage_qa.identity import Fields
from zimage_qa.measure.runs import PRIMARY, SavedRun, Value


@dataclass(frozen=True, eq=False)
class Series:
    """One metric of one benchmark on one kind of machine, run by run (oldest first).

    `values` are the per-run values; `lo`/`hi` the in-run quartiles (the plot's band); `se` the
    in-run standard error of each value (0 where the run has no spread, such as NFE); `rounds` the
    warm rounds of each run (primary metric only, None where the record has none).
    """

    benchmark: str
    metric: str
    group: Fingerprint
    runs: tuple[RunRef, ...]
    values: Array = field(repr=False)
    lo: Array = field(repr=False)
    hi: Array = field(repr=False)
    se: Array = field(repr=False)
    rounds: tuple[tuple[float, ...] | None, ...] = field(default=(), repr=False)

    def rounds_at(self, position: int) -> tuple[float, ...] | None:
        return self.rounds[position] if position < len(self.rounds) else None


@dataclass(frozen=True)
class Built:
    """Every series, the hardware groups, and each group's software per run (index -> fields)."""

    series: list[Series]
    groups: list[GroupInfo]
    software: dict[str, list[tuple[RunRef, Fields]]]  # group id -> (run, software incl. weights)


def build_series(runs: Sequence[SavedRun]) -> Built:
    """Series for every (group, benchmark, metric) seen, one GroupInfo per hardware group, and the
    software each run of a group had (what its events are read from).

    `runs` must be in run order (as `load_runs` returns them); a run's index counts within its group.
    """
    fingerprints: dict[Fields, Fingerprint] = {}
    group_runs: dict[Fingerprint, list[RunRef]] = {}
    group_benchmarks: dict[Fingerprint, set[str]] = {}
    # (group, benchmark) -> metric -> (run refs, points): the hot loop hashes short strings only
    points: dict[tuple[Fields, str], dict[str, tuple[list[RunRef], list[Value]]]] = {}
    rounds: dict[tuple[Fields, str], dict[int, tuple[float, ...]]] = {}
    software: dict[str, list[tuple[RunRef, Fields]]] = {}
    for run in runs:
        refs: dict[Fields, RunRef] = {}
        weights: dict[Fields, str] = {}
        for entry in run.entries:
            fields = run.machine + entry.context if entry.context else run.machine
            ref = refs.get(fields)
            if ref is None:
                group = fingerprints.get(fields)
                if group is None:
                    group = fingerprints[fields] = Fingerprint(fields)
                listed = group_runs.setdefault(group, [])
                ref = refs[fields] = RunRef(len(listed), run.file, run.commit, run.date)
                listed.append(ref)
            if entry.weights is not None:
                weights.setdefault(fields, entry.weights)
            if entry.rounds is not None:
                rounds.setdefault((fields, entry.fullname), {})[ref.index] = entry.rounds
            by_metric = points.get((fields, entry.fullname))
            if by_metric is None:
                by_metric = points[(fields, entry.fullname)] = {}
            for metric, point in entry.metrics.items():
                found = by_metric.get(metric)
                if found is None:
                    found = by_metric[metric] = ([], [])
                found[0].append(ref)
                found[1].append(point)
        for fields, ref in refs.items():
            stack = run.software + ((("weights", weights[fields]),) if fields in weights else ())
            software.setdefault(fingerprints[fields].id, []).append((ref, stack))
    for fields, fullname in points:
        group_benchmarks.setdefault(fingerprints[fields], set()).add(fullname)
    series = [
        _series(fingerprints[fields], fullname, metric, refs, values, rounds.get((fields, fullname), {}))
        for (fields, fullname), by_metric in points.items()
        for metric, (refs, values) in by_metric.items()
    ]
    series.sort(key=lambda s: (s.group.label, s.benchmark, s.metric != "median", s.metric))
    groups = [
        GroupInfo(g, len(listed), len(group_benchmarks[g]), listed[0], listed[-1])
        for g, listed in group_runs.items()
    ]
    return Built(series, groups, software)


def _series(
    group: Fingerprint,
    benchmark: str,
    metric: str,
    refs: list[RunRef],
    values: list[Value],
    rounds: dict[int, tuple[float, ...]],
) -> Series:
    n = len(values)
    samples = tuple(rounds.get(r.index) for r in refs) if metric == PRIMARY else ()
    if all(type(v) is float for v in values):
        x = np.fromiter(values, dtype=np.float64, count=n)
        return Series(benchmark, metric, group, tuple(refs), x, x, x, np.zeros(n), samples)
    rows = ((v, v, v, 0.0) if type(v) is float else v for v in values)
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64, count=4 * n)  # type: ignore[arg-type]
    table = flat.reshape(n, 4)
    return Series(
        benchmark, metric, group, tuple(refs), table[:, 0], table[:, 1], table[:, 2], table[:, 3], samples
    )
