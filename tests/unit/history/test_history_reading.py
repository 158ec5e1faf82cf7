"""Reading saved runs: formats, fingerprints, duplicates, and the bad inputs that must not crash."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from history_gen import H100, saved_run, write_history

from zimage_qa.errors import QAUsageError
from zimage_qa.history.analysis import analyse
from zimage_qa.history.metrics import MetricPolicy, parse_threshold
from zimage_qa.identity import machine_fields, software_fields
from zimage_qa.measure.runs import find_files, flatten_extra, load_runs, stats_point

BENCH = "tests/gate/test_latency.py::test_latency[1024]"


def test_flatten_extra_keeps_numbers_as_dotted_keys_and_lists_are_data() -> None:
    extra = {
        "stages_ms": {"text_encode": 42.0, "denoise": 1237, "vae_decode": 91.0},
        "nfe": 8,
        "device": "NVIDIA H100",
        "ok": True,
        "vram": {"peak_allocated_gib": 21.7, "nan": float("nan")},
        "rounds_s": [1.0, 1.1, 1.2, 1.3],
        "times_s": [1.0, 1.1],
    }
    flat = dict(flatten_extra(extra))
    assert sorted(flat) == [
        "nfe",
        "stages_ms.denoise",
        "stages_ms.text_encode",
        "stages_ms.vae_decode",
        "vram.peak_allocated_gib",
    ]
    assert flat["stages_ms.denoise"] == 1237.0


def test_stats_point_prefers_quartiles_and_falls_back_to_data() -> None:
    point = stats_point({"median": 1.0, "q1": 0.9, "q3": 1.2, "iqr": 0.3, "rounds": 9})
    assert point is not None and (point.lo, point.hi) == (0.9, 1.2)
    assert point.se == pytest.approx(1.2533 * 0.3 / 1.349 / 3)
    from_data = stats_point({"median": 2.0, "data": [1.0, 2.0, 3.0, 4.0]})
    assert from_data is not None and from_data.hi > from_data.lo
    assert stats_point({"mean": 1.0}) is None


def test_policy_directions_thresholds_and_tracking() -> None:
    policy = MetricPolicy(thresholds=(("vram.*", 0.02),), higher_is_better=("my_rate",), include=())
    assert policy.threshold_for("vram.peak_reserved_gib") == 0.02
    assert policy.threshold_for("median") == 0.05
    assert policy.direction_for("glyph.score").value == "higher_is_better"
    assert policy.direction_for("dit_tflops").value == "higher_is_better"
    assert policy.direction_for("my_rate").value == "higher_is_better"
    assert policy.direction_for("stages_ms.denoise").value == "lower_is_better"
    assert not policy.tracks("seed") and policy.tracks("nfe")
    assert MetricPolicy(include=("stages_ms.*",)).tracks("stages_ms.denoise")
    assert not MetricPolicy(include=("stages_ms.*",)).tracks("median")


@pytest.mark.parametrize(
    ("text", "parsed"), [("0.05", (None, 0.05)), ("7%", (None, 0.07)), ("vram.*=0.02", ("vram.*", 0.02))]
)
def test_parse_threshold(text: str, parsed: tuple[str | None, float]) -> None:
    assert parse_threshold(text) == pytest.approx(parsed)


def test_fingerprint_is_hardware_only_and_software_is_read_apart() -> None:
    info = {
        "cpu": {"brand_raw": "ignored when zimage_qa has cpu"},
        "zimage_qa": {
            "gpus": [
                {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-1"},
                {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-2"},
            ],
            "driver": "570.133.20",
            "cuda_runtime": "13.0",
            "cpu": "AMD EPYC 9454",
            "torch": "2.11.0",
            "device_class": "h100-80gb",
            "cpu_count": 32,
        },
    }
    assert dict(machine_fields(info)) == {
        "gpu": "NVIDIA H100 80GB HBM3 x2",
        "device_class": "h100-80gb",
        "cpu": "AMD EPYC 9454",
        "cpus": "32",
    }
    assert dict(software_fields(info)) == {"driver": "570.133.20", "cuda": "13.0", "torch": "2.11.0"}


def test_runs_from_different_gpus_are_never_compared(tmp_path: Path) -> None:
    flat = np.full(12, 1.4)
    write_history(tmp_path / "a", {BENCH: flat})
    other = {**H100, "zimage_qa": {**H100["zimage_qa"], "gpu": "NVIDIA H200"}}
    write_history(tmp_path / "b", {BENCH: flat * 1.5}, machine=other)  # 50% slower, another card
    report = analyse([tmp_path / "a", tmp_path / "b"]).report
    assert len(report.groups) == 2
    assert report.regressions == []
    assert {v.baseline for v in report.verdicts if v.metric == "median"} == {1.4, 1.4 * 1.5}


def test_model_in_extra_info_splits_groups(tmp_path: Path) -> None:
    write_history(
        tmp_path,
        {BENCH: np.r_[np.full(10, 0.1), np.full(10, 1.4)]},
        extra=lambda i, _: {"model": "reference" if i < 10 else "synthetic"},
    )
    report = analyse([tmp_path]).report
    assert len(report.groups) == 2 and report.regressions == []


def test_runs_are_ordered_by_datetime_and_duplicates_read_once(tmp_path: Path) -> None:
    values = np.r_[np.full(10, 1.0), np.full(10, 1.2)]
    write_history(tmp_path / "ci-artifact-1", {BENCH: values})
    write_history(tmp_path / "ci-artifact-2", {BENCH: values})  # the same chain downloaded twice
    loaded = load_runs([tmp_path], MetricPolicy().tracks)
    assert loaded.duplicates == 20 and len(loaded.runs) == 20
    stamps = [r.date for r in loaded.runs if r.date is not None]
    assert len(stamps) == len(loaded.runs) and stamps == sorted(stamps)
    (change,) = analyse([tmp_path]).report.regressions
    assert change.run.index == 10 and change.run.date == loaded.runs[10].date


def test_single_files_and_folders_mix(tmp_path: Path) -> None:
    write_history(tmp_path, {BENCH: np.full(8, 1.0)})
    files = sorted((tmp_path / "Linux-CPython-3.11-64bit").glob("*.json"))
    assert len(find_files([files[0], tmp_path])) == 8


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty"),
        ("{not json", "not valid JSON"),
        ('{"name": "zimage-qa", "version": "0.1"}', "not a pytest-benchmark saved run"),
        ('{"benchmarks": [{"fullname": "x", "stats": {"mean": 1}}]}', "no benchmark in it"),
        ("[1, 2, 3]", "not a pytest-benchmark saved run"),
    ],
)
def test_bad_file_is_skipped_with_a_reason_naming_it(tmp_path: Path, content: str, reason: str) -> None:
    write_history(tmp_path, {BENCH: np.full(8, 1.0)})
    bad = tmp_path / "broken.json"
    bad.write_text(content, encoding="utf-8")
    report = analyse([tmp_path]).report
    assert report.runs == 8
    (skipped,) = report.skipped
    assert skipped.file == str(bad) and reason in skipped.reason


def test_nothing_usable_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}", encoding="utf-8")
    (tmp_path / "b.json").write_text("", encoding="utf-8")
    with pytest.raises(QAUsageError, match="no usable pytest-benchmark saved run"):
        analyse([tmp_path])


def test_missing_path_and_empty_folder_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(QAUsageError, match="no such file or folder"):
        analyse([tmp_path / "nope"])
    with pytest.raises(QAUsageError, match="no saved-run JSON files"):
        analyse([tmp_path])


def test_saved_run_written_by_pytest_benchmark_itself_is_read(tmp_path: Path) -> None:
    """The real 5.x layout, as `--benchmark-autosave --benchmark-save-data` writes it."""
    data = saved_run(0, {BENCH: 1.4})
    bench = data["benchmarks"][0]
    bench["stats"]["data"] = [1.39, 1.40, 1.41]
    bench["options"] = {"timer": "perf_counter", "min_rounds": 5}
    bench["params"], bench["param"] = None, None
    data["machine_info"] = {"node": "vm", "cpu": {"brand_raw": "AMD EPYC", "flags": ["avx2"]}}
    folder = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    folder.mkdir(parents=True)
    (folder / "0001_unversioned_20261125_214042.json").write_text(
        json.dumps(data, indent=4), encoding="utf-8"
    )
    report = analyse([tmp_path / ".benchmarks"]).report
    assert report.runs == 1 and report.verdicts[0].latest_value == 1.4
