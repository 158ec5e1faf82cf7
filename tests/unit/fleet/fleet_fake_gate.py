"""A stand-in for one gate process (`python -m pytest --pyargs zimage_qa.gate -m gpu ...`) in the launcher tests.

It reads the options the orchestrator gives and writes a results.json and a pytest-benchmark JSON like a gate run. What
it saw (visible GPU, CPUs, thread variables) goes into its records' values. Environment switches:
FAKE_MEDIANS '0:0.43,1:0.47' (median by visible GPU), FAKE_FAIL_GPU, FAKE_CRASH_GPU, FAKE_REFUSE.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from zimage_qa.records import CheckRecord, Family
from zimage_qa.report import write_report
from zimage_qa.verdict import Status


def main(argv: list[str]) -> int:
    opts = dict(a.split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    gpu = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    if os.environ.get("FAKE_REFUSE"):
        print(
            "ERROR: usage: pytest [options]\nERROR: unrecognized arguments: --qa-shard=1/2", file=sys.stderr
        )
        return 4
    if os.environ.get("FAKE_CRASH_GPU") == gpu:
        print("Fatal Python error: Segmentation fault", file=sys.stderr)
        return 3
    medians = dict(p.split(":") for p in os.environ.get("FAKE_MEDIANS", "0:0.43,1:0.43").split(","))
    seen = {
        "visible": gpu,
        "device_order": os.environ.get("CUDA_DEVICE_ORDER"),
        "shard_arg": opts.get("--qa-shard"),
        "step_summary_seen": "GITHUB_STEP_SUMMARY" in os.environ,
        "argv": argv,
    }
    failed = os.environ.get("FAKE_FAIL_GPU") == gpu
    median = float(medians.get(gpu, "0.43"))
    records = [
        CheckRecord(
            Family.LATENCY,
            "zimage_qa/gate/test_latency.py::test_latency[512-simple]",
            "512-simple",
            Status.FAILED if failed else Status.PASSED,
            f"p50 latency {median} s > budget 0.40 s" if failed else "within budget",
            {"median_s": median, "mode": "solo", **seen},
        ),
        CheckRecord(
            Family.LATENCY,
            "zimage_qa/gate/test_latency.py::test_cold_start",
            "test_cold_start",
            Status.PASSED,
            "load 15 s",
            {"load_s": 15.0},
        ),
    ]
    write_report(Path(opts["--qa-report"]), records, header={"model": "synthetic", "session": "x"})
    bench = {
        "machine_info": {"node": "fake"},
        "benchmarks": [
            {"name": "test_latency[512-simple]", "extra_info": {"nfe": 8}, "stats": {"median": median}}
        ],
    }
    Path(opts["--benchmark-json"]).write_text(json.dumps(bench))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
