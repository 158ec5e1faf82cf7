"""`zqa gate` end to end with a stand-in gate process and two fake GPUs (no NVML): launch, merge, exit
status."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.fleet.cards import Card
from zimage_qa.fleet.command import GateRequest, configure, run_gate
from zimage_qa.report import read_results
from zimage_qa.verdict import Status

FAKE = Path(__file__).with_name("fleet_fake_gate.py")
CARDS = (Card(0, "Fake H200", "GPU-0", "0000:19:00.0"), Card(1, "Fake H200", "GPU-1", "0000:9a:00.0"))


def request(*extra: str, gpus: str = "all") -> GateRequest:
    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(["--gpus", gpus, "--command", f"{sys.executable} {FAKE}", *extra])
    return GateRequest.from_args(args)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "NCCL_NVLS_ENABLE": "0"}


def gate(tmp_path: Path, env: dict[str, str], *extra: str, **switches: str) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = run_gate(
        request("--report", "qa-report", *extra),
        discover=lambda: CARDS,
        environ={**env, **switches},
        cwd=tmp_path,
        say=lines.append,
    )
    return code, lines


def values(tmp_path: Path) -> dict[str, dict[str, Any]]:
    records = read_results(tmp_path / "qa-report" / "results.json").records
    return {str(r.values["card"]): dict(r.values) for r in records if r.case == "512-simple"}


def test_two_gpus_run_apart_and_merge_into_one_report(tmp_path: Path, env: dict[str, str]) -> None:
    code, lines = gate(tmp_path, env)
    assert code == 0, lines
    seen = values(tmp_path)
    assert set(seen) == {"GPU 0", "GPU 1"}
    assert [seen[c]["visible"] for c in ("GPU 0", "GPU 1")] == ["0", "1"]
    assert [seen[c]["shard_arg"] for c in ("GPU 0", "GPU 1")] == ["1/2", "2/2"]
    assert {seen[c]["device_order"] for c in seen} == {"PCI_BUS_ID"}
    assert {seen[c]["mode"] for c in seen} == {"solo"}  # the gate's own mode is kept
    records = read_results(tmp_path / "qa-report" / "results.json").records
    cold = [r for r in records if r.case == "test_cold_start"]
    assert [r.values["mode"] for r in cold] == ["concurrent", "concurrent"]  # stamped by the orchestrator
    assert not any(seen[c]["step_summary_seen"] for c in seen)  # only the orchestrator publishes
    assert (tmp_path / "summary.md").read_text().count("## zimage-qa") == 1
    page = (tmp_path / "qa-report" / "index.html").read_text()
    assert "GPU 1 (Fake H200), shard 2/2, solo" in page
    for card in CARDS:
        bench = json.loads((tmp_path / "qa-report" / f"gpu{card.index}" / "benchmark.json").read_text())
        info = bench["benchmarks"][0]["extra_info"]
        assert info["card"] == card.label and info["mode"] == "concurrent" and info["nfe"] == 8
        assert bench["machine_info"]["zimage_qa_card"]["uuid"] == card.uuid
    assert lines[-1].startswith("zqa gate: 2 GPU(s), wall") and "4 passed" in lines[-1]


def test_a_failed_check_on_one_card_fails_the_run(tmp_path: Path, env: dict[str, str]) -> None:
    code, _ = gate(tmp_path, env, FAKE_FAIL_GPU="1")
    assert code == 1
    records = read_results(tmp_path / "qa-report" / "results.json").records
    failed = [r for r in records if r.outcome is Status.FAILED]
    assert [(r.values["card"], r.case) for r in failed] == [("GPU 1", "512-simple")]


def test_a_card_that_leaves_no_results_is_a_failure_not_a_smaller_run(
    tmp_path: Path, env: dict[str, str]
) -> None:
    code, _ = gate(tmp_path, env, FAKE_CRASH_GPU="0")
    assert code == 1
    records = read_results(tmp_path / "qa-report" / "results.json").records
    shard = [r for r in records if r.outcome is Status.FAILED]
    assert len(shard) == 1 and "GPU 0 (Fake H200)" in shard[0].message and "status 3" in shard[0].message
    assert str(tmp_path / "qa-report" / "gpu0" / "pytest.log") in shard[0].message


def test_a_gate_that_refuses_its_options_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(QAUsageError, match="refused its options: ERROR: unrecognized arguments: --qa-shard"):
        gate(tmp_path, env, FAKE_REFUSE="1")


def test_each_runs_everything_everywhere_and_names_the_deviating_card(
    tmp_path: Path, env: dict[str, str]
) -> None:
    code, _ = gate(tmp_path, env, "--each", FAKE_MEDIANS="0:0.426,1:0.678")
    assert code == 1
    seen = values(tmp_path)
    assert seen["GPU 0"]["shard_arg"] is None and seen["GPU 0"]["shard"] == "all"
    results = read_results(tmp_path / "qa-report" / "results.json")
    agree = [r for r in results.records if r.case == "512-simple: cards agree"]
    assert len(agree) == 1 and agree[0].outcome is Status.FAILED
    assert agree[0].message.startswith("GPU 1 is +59.2 % off its siblings on 512-simple")
    assert str(results.header["deviating cards"]).startswith("GPU 1 is +59.2 %")
    same, _ = gate(tmp_path, env, "--each", "--deviation", "60%", FAKE_MEDIANS="0:0.426,1:0.678")
    assert same == 0


def test_one_gpu_runs_alone_without_shard(tmp_path: Path, env: dict[str, str]) -> None:
    lines: list[str] = []
    code = run_gate(
        request("--report", "qa-report", gpus="1"),
        discover=lambda: CARDS,
        environ=env,
        cwd=tmp_path,
        say=lines.append,
    )
    assert code == 0
    seen = values(tmp_path)
    assert list(seen) == ["GPU 1"] and seen["GPU 1"]["shard_arg"] is None
    assert seen["GPU 1"]["mode"] == "solo"


def test_arguments_are_checked_before_anything_starts() -> None:
    assert request("--", "--qa-model", "synthetic").pytest_args == ("--qa-model", "synthetic")
    with pytest.raises(QAUsageError, match="sets --qa-report, --benchmark-json for each GPU itself"):
        request("--", "--qa-report=x", "--benchmark-json", "y")
    with pytest.raises(QAUsageError, match="not a percentage"):
        request("--deviation", "lots")
    with pytest.raises(SystemExit):  # the options solo and affinity are gone
        request("--solo", "none")
    with pytest.raises(QAUsageError, match="no GPU 3 on this host"):
        run_gate(request(gpus="0,3"), discover=lambda: CARDS)
