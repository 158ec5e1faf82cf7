"""GitHub Actions: the job summary and the workflow-command annotations."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_records import HEADER, XSS_SCRIPT, gate_records

from zimage_qa.records import CheckRecord, Family
from zimage_qa.report import github
from zimage_qa.verdict import Status


def test_workflow_command_escaping_follows_the_spec() -> None:
    assert github.escape_data("50% of\r\nit: a, b") == "50%25 of%0D%0Ait: a, b"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_failures_become_errors_and_unstable_checks_warnings(tmp_path: Path) -> None:
    gate = tmp_path / "tests" / "gate"
    gate.mkdir(parents=True)
    (gate / "test_golden.py").write_text("import x\n\n\ndef test_golden_image(\n    a,\n):\n    pass\n")
    lines = github.annotations(gate_records(tmp_path / "qa-report"), root=tmp_path)
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::warning", "::error", "::error"]
    golden = next(line for line in lines if "golden" in line)
    assert golden.startswith(
        "::error file=tests/gate/test_golden.py,line=4,title=zimage-qa golden%3A apple-s42::"
    )
    latency = lines[0]
    assert ",line=" not in latency  # its file is not under root: no line, still a file
    assert "\n" not in "".join(lines) and "p50 latency 1.71 s > budget 1.60 s (+6.9 %25)" in latency


def test_a_multi_line_message_stays_one_command() -> None:
    record = CheckRecord(Family.GUARD, "t.py::test_x", "x", Status.FAILED, "first\nsecond\r\n100%")
    (line,) = github.annotations([record], root=Path("/nonexistent"))
    assert line == "::error file=t.py,title=zimage-qa guard%3A x::first%0Asecond%0D%0A100%25"


def test_step_summary_counts_failures_and_reasons(tmp_path: Path) -> None:
    text = github.step_summary(gate_records(tmp_path), header=HEADER, report="qa-report/index.html")
    assert text.startswith("## zimage-qa: 3 failed, 1 unstable, 2 not run, 3 passed\n")
    assert "| latency | 1 | 0 | 1 | 1 |" in text and "| guard | 0 | 0 | 0 | 1 |" in text
    assert "### Failures" in text and "p50 latency 1.71 s &gt; budget 1.60 s" in text
    assert "### Not run" in text and "cannot render text" in text
    assert "Full report: qa-report/index.html" in text


def test_step_summary_escapes_html_and_markdown(tmp_path: Path) -> None:
    text = github.step_summary(gate_records(tmp_path))
    assert XSS_SCRIPT not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert github.md("a|b *c* `d` [e](f)") == r"a\|b \*c\* \`d\` \[e\](f)"
    assert github.md("x" * 50, limit=10) == "x" * 9 + "…"


def test_publish_appends_the_summary_and_annotates_only_on_github(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    records = gate_records(tmp_path / "qa-report")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    assert github.publish(records, environ=env) == []
    assert len(github.publish(records, environ={**env, "GITHUB_ACTIONS": "true"}, root=tmp_path)) == 4
    text = summary.read_text()
    assert text.startswith("earlier step\n") and text.count("## zimage-qa:") == 2


def test_no_summary_file_no_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert github.append_step_summary("x") is None
    assert github.step_summary([]).startswith("## zimage-qa: no gate checks ran")
