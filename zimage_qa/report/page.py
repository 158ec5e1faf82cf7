"""The review report of a gate run: `index.html` (a Jinja2 template, package data, autoescape on, over
the view) and its `results.json` twin, written atomically once at session end.

Pictures of an earlier run that this run's records do not name are removed after the new report is in
place (only the files the gate writes there, see `GATE_PICTURES`), so the folder shows one run.

The page opens from disk with no network: inline styles, no scripts (a Content-Security-Policy forbids
them, so even a missed escape could not run one), images linked by relative path inside the report
folder or embedded as data URIs.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
# The pictures the gate writes into the report folder: <family folder>/<case>/<name>, from
# zimage_qa.golden.gate.save_review and zimage_qa.checks.glyphs.save_annotated.
GATE_PICTURES = {"golden": ("expected.png", "obtained.png", "diff.png"), "glyph": ("annotated.png",)}


def render_page(view: ReportView) -> str:
    return render("zimage_qa.report", "report.html.j2", view=view)


def write_report(
    report_dir: Path,
    records: Sequence[CheckRecord],
    *,
    fingerprint: Mapping[str, Any] | None = None,
    header: Mapping[str, object] | None = None,
    written: str | None = None,
) -> Path:
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
        remove_stale_pictures(report_dir, records)
    return index


def remove_stale_pictures(report_dir: Path, records: Iterable[CheckRecord]) -> list[Path]:
    """Remove the gate's pictures (and leftovers of their interrupted writes) that no record names, then
    the case folders that this leaves empty; returns what was removed. Nothing else is touched: not a
    user's own file, not a symbolic link, nothing outside `report_dir`."""
    named = {p for r in records for recorded in r.artifacts.values() for p in _resolved(recorded, report_dir)}
    removed = []
    for family, names in GATE_PICTURES.items():
        for case in _folders(report_dir / family):
            for entry in _files(case):
                stale = entry.name in names and entry.resolve() not in named
                if stale or any(_leftover(entry, n) for n in names):
                    with contextlib.suppress(FileNotFoundError):
                        entry.unlink()
                        removed.append(entry)
            with contextlib.suppress(OSError):
                case.rmdir()  # only when empty
        with contextlib.suppress(OSError):
            (report_dir / family).rmdir()
    return removed


def _resolved(recorded: str, report_dir: Path) -> set[Path]:
    """Where a recorded artefact path can point: as written (absolute, or relative to the current folder)
    and relative to the report folder, as the page reads it."""
    path = Path(recorded).expanduser()
    return {path.resolve(), (report_dir / path).resolve()}


def _folders(folder: Path) -> Iterator[Path]:
    if folder.is_dir() and not folder.is_symlink():
        yield from sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink())


def _leftover(entry: Path, picture: str, age_s: float = 60.0) -> bool:
    """A temporary file of an interrupted atomic write of `picture` (zimage_qa.storage.write_bytes_atomic),
    old enough not to be a write in progress."""
    name = entry.name
    if not (name.startswith(f".{picture}.") and name.endswith(".tmp")):
        return False
    with contextlib.suppress(OSError):
        return time.time() - entry.stat().st_mtime > age_s
    return False
