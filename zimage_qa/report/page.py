"""The review report of a gate run: `index.html` (a Jinja2 template, package data, autoescape on, over
the view) and its `results.json` twin, written atomically once at session end.

The page opens from disk with no network: inline styles, no scripts (a Content-Security-Policy forbids
them, so even a missed escape could not run one), images linked by relative path inside the report
folder or embedded as data URIs.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.records import CheckRecord
from zimage_qa.report.results import dumps, payload
from zimage_qa.report.view import ReportView, build_view
from zimage_qa.storage import locked, write_text_atomic
from zimage_qa.templating import render

INDEX = "index.html"
RESULTS = "results.json"


def render_page(view: ReportView) -> str:
    return render("zimage_qa.report", "report.html.j2", view=view)


def write_report(
    report_dir: Path, records: Sequence[CheckRecord], *, fingerprint: Mapping[str, Any] | None = None,
    header: Mapping[str, object] | None = None, written: str | None = None,
) -> Path:  # fmt: skip
    """Write `report_dir/index.html` and `report_dir/results.json` for `records`; return the page's path.

    `fingerprint` is `zimage_qa.measure.fingerprint.fingerprint().to_dict()`; `header` holds lines such as
    model, profile, device, config and session (wall/work), shown in the given order."""
    if report_dir.exists() and not report_dir.is_dir():
        raise QAUsageError(f"report folder {report_dir} is a file; pass a folder to --qa-report")
    stamp = written or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    view = build_view(records, report_dir, fingerprint=fingerprint, header=header, written=stamp)
    ordered = [row.record for row in view.rows]
    data = payload(ordered, header=header or {}, fingerprint=fingerprint or {}, written=stamp)
    index = report_dir / INDEX
    with locked(index):
        write_text_atomic(report_dir / RESULTS, dumps(data))
        write_text_atomic(index, render_page(view))
    return index
