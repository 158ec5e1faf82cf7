"""The review report of a gate run (qa-report/index.html and results.json) and its GitHub Actions
summary. Importing this package is cheap: Jinja2 loads only when a page is rendered."""

from __future__ import annotations

from zimage_qa.report.page import write_report
from zimage_qa.report.results import read_results

__all__ = ["read_results", "write_report"]
