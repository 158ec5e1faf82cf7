"""Fixtures of the report tests: a report folder written from gate-shaped records."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_records import FINGERPRINT, HEADER, gate_records

from zimage_qa.records import CheckRecord
from zimage_qa.report import write_report


@pytest.fixture
def records(tmp_path: Path) -> list[CheckRecord]:
    made: list[CheckRecord] = gate_records(tmp_path / "qa-report")
    return made


@pytest.fixture
def written(tmp_path: Path, records: list[CheckRecord]) -> Path:
    """The index.html of a report over `records` (golden and glyph images under the report folder)."""
    return write_report(tmp_path / "qa-report", records, fingerprint=FINGERPRINT, header=HEADER)
