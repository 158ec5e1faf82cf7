"""Merging shards: records stamped with card, share and mode; header and GPU list of the cards that ran;
benchmark JSONs stamped in place; the page names each row's card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.fleet.cards import Card
from zimage_qa.fleet.merge import RunMode, ShardOutcome, merge, stamp_benchmarks
from zimage_qa.records import CheckRecord, Family
from zimage_qa.report import write_report
from zimage_qa.verdict import Status

CARDS = (Card(0, "NVIDIA H200", "GPU-a"), Card(1, "NVIDIA H200", "GPU-b"))
FINGERPRINT = {
    "gpus": [
        {"index": 0, "name": "NVIDIA H200", "memory_bytes": 150_000_000_000},
        {"index": 1, "name": "NVIDIA H200", "memory_bytes": 150_000_000_000},
    ],
    "torch": "2.13.0",
}


def shard(tmp_path: Path, card: Card, share: str, cases: list[str], mode: str | None = None) -> ShardOutcome:
    folder = tmp_path / f"gpu{card.index}"
    records = [
        CheckRecord(
            Family.LATENCY,
            f"zimage_qa/gate/test_latency.py::test_latency[{c}]",
            c,
            Status.PASSED,
            "ok",
            {"median_s": 0.4, **({"mode": mode} if mode else {})},
        )
        for c in cases
    ]
    write_report(
        folder, records, fingerprint=FINGERPRINT, header={"model": "synthetic", "session": "wall 9 s"}
    )
    return ShardOutcome(card, share, folder, 0, 41.5, folder / "pytest.log")


def test_shards_merge_into_one_list_of_stamped_records(tmp_path: Path) -> None:
    outcomes = [
        shard(tmp_path, CARDS[1], "2/2", ["1024-simple"]),
        shard(tmp_path, CARDS[0], "1/2", ["512-simple", "768-simple"], mode="solo"),
    ]
    merged = merge(outcomes, RunMode.CONCURRENT, {"fleet": "sharded over 2 card(s)"})
    assert [(r.case, r.values["card"], r.values["shard"], r.values["mode"]) for r in merged.records] == [
        ("512-simple", "GPU 0", "1/2", "solo"),
        ("768-simple", "GPU 0", "1/2", "solo"),
        ("1024-simple", "GPU 1", "2/2", "concurrent"),
    ]
    assert merged.records[0].values["card_uuid"] == "GPU-a" and merged.records[0].values["median_s"] == 0.4
    assert (
        merged.header["model"] == "synthetic" and "session" not in merged.header
    )  # per-process line dropped
    assert merged.header["GPU 1"] == "NVIDIA H200, share 2/2, wall 41.5 s, passed"
    assert [g["uuid"] for g in merged.fingerprint["gpus"]] == ["GPU-a", "GPU-b"]
    assert merged.fingerprint["gpus"][0]["memory_bytes"] == 150_000_000_000
    page = write_report(
        tmp_path / "merged", merged.records, fingerprint=merged.fingerprint, header=merged.header
    )
    html = page.read_text()
    assert (
        "GPU 0 (NVIDIA H200), shard 1/2, solo" in html
        and "GPU 1 (NVIDIA H200), shard 2/2, concurrent" in html
    )


def test_benchmark_json_is_stamped_in_place(tmp_path: Path) -> None:
    path = tmp_path / "benchmark.json"
    path.write_text(
        json.dumps(
            {
                "machine_info": {},
                "benchmarks": [
                    {"name": "a", "extra_info": {"nfe": 8}},
                    {"name": "b", "extra_info": {"mode": "solo"}},
                ],
            }
        )
    )
    assert stamp_benchmarks(path, CARDS[1], "2/2", RunMode.CONCURRENT) == 2
    data = json.loads(path.read_text())
    assert [b["extra_info"]["mode"] for b in data["benchmarks"]] == ["concurrent", "solo"]
    assert (
        data["benchmarks"][0]["extra_info"]["card"] == "GPU 1"
        and data["benchmarks"][0]["extra_info"]["nfe"] == 8
    )
    path.write_text("{")
    with pytest.raises(QAUsageError, match="cannot read the pytest-benchmark JSON"):
        stamp_benchmarks(path, CARDS[1], "2/2", RunMode.CONCURRENT)
