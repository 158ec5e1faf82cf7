"""Reading a latency baseline from saved pytest-benchmark runs: the real H100/H200 records, autosave
folders, the workflow's history folder, and the refusals (no runs, another deployment)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.identity import Deployment, benchmark_fields, deployment_of, machine_fields
from zimage_qa.measure.baseline import load_baseline

RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results"
H200 = RESULTS / "h200-synthetic-gate-bench.json"
H100 = RESULTS / "h100-synthetic-gate-bench.json"


def saved(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def fingerprint(path: Path) -> dict[str, Any]:
    return dict(saved(path)["machine_info"]["zimage_qa"])


def here(path: Path, **record: str) -> Deployment:
    """The deployment of a gate run on the machine that saved `path` (synthetic, eager unless given)."""
    return Deployment(
        machine_fields({"zimage_qa": fingerprint(path)}),
        benchmark_fields({"model": "synthetic", "device": "NVIDIA H200", **record}),
    )


def write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def shifted(
    data: dict[str, Any], factor: float, when: str, fullname_dir: str = "zimage_qa/gate"
) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["datetime"] = when
    for bench in out["benchmarks"]:
        bench["fullname"] = bench["fullname"].replace("tests/gate", fullname_dir)
        extra = bench["extra_info"]
        if "rounds_s" in extra:
            extra["rounds_s"] = [round(r * factor, 5) for r in extra["rounds_s"]]
    return out


def test_reads_a_real_h200_run_per_scenario() -> None:
    baseline = load_baseline(H200, here(H200))
    assert set(baseline.entries) == {
        "1024-simple",
        "1024-medium",
        "1024-complex",
        "512-simple",
        "768-simple",
        "1024x768-simple",
    }
    entry = baseline.get("1024-simple")
    assert entry is not None
    assert entry.rounds_s == (1.31778, 1.31857, 1.32037, 1.31973, 1.31774)
    assert entry.median_s == pytest.approx(1.31857)
    assert entry.vram_gib == {
        "peak_allocated_gib": 21.685,
        "peak_reserved_gib": 24.492,
        "nvml_peak_gib": 25.773,
    }
    assert (entry.nfe, entry.device, entry.model) == (8, "NVIDIA H200", "synthetic")
    assert entry.stages_ms["denoise"] == pytest.approx(1173.817)
    assert entry.source == str(H200) and entry.date is not None and entry.date.startswith("2026-11-25")
    assert "NVIDIA H200" in entry.label and "16 CPUs" in entry.label and "synthetic, eager" in entry.label
    assert baseline.get("2048-simple") is None


def test_other_hardware_is_refused_in_one_line() -> None:
    with pytest.raises(
        QAUsageError, match=r"no run of this deployment .*gpu NVIDIA H100 80GB HBM3 vs NVIDIA H200"
    ) as err:
        load_baseline(H100, here(H200, device="NVIDIA H200"))
    assert "\n" not in str(err.value) and "--benchmark-autosave" in str(err.value)


@pytest.mark.parametrize(
    ("change", "differs"),
    [
        ({"cpu_count": 32}, "cpus 16 vs 32"),
        ({"gpus": [{"name": "NVIDIA H200"}, {"name": "NVIDIA H200"}]}, "gpu NVIDIA H200 vs NVIDIA H200 x2"),
        ({"device_class": "NVIDIA H100 80GB HBM3"}, "device_class NVIDIA H200 vs NVIDIA H100 80GB HBM3"),
        ({"cpu": "AMD EPYC 9454"}, "cpu Intel(R) Xeon(R) Processor vs AMD EPYC 9454"),
        ({"driver": "590.1", "torch": "2.12.0", "diffusers": "0.43.0", "cuda_runtime": "13.1"}, None),
        ({"cpu_count": None}, None),  # unknown on one side: an older record
    ],
)
def test_the_same_machine_is_gpu_model_count_class_and_cpu_not_software(
    change: dict[str, Any], differs: str | None
) -> None:
    entry = load_baseline(H200).get("768-simple")
    assert entry is not None
    other = Deployment(
        machine_fields({"zimage_qa": {**fingerprint(H200), **change}}), entry.deployment.workload
    )
    assert entry.deployment.mismatch(other) == differs


@pytest.mark.parametrize(
    ("record", "differs"),
    [
        ({"variant": "compile-wrap"}, "variant eager vs compile-wrap"),
        ({"variant": "offload-model"}, "variant eager vs offload-model"),
        ({"model": "reference", "device": "cpu"}, "profile synthetic vs reference"),
        ({"mode": "concurrent"}, "mode solo vs concurrent"),
        ({"model": "synthetic", "variant": "eager", "mode": "solo"}, None),
    ],
)
def test_another_deployment_on_the_same_machine_does_not_compare(
    record: dict[str, str], differs: str | None
) -> None:
    entry = load_baseline(H200).get("768-simple")
    assert entry is not None
    assert entry.deployment.mismatch(here(H200, **record)) == differs


def test_a_folder_of_several_deployments_compares_like_with_like(tmp_path: Path) -> None:
    """Eager, offloaded and compiled runs side by side: each run is judged against its own kind only."""
    data = saved(H200)
    kinds = (("eager", None, 1.0), ("offload", "offload-model", 10.0), ("wrap", "compile-wrap", 0.7))
    for hour, (name, variant, factor) in enumerate(kinds):
        run = shifted(data, factor, f"2026-11-25T1{hour}:00:00+00:00")
        for bench in run["benchmarks"]:
            if variant:
                bench["extra_info"]["variant"] = variant
        write(tmp_path / "runs" / f"{name}.json", run)
    eager = load_baseline(tmp_path / "runs", here(H200)).get("1024-simple")
    wrap = load_baseline(tmp_path / "runs", here(H200, variant="compile-wrap")).get("1024-simple")
    assert eager is not None and eager.source.endswith("eager.json") and eager.rounds_s[0] == 1.31778
    assert wrap is not None and wrap.source.endswith("wrap.json")
    with pytest.raises(QAUsageError, match="variant eager vs attn-x"):
        load_baseline(tmp_path / "runs" / "eager.json", here(H200, variant="attn-x"))
    with pytest.raises(QAUsageError, match="3 deployments"):
        load_baseline(tmp_path / "runs")


def test_autosave_folder_takes_the_newest_run_per_scenario(tmp_path: Path) -> None:
    data = saved(H200)
    machine = tmp_path / ".benchmarks" / "Linux-CPython-3.12-64bit"
    write(machine / "0001_old.json", shifted(data, 1.10, "2026-11-20T10:00:00+00:00"))
    newer = shifted(data, 1.00, "2026-11-26T10:00:00+00:00")
    newer["benchmarks"] = [
        b for b in newer["benchmarks"] if "512" not in b["name"]
    ]  # 512 only in the old run
    write(machine / "0002_new.json", newer)
    (machine / "0003_broken.json").write_text("{not json")
    baseline = load_baseline(tmp_path / ".benchmarks", here(H200))
    entry, small = baseline.get("1024-simple"), baseline.get("512-simple")
    assert entry is not None and small is not None
    assert entry.source.endswith("0002_new.json") and entry.rounds_s[0] == 1.31778
    assert entry.fullname == "zimage_qa/gate/test_latency.py::test_latency[1024-simple]"
    assert small.source.endswith("0001_old.json") and small.rounds_s[0] == pytest.approx(
        0.41095 * 1.10, abs=1e-5
    )
    assert len(baseline.files) == 2  # the broken file is skipped


def test_history_folder_of_a_runner_pool_keeps_this_hardware_only(tmp_path: Path) -> None:
    write(
        tmp_path / "history" / "run-41" / "bench.json", shifted(saved(H200), 1.0, "2026-11-25T10:00:00+00:00")
    )
    write(
        tmp_path / "history" / "run-42" / "bench.json", shifted(saved(H100), 1.0, "2026-11-27T10:00:00+00:00")
    )
    baseline = load_baseline(tmp_path / "history", here(H200))
    entry = baseline.get("1024-simple")
    assert entry is not None and "run-41" in entry.source
    assert baseline.passed_over == 6  # the H100 run's six scenarios
    with pytest.raises(QAUsageError, match="2 deployments"):
        load_baseline(tmp_path / "history")


def test_rounds_fall_back_to_stats_data(tmp_path: Path) -> None:
    data = saved(H200)
    for bench in data["benchmarks"]:
        del bench["extra_info"]["rounds_s"]
    entry = load_baseline(write(tmp_path / "run.json", data)).get("1024-simple")
    assert entry is not None and entry.rounds_s == tuple(saved(H200)["benchmarks"][0]["stats"]["data"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no saved-run JSON files"),
        ("[]", "no usable pytest-benchmark saved run"),
        (
            json.dumps(
                {
                    "benchmarks": [
                        {"fullname": "t.py::test_vram[1024]", "extra_info": {}, "stats": {"median": 1.0}}
                    ]
                }
            ),
            "no saved run with latency rounds",
        ),
    ],
)
def test_a_path_without_runs_is_refused(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "x.json").write_text(content)
    with pytest.raises(QAUsageError, match=message) as err:
        load_baseline(tmp_path)
    assert str(err.value).startswith("--qa-baseline ") and "\n" not in str(err.value)


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(QAUsageError, match="no such file or folder"):
        load_baseline(tmp_path / "nope")


def test_older_records_name_their_gpu_through_the_device() -> None:
    old = deployment_of({}, {"model": "synthetic", "device": "NVIDIA H100 80GB HBM3"})
    assert old.mismatch(here(H100, device="NVIDIA H100 80GB HBM3")) is None
    assert old.mismatch(here(H200)) is not None


def test_recorded_host_probes_set_slow_baseline_rounds_aside(tmp_path: Path) -> None:
    data = saved(H200)
    bench = data["benchmarks"][0]
    bench["extra_info"]["rounds_s"] = [1.30, 1.31, 1.95, 1.30, 1.32]
    bench["extra_info"]["host"] = {"probe_ms": [14.0, 14.1, 21.0, 13.9, 14.0], "normal_ms": 14.0}
    entry = load_baseline(write(tmp_path / "run.json", data)).get("1024-simple")
    assert entry is not None and entry.normal_rounds_s == (1.30, 1.31, 1.30, 1.32)
