"""Several gate processes' results as one: each shard's records stamped with its card, shard and run mode,
gathered into one report, and each card's pytest-benchmark JSON stamped alike (in place, one per card).

A shard that left no results.json (it crashed, or never started) becomes a failed record that names
its card and log: a missing shard must never read as a smaller green run.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.fleet.cards import Card
from zimage_qa.measure.runs import NotARun, read_document
from zimage_qa.records import CheckRecord, Family
from zimage_qa.report.results import Results, dumps, read_results
from zimage_qa.storage import write_text_atomic
from zimage_qa.verdict import Status

RESULTS = "results.json"
SHARD_TEST = "zqa gate::shard"


class RunMode(enum.Enum):
    """How a record was measured; budgets and histories keep the two apart."""

    SOLO = "solo"  # the only gate process on the host
    CONCURRENT = "concurrent"  # sibling gate processes were working on other GPUs meanwhile


@dataclass(frozen=True)
class ShardOutcome:
    """What one gate process left: its card, its share ('1/2', or 'all' under --each), its report
    folder, exit status, wall time, log and benchmark JSON."""

    card: Card
    share: str
    report_dir: Path
    returncode: int
    wall_s: float
    log: Path
    benchmark_json: Path | None = None


def stamp(values: Mapping[str, Any], card: Card, share: str, mode: RunMode) -> dict[str, Any]:
    """`values` with the card, its share and the run mode added; a mode the gate recorded is kept."""
    return {
        **values,
        "card": card.label,
        "card_index": card.index,
        "card_name": card.name,
        "card_uuid": card.uuid,
        "shard": share,
        "mode": str(values.get("mode") or mode.value),
    }


def shard_records(outcome: ShardOutcome, mode: RunMode) -> tuple[list[CheckRecord], Results | None]:
    """The shard's records, stamped; a failed 'shard' record when it left no readable results.json."""
    path = outcome.report_dir / RESULTS
    try:
        results = read_results(path)
    except QAUsageError as exc:
        why = "left no results.json" if not path.exists() else f"left an unreadable results.json ({exc})"
        message = (
            f"the gate process for {outcome.card.describe()} (share {outcome.share}) exited with "
            f"status {outcome.returncode} and {why}; its log: {outcome.log}"
        )
        record = CheckRecord(
            Family.GUARD,
            f"{SHARD_TEST}[{outcome.card.label}]",
            f"shard {outcome.share}",
            Status.FAILED,
            message,
            stamp({}, outcome.card, outcome.share, mode),
        )
        return [record], None
    records = [
        CheckRecord(
            r.family,
            r.test_id,
            r.case,
            r.outcome,
            r.message,
            stamp(r.values, outcome.card, outcome.share, mode),
            r.artifacts,
        )
        for r in results.records
    ]
    return records, results


@dataclass(frozen=True)
class Merged:
    records: tuple[CheckRecord, ...]
    header: Mapping[str, Any]
    fingerprint: Mapping[str, Any]


def merge(outcomes: Sequence[ShardOutcome], mode: RunMode, extra_header: Mapping[str, str]) -> Merged:
    """All shards' records in card order; the header of the first shard that wrote one, its model,
    profile and config lines kept, then `extra_header` and a line per card."""
    records: list[CheckRecord] = []
    first: Results | None = None
    for outcome in sorted(outcomes, key=lambda o: o.card.index):
        own, results = shard_records(outcome, mode)
        records.extend(own)
        first = first or results
    header: dict[str, Any] = {k: v for k, v in (first.header if first else {}).items() if k != "session"}
    header.update(extra_header)
    for o in sorted(outcomes, key=lambda o: o.card.index):
        status = "passed" if o.returncode == 0 else f"exit status {o.returncode}"
        header[o.card.label] = f"{o.card.name or 'GPU'}, share {o.share}, wall {o.wall_s:.1f} s, {status}"
    fingerprint = dict(first.fingerprint) if first else {}
    fingerprint["gpus"] = _gpus(fingerprint.get("gpus"), [o.card for o in outcomes])
    return Merged(tuple(records), header, fingerprint)


def _gpus(raw: object, cards: Sequence[Card]) -> list[dict[str, Any]]:
    """The fingerprint's GPU list, restricted to and completed with the cards that ran."""
    known = {g.get("index"): dict(g) for g in raw if isinstance(g, dict)} if isinstance(raw, list) else {}
    return [{**card.to_dict(), **known.get(card.index, {})} for card in sorted(cards, key=lambda c: c.index)]


def stamp_benchmarks(path: Path, card: Card, share: str, mode: RunMode) -> int:
    """Stamp every benchmark's `extra_info` in one pytest-benchmark JSON with card, share and mode, and
    its machine_info with the card; returns how many benchmarks it holds. QAUsageError if unreadable."""
    try:
        data = read_document(path)
    except NotARun as exc:
        raise QAUsageError(f"cannot read the pytest-benchmark JSON {path} ({exc})") from None
    benchmarks = data["benchmarks"]
    for bench in benchmarks:
        bench["extra_info"] = stamp(bench.get("extra_info") or {}, card, share, mode)
    if isinstance(data.get("machine_info"), dict):
        data["machine_info"]["zimage_qa_card"] = card.to_dict()
    write_text_atomic(path, dumps(data))
    return len(benchmarks)
