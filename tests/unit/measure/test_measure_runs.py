"""The one reader of pytest-benchmark saved runs: one document's checks, the metrics a caller keeps, and
what the baseline takes from it (the warnings its runs recorded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zimage_qa.measure.baseline import load_baseline
from zimage_qa.measure.runs import PRIMARY, NotARun, load_runs, read_document

RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results"
H200 = RESULTS / "h200-synthetic-gate-bench.json"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "the file is empty"),
        ("{", "not valid JSON"),
        ("[1]", "no 'benchmarks' list"),
        ('{"benchmarks": {}}', "no 'benchmarks' list"),
    ],
)
def test_a_document_that_is_not_a_run_says_why(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "run.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NotARun, match=reason):
        read_document(path)


def test_a_document_is_returned_as_written(tmp_path: Path) -> None:
    data = {"machine_info": {}, "benchmarks": [{"name": "a", "extra_info": {"nfe": 8}}]}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert read_document(path) == data


def test_metrics_are_kept_only_when_the_caller_tracks_them() -> None:
    (bare,) = load_runs([H200]).runs
    assert all(not e.metrics for e in bare.entries) and all(e.rounds for e in bare.entries)
    (tracked,) = load_runs([H200], lambda metric: metric in (PRIMARY, "nfe")).runs
    assert all(set(e.metrics) <= {PRIMARY, "nfe"} and PRIMARY in e.metrics for e in tracked.entries)
    assert bare.machine == tracked.machine and bare.software and bare.date


def test_the_baseline_carries_the_warnings_its_runs_recorded(tmp_path: Path) -> None:
    data = json.loads(H200.read_text())
    warned = {"category": "FutureWarning", "message": "x is deprecated"}
    data["benchmarks"][0]["extra_info"]["warnings"] = [warned, {"category": "no message"}]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    baseline = load_baseline(path)
    assert baseline.warnings == (("FutureWarning", "x is deprecated"),)
    assert load_baseline(H200).warnings == ()
