"""Reading a latency baseline from saved pytest-benchmark runs: the real H100/H200 records, autosave
folders, the workflow's history folder, and the refusals (no runs, other hardware)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.measure.baseline import hardware_of, load_baseline, same_hardware

RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results"
H200 = RESULTS / "h200-synthetic-gate-bench.json"
H100 = RESULTS / "h100-synthetic-gate-bench.json"


def saved(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def fingerprint(path: Path) -> dict[str, Any]:
    return dict(saved(path)["machine_info"]["zimage_qa"])


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
    baseline = load_baseline(H200, fingerprint(H200))
    assert set(baseline.entries) == {
        "1024-simple", "1024-medium", "1024-complex", "512-simple", "768-simple", "1024x768-simple"
    }  # fmt: skip
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
    assert entry.fingerprint["driver"] == "580.159.04"
    assert entry.source == str(H200) and entry.date is not None and entry.date.startswith("2026-11-25")
    assert "NVIDIA H200" in entry.label and "16 CPUs" in entry.label
    assert baseline.get("2048-simple") is None


def test_other_hardware_is_refused_in_one_line() -> None:
    with pytest.raises(
        QAUsageError, match=r"other hardware \(GPU NVIDIA H100 80GB HBM3 x1 vs NVIDIA H200 x1"
    ) as err:
        load_baseline(H100, fingerprint(H200))
    assert "\n" not in str(err.value) and "--benchmark-autosave" in str(err.value)


@pytest.mark.parametrize(
    ("change", "differs"),
    [
        ({"cpu_count": 32}, "CPU count 16 vs 32"),
        (
            {"gpus": [{"name": "NVIDIA H200"}, {"name": "NVIDIA H200"}]},
            "GPU NVIDIA H200 x1 vs NVIDIA H200 x2",
        ),
        ({"device_class": "NVIDIA H100 80GB HBM3"}, "device class NVIDIA H200 vs NVIDIA H100 80GB HBM3"),
        ({"cpu": "AMD EPYC 9454"}, "CPU Intel(R) Xeon(R) Processor vs AMD EPYC 9454"),
        ({"driver": "590.1", "torch": "2.12.0", "diffusers": "0.43.0", "cuda_runtime": "13.1"}, None),
        ({"cpu_count": None}, None),  # unknown on one side: an older record
    ],
)
def test_same_hardware_is_gpu_model_count_class_and_cpu_not_software(
    change: dict[str, Any], differs: str | None
) -> None:
    entry = load_baseline(H200).get("768-simple")
    assert entry is not None
    assert same_hardware(entry, {**fingerprint(H200), **change}) == differs


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
    baseline = load_baseline(tmp_path / ".benchmarks", fingerprint(H200))
    entry, small = baseline.get("1024-simple"), baseline.get("512-simple")
    assert entry is not None and small is not None
    assert entry.source.endswith("0002_new.json") and entry.rounds_s[0] == 1.31778
    assert entry.fullname == "zimage_qa/gate/test_latency.py::test_latency[1024-simple]"
    assert small.source.endswith("0001_old.json") and small.rounds_s[0] == pytest.approx(
        0.41095 * 1.10, abs=1e-5
    )
    assert len(baseline.files) == 3


def test_history_folder_of_a_runner_pool_keeps_this_hardware_only(tmp_path: Path) -> None:
    write(
        tmp_path / "history" / "run-41" / "bench.json", shifted(saved(H200), 1.0, "2026-11-25T10:00:00+00:00")
    )
    write(
        tmp_path / "history" / "run-42" / "bench.json", shifted(saved(H100), 1.0, "2026-11-27T10:00:00+00:00")
    )
    baseline = load_baseline(tmp_path / "history", fingerprint(H200))
    entry = baseline.get("1024-simple")
    assert entry is not None and "run-41" in entry.source
    assert baseline.passed_over == 1
    with pytest.raises(QAUsageError, match="2 kinds of hardware"):
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
        (None, "no JSON file in the folder"),
        ("[]", "no saved run with latency rounds among 1 JSON file"),
        (
            json.dumps({"benchmarks": [{"fullname": "t.py::test_vram[1024]", "extra_info": {}}]}),
            "no saved run",
        ),
    ],
)
def test_a_path_without_runs_is_refused(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "x.json").write_text(content)
    with pytest.raises(QAUsageError, match=message) as err:
        load_baseline(tmp_path)
    assert "--benchmark-autosave" in str(err.value)


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(QAUsageError, match="no such file or folder"):
        load_baseline(tmp_path / "nope")


def test_hardware_of_older_records_falls_back_to_the_device() -> None:
    old = hardware_of({}, "NVIDIA H100 80GB HBM3")
    assert old.gpus == ("NVIDIA H100 80GB HBM3",) and old.cpu is None
    assert old.mismatch(hardware_of(fingerprint(H100))) is None
    assert old.mismatch(hardware_of(fingerprint(H200))) is not None
