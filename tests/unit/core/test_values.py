"""Typed values per family: read from the flat form results.json holds, old files included, never raising."""

from __future__ import annotations

import json
from typing import Any

import pytest

from zimage_qa.records import CheckRecord
from zimage_qa.values import FamilyValues, Golden, Memory, Placement, StageMemory, Timing
from zimage_qa.verdict import Verdict

# One latency record as results.json held it before values were typed (keys as the checks write them).
OLD_LATENCY = {
    "family": "latency",
    "test_id": "tests/gate/test_latency.py::test_latency[1024-simple]",
    "case": "1024-simple",
    "outcome": "passed",
    "message": "median 1.39 s within budget",
    "values": {
        "median_s": 1.394,
        "worst_s": 1.42,
        "nfe": 9,
        "budget": {"p50": "1.60 s"},
        "stages_ms": {"text_encode": 30.5, "denoise": 1237.0, "vae_decode": 80.0, "transfer": "n/a"},
        "roofline": {"achieved_tflops": 400.0, "peak_tflops": 989.0},
        "gpu_state": {"name": "NVIDIA H100", "verdict": "clean", "other_processes": 2},
        "card": "GPU 1",
        "shard": "1/2",
    },
    "artifacts": {},
}


def test_an_old_results_record_loads_and_reads_typed() -> None:
    record = CheckRecord.from_dict(json.loads(json.dumps(OLD_LATENCY)))
    timing = record.typed.timing
    assert (timing.median_s, timing.worst_s, timing.nfe) == (1.394, 1.42, 9.0)
    assert timing.stages_ms == (("text_encode", 30.5), ("denoise", 1237.0), ("vae_decode", 80.0))
    assert timing.roofline is not None and timing.roofline.peak_tflops == 989.0
    assert timing.gpu_state is not None and timing.gpu_state.other_processes == 2
    assert record.typed.placement == Placement(card="GPU 1", shard="1/2")
    assert record.typed.budget == (("p50", "1.60 s"),)
    assert record.to_dict() == OLD_LATENCY  # the file format does not change


def test_memory_reads_the_stage_snapshot_and_the_context() -> None:
    memory = Memory.read(
        {
            "stages": {
                "idle": {"allocated_bytes": 0},
                "peak": {"peak_nvml_bytes": 10},
                "after": {},
                "cuda_context_bytes": 500,
            },
            "readings_bytes": [1, "x"],
        }
    )
    assert memory.stages == (("idle", StageMemory(0.0, None, None)), ("peak", StageMemory(None, None, 10.0)))
    assert memory.cuda_context_bytes == 500.0 and memory.readings_bytes == (1.0, None)


def test_golden_values_write_the_keys_the_report_and_summary_read() -> None:
    golden = Golden("wrote new record", (("phash", 2.0), ("structure", 0.99)), record_written="g/a.json")
    flat = golden.to_values()
    assert list(flat) == ["phash", "structure", "record_written", "action"]
    assert Golden.read(flat) == golden
    assert Golden().to_values() == {}


def test_a_verdict_carries_typed_values_and_keeps_its_flat_form() -> None:
    verdict = Verdict.passed("same", **Golden("same", (("phash", 0.0),)).to_values())
    assert verdict.typed.golden.action == "same" and verdict.typed.golden.measures == (("phash", 0.0),)
    again = Verdict.from_dict(json.loads(verdict.to_json()))
    assert again.to_dict()["values"] == {"phash": 0.0, "action": "same"} and again.typed == verdict.typed


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"stages_ms": "fast", "roofline": [1], "gpu_state": 3, "stages": {"idle": "x"}, "median_s": "1"},
        {"times_s": "many", "readings_bytes": {}, "card": 1, "budget": "", "action": 0, "phash": True},
        {"expected": None, "read": 5, "doubts": "x", "engine_info": ["r"], "creep": float("nan")},
    ],
)
def test_malformed_values_read_as_absent(values: dict[str, Any]) -> None:
    typed = FamilyValues.read(values)
    assert typed.timing == Timing() and typed.memory == Memory() and typed.golden.action == ""
    assert typed.placement == Placement() and typed.budget is None
    assert typed.glyph is None or typed.glyph.precision is None
