"""index.html and results.json: what the page shows, in what order, escaped, and openable offline."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from report_records import FINGERPRINT, HEADER, XSS_IMG, XSS_SCRIPT, gate_records, png

from zimage_qa.errors import QAUsageError
from zimage_qa.records import CheckRecord, Family
from zimage_qa.report import read_results, write_report
from zimage_qa.report.page import render_page
from zimage_qa.report.view import build_view
from zimage_qa.verdict import Status

SRC = re.compile(r'\s(?:src|href)="([^"]*)"')


def case_rows(page: str) -> list[str]:
    """The outcome class of every case row, in page order."""
    return re.findall(r'<tr id="[^"]+" class="case o-(\w+)">', page)


def test_writes_the_page_and_its_json_twin(written: Path) -> None:
    assert written.name == "index.html"
    assert (written.parent / "results.json").is_file()
    assert not list(written.parent.glob(".*.tmp"))  # atomic writes leave no temporary file behind


def test_hostile_ids_messages_and_readings_never_reach_the_page_unescaped(written: Path) -> None:
    page = written.read_text(encoding="utf-8")
    assert XSS_SCRIPT not in page and XSS_IMG not in page
    assert "onerror=alert" not in page.replace(html.escape(XSS_IMG), "")
    assert page.count(html.escape(XSS_SCRIPT)) >= 6  # id, case, message, OCR reading, values... all shown
    assert "<script" not in page  # the page has no script at all


def test_the_page_forbids_scripts_and_needs_no_network(written: Path) -> None:
    page = written.read_text(encoding="utf-8")
    assert "default-src 'none'" in page and "script-src" not in page
    for url in SRC.findall(page):
        assert not re.match(r"(?i)(https?:|//|javascript:)", url), url
        if not url.startswith(("#", "data:")):
            assert (written.parent / url).is_file(), url  # relative links point into the report folder


def test_failures_come_first_on_the_page_and_in_each_family(written: Path) -> None:
    page = written.read_text(encoding="utf-8")
    assert page.index('id="failures"') < page.index('id="family-')
    failures = page[page.index('id="failures"') : page.index('id="family-')]
    assert failures.count('class="o-failed"') == 3
    # families with failures first; inside each family: failed, unstable, not run, passed
    assert re.findall(r'<h2 id="family-(\w+)"', page) == ["latency", "golden", "glyph", "vram", "guard"]
    order = case_rows(page)
    assert order[:3] == ["failed", "not_run", "passed"]  # latency
    assert order[3] == "failed"  # golden
    assert order[-3:] == ["unstable", "passed", "passed"]  # vram, then guard
    assert page.count('<tr class="more">') == 6  # rows with nothing more to show (not run) get no detail line


def test_per_family_details_are_shown(written: Path) -> None:
    page = written.read_text(encoding="utf-8")
    assert 'class="seg s-denoise" style="width: 89.47%"' in page  # 1530 ms of the longest, 1710 ms
    assert "46.1 %" in page and "777 TFLOP/s" in page  # roofline: fraction of the measured peak
    assert "during generation (peak)" in page and "25.65 GiB" in page  # VRAM by stage
    assert 'src="golden/apple-s42/diff.png"' in page and 'src="golden/apple-s42/obtained.png"' in page
    assert 'src="glyph/fu/annotated.png"' in page
    assert "colour shift" in page and "14.2" in page  # golden measures
    assert "expected</dt><dd>福" in page and "look-alike" in page  # glyph verdict
    assert "p50 &lt;= 0.55 s" in page  # a noted budget
    assert "sw power cap" in page  # GPU state
    assert "NVIDIA H100 80GB HBM3" in page and "580.65" in page  # fingerprint
    for value in HEADER.values():
        assert html.escape(value) in page


def test_not_run_checks_are_listed_with_their_reason(written: Path) -> None:
    page = written.read_text(encoding="utf-8")
    section = page[page.index('id="not-run"') : page.index('id="environment"')]
    assert "no cold-start budget for synthetic on cpu" in section
    assert "cannot render text" in section


def test_results_json_holds_the_same_records_in_page_order(written: Path, records: list[CheckRecord]) -> None:
    results = read_results(written.parent / "results.json")
    assert sorted(r.to_json() for r in results.records) == sorted(r.to_json() for r in records)
    assert [r.outcome for r in results.records][:3] == [Status.FAILED, Status.NOT_RUN, Status.PASSED]
    assert results.fingerprint["driver"] == "580.65" and results.header["model"] == "synthetic"
    data = json.loads((written.parent / "results.json").read_text(encoding="utf-8"))
    assert data["summary"]["latency"]["counts"] == {"passed": 1, "failed": 1, "unstable": 0, "not run": 1}


def test_non_finite_values_stay_strict_json(tmp_path: Path) -> None:
    record = CheckRecord(
        Family.LATENCY, "t::x", "x", Status.FAILED, "oom", {"median_s": float("inf"), "rel_iqr": float("nan")}
    )
    index = write_report(tmp_path, [record])
    text = (tmp_path / "results.json").read_text(encoding="utf-8")
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text)["records"][0]["values"] == {"median_s": "inf", "rel_iqr": "nan"}
    assert "oom" in index.read_text(encoding="utf-8")


def test_artifacts_outside_the_folder_are_embedded_and_bad_ones_are_named_not_linked(tmp_path: Path) -> None:
    elsewhere = png(tmp_path / "elsewhere" / "obtained.png", (10, 200, 10))
    (tmp_path / "qa-report").mkdir()
    (tmp_path / "qa-report" / "note.png").write_text("not a picture")
    artifacts = {"obtained": elsewhere, "diff": "javascript:alert(1)", "annotated": "note.png"}
    record = CheckRecord(Family.GOLDEN, "t::g", "g", Status.FAILED, "regressed", {}, artifacts)
    page = write_report(tmp_path / "qa-report", [record]).read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,iVBOR' in page
    assert 'src="javascript' not in page and "file not found: <code>javascript:alert(1)</code>" in page
    assert "not an image: <code>note.png</code>" in page


def test_an_empty_run_still_writes_a_page(tmp_path: Path) -> None:
    page = write_report(tmp_path / "r", []).read_text(encoding="utf-8")
    assert "no gate checks ran" in page and "no environment fingerprint was given" in page


def test_a_file_in_place_of_the_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "qa-report").write_text("")
    with pytest.raises(QAUsageError, match="is a file"):
        write_report(tmp_path / "qa-report", [])


def test_rewriting_replaces_the_previous_report(tmp_path: Path) -> None:
    folder = tmp_path / "qa-report"
    write_report(folder, gate_records(folder))
    passed = [CheckRecord(Family.GUARD, "t::ok", "ok", Status.PASSED, "fine")]
    page = write_report(folder, passed, written="2026-01-01T00:00:00+00:00").read_text(encoding="utf-8")
    assert case_rows(page) == ["passed"] and "2026-01-01T00:00:00+00:00" in page
    assert len(read_results(folder / "results.json").records) == 1


def test_render_is_deterministic_for_a_given_time(tmp_path: Path) -> None:
    records = gate_records(tmp_path, hostile=False)
    first = render_page(build_view(records, tmp_path, fingerprint=FINGERPRINT, written="t"))
    again = render_page(build_view(list(reversed(records)), tmp_path, fingerprint=FINGERPRINT, written="t"))
    assert first == again


@pytest.mark.parametrize(
    "text",
    ['{"schema": "other"}', "not json", '{"schema": "zimage-qa-report/1", "records": [{"family": "nope"}]}'],
)
def test_reading_something_else_is_a_usage_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(text)
    with pytest.raises(QAUsageError, match=r"results\.json|malformed|cannot read"):
        read_results(path)


def test_values_the_run_did_not_record_read_as_such_not_as_null(tmp_path: Path) -> None:
    """A CPU run has no driver, no CUDA and no GPU memory: the page says so in words, never `null`."""
    fingerprint = {
        **FINGERPRINT,
        "driver": None,
        "cuda_driver": None,
        "cuda_runtime": None,
        "gpus": [{"index": 0, "name": "GPU", "compute_capability": None, "memory_bytes": None}],
    }
    record = CheckRecord(Family.GUARD, "t::ok", "ok", Status.PASSED, "fine", {"budget_ms": None, "nfe": 8})
    page = write_report(tmp_path / "r", [record], fingerprint=fingerprint).read_text(encoding="utf-8")
    environment = page[page.index('<h2 id="environment">') :]
    assert "<dt>driver</dt><dd>not recorded</dd>" in environment
    assert "<dt>modelscope</dt><dd>not recorded</dd>" in environment
    assert '<td>0</td><td>GPU</td><td>—</td><td class="num">—</td>' in environment
    assert "<dt>budget_ms</dt><dd><code>—</code></dd>" in page and "<dd><code>8</code></dd>" in page
    assert "null" not in page and "None" not in page
