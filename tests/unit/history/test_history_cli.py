"""`zqa history` end to end through `zimage_qa.cli.main`: exit codes, JSON contract, table, plots, page."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from history_gen import noise, write_history

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "history"
SAVED = "tests/gate/test_latency.py::test_latency[1024x1024]"  # an older record's name
BENCH = "zimage_qa/gate/test_latency.py::test_latency[1024x1024]"  # the one name it is read under
Zqa = Callable[..., int]


def _history(tmp_path: Path, regress: bool) -> Path:
    x = noise(np.random.default_rng(1), 30, cv=0.01)
    if regress:
        x[20:] *= 1.12
    else:
        x[10:15] *= 1.12  # recovered
    other = noise(np.random.default_rng(2), 30, cv=0.01)
    folder: Path = write_history(
        tmp_path,
        {SAVED: x, "tests/gate/test_latency.py::test_latency[768x768]": other},
        extra=lambda i, _: {"nfe": 8, "stages_ms": {"denoise": 1237.0}},
    )
    return folder


def test_open_regression_exits_1_with_the_contract_json(
    tmp_path: Path, zqa: Zqa, capsys: pytest.CaptureFixture[str]
) -> None:
    assert zqa(_history(tmp_path, regress=True), "--json") == 1
    data = json.loads(capsys.readouterr().out)
    (regression,) = data["regressions"]
    assert regression["benchmark"] == BENCH and regression["metric"] == "median"
    assert regression["open"] is True and regression["confirmed"] is True and regression["undecided"] is None
    assert regression["change"] == pytest.approx(0.12, abs=0.015)
    assert 0 < regression["ci_low"] < regression["change"] < regression["ci_high"]
    assert regression["run"]["index"] == 20 and regression["run"]["file"].endswith("0021_0000014_run.json")
    assert regression["run"]["commit"] == f"{20:040x}" and regression["run"]["date"].startswith(
        "2026-01-01T20"
    )
    assert data["improvements"] == [] and data["open"] == 1 and data["suspected"] == 0
    assert data["not_judged"] == []
    assert {"groups", "series", "spikes", "pending", "skipped", "settings"} <= set(data)
    assert data["groups"][0]["fingerprint"]["gpu"] == "NVIDIA H100 80GB HBM3"


def test_recovered_regression_exits_0(tmp_path: Path, zqa: Zqa, capsys: pytest.CaptureFixture[str]) -> None:
    assert zqa(_history(tmp_path, regress=False)) == 0
    out = capsys.readouterr().out
    assert "recovered at run 16)" in out
    assert "no open regression at the latest run" in out


def test_one_benchmark_regresses_the_others_stay_ok(
    tmp_path: Path, zqa: Zqa, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [f"zimage_qa/gate/test_latency.py::test_latency[case{i}]" for i in range(5)]
    medians = {n: noise(np.random.default_rng(i), 30, cv=0.02) for i, n in enumerate(names)}
    medians[names[2]][22:] *= 1.07
    write_history(tmp_path / "one", medians)
    assert zqa(tmp_path / "one", "--json") == 1
    assert [r["benchmark"] for r in json.loads(capsys.readouterr().out)["regressions"]] == [names[2]]
    everyone = {n: v * np.r_[np.ones(22), np.full(8, 1.3)] for n, v in medians.items()}
    write_history(tmp_path / "all", everyone)
    assert zqa(tmp_path / "all", "--json", "--metric", "median") == 1
    found = json.loads(capsys.readouterr().out)["regressions"]
    assert sorted(r["benchmark"] for r in found if r["open"]) == sorted(names)
    assert {r["run"]["index"] for r in found if r["benchmark"] != names[2]} == {22}


def test_bad_inputs_exit_2_with_one_line(
    tmp_path: Path, zqa: Zqa, capsys: pytest.CaptureFixture[str]
) -> None:
    assert zqa(tmp_path / "missing") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file or folder" in err
    assert zqa(tmp_path) == 2
    assert "no saved-run JSON files" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("{ broken", encoding="utf-8")
    assert zqa(tmp_path) == 2
    assert "no usable pytest-benchmark saved run" in capsys.readouterr().err
    assert zqa(EXAMPLE, "--threshold", "lots") == 2
    assert "threshold 'lots'" in capsys.readouterr().err
    assert zqa(EXAMPLE, "--min-runs", "0") == 2


def test_corrupt_file_is_named_on_stderr_and_the_rest_judged(
    tmp_path: Path, zqa: Zqa, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _history(tmp_path, regress=False)
    (folder / "truncated.json").write_text('{"benchmarks": [', encoding="utf-8")
    assert zqa(folder) == 0
    captured = capsys.readouterr()
    assert "warning: skipped" in captured.err and "truncated.json" in captured.err
    assert "30 runs" in captured.out


def test_example_history_prints_the_table_and_writes_plots_and_page(
    tmp_path: Path, zqa: Zqa, capsys: pytest.CaptureFixture[str]
) -> None:
    plots, page = tmp_path / "plots", tmp_path / "report" / "history.html"
    assert zqa(EXAMPLE, "--plot", plots, "--html", page) == 1
    out = capsys.readouterr().out
    assert "REGRESSED  zimage_qa/gate/test_latency.py::test_latency[1024-simple]" in out
    assert "at run 20: torch 2.10.0 → 2.11.0, diffusers 0.41.0 → 0.42.1: +" in out
    assert "at run 26: weights Tongyi-MAI/Z-Image-Turbo@2f1e0c7 → Tongyi-MAI/Z-Image-Turbo@9b3d4a1" in out
    assert "at run 8: driver 570.133.20 → 580.159.04, cuda driver 12.8 → 13.0: no lasting change" in out
    assert out.count("at run 20:") == 1  # one event, one entry: NFE, denoise and median of 3 benchmarks
    assert "nfe +12.5% (8 -> 9 open)" in out and "recovered" in out
    assert "Spikes" in out and "run 9 (" in out and "rounds_s" not in out
    assert "↑" in out or "^" in out
    pngs = sorted(plots.glob("*.png"))
    assert len(pngs) == 24 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    html = page.read_text(encoding="utf-8")
    assert html.count('<img class="plot" src="../plots/') == 24  # linked relative, as --plot wrote them
    assert html.index("Events and change points") < html.index("Trends") < html.index("Machine group")
    assert "http://" not in html and "https://" not in html


def test_page_alone_embeds_images_and_escapes_every_name(tmp_path: Path, zqa: Zqa) -> None:
    evil = 'tests/test_x.py::test_x[<script>alert("x")</script>-福]'
    values = noise(np.random.default_rng(3), 12, cv=0.01)
    write_history(tmp_path / "runs", {evil: values}, extra=lambda i, _: {"glyph": {"score<b>": 0.9}})
    page = tmp_path / "page.html"
    assert zqa(tmp_path / "runs", "--html", page, "--all") == 0
    html = page.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html and "score&lt;b&gt;" in html
    assert html.count("data:image/png;base64,") == 2


def test_threshold_per_metric_and_metric_filter(
    tmp_path: Path, zqa: Zqa, capsys: pytest.CaptureFixture[str]
) -> None:
    x = noise(np.random.default_rng(4), 30, cv=0.002)
    x[20:] *= 1.03
    write_history(tmp_path, {BENCH: x})
    assert zqa(tmp_path) == 0
    assert zqa(tmp_path, "--threshold", "median=2%") == 1
    assert zqa(tmp_path, "--threshold", "0.02", "--metric", "nfe") == 2  # nothing tracked is left
    capsys.readouterr()


def test_committed_example_is_what_make_example_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_example", EXAMPLE / "make_example.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    committed = sorted(p.relative_to(EXAMPLE) for p in EXAMPLE.rglob("*.json"))
    assert made == committed and len(made) == 30
    assert all((tmp_path / p).read_bytes() == (EXAMPLE / p).read_bytes() for p in made)
    assert sum((EXAMPLE / p).stat().st_size for p in committed) < 200_000
