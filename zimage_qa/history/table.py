"""The terminal rendering of a history report: a table, then one line per finding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from zimage_qa.history.records import Blip, HistoryReport
from zimage_qa.history.view import Row, fmt_change, fmt_value, moved_lines, rows

_Item = TypeVar("_Item", bound=Blip)

_ASCII = str.maketrans({"↑": "^", "↓": "v", "→": "-", "µ": "u"})
_MAX_BLIPS = 12


def render_table(
    report: HistoryReport,
    values: dict[tuple[str, str, str], list[float]],
    *,
    everything: bool = False,
    unicode: bool = True,
) -> str:
    shown = rows(report, everything=everything, values=values)
    several = len(report.groups) > 1
    lines = [_heading(report), ""]
    if several:
        lines += [f"  group {g.fingerprint.id}: {g.fingerprint.label} ({g.runs} runs)" for g in report.groups]
        lines.append("")
    lines += _grid(shown, several, unicode)
    lines += ["", *_findings(report)]
    text = "\n".join(lines).rstrip() + "\n"
    return text if unicode else text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def _heading(report: HistoryReport) -> str:
    threshold = report.settings.get("threshold", 0.05)
    extra = f", {report.duplicates} duplicate(s) ignored" if report.duplicates else ""
    skipped = f", {len(report.skipped)} file(s) skipped" if report.skipped else ""
    return (
        f"zqa history: {report.runs} runs from {report.files} file(s), {len(report.groups)} machine group(s)"
        f"{extra}{skipped}; lasting change >= {threshold * 100:g}% over >= "
        f"{report.settings.get('min_runs', 3)} runs"
    )


def _grid(shown: list[Row], several: bool, unicode: bool) -> list[str]:
    header = ["status", "benchmark", "metric", "runs", "baseline", "latest", "change", "trend"]
    if several:
        header.insert(1, "group")
    body = []
    for row in shown:
        spark = row.spark if unicode else ""
        cells = [
            row.status,
            row.verdict.benchmark,
            row.verdict.metric,
            str(row.verdict.runs),
            row.baseline,
            row.latest,
            row.change,
            f"{row.arrow} {spark}".rstrip(),
        ]
        if several:
            cells.insert(1, row.verdict.group)
        body.append(cells)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    numeric = {header.index(h) for h in ("runs", "baseline", "latest", "change")}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in body)]


def _findings(report: HistoryReport) -> list[str]:
    lines: list[str] = []
    points = report.change_points
    if points:
        lines.append("Events and change points (one entry each, with everything it moved):")
        for point in points:
            lines.append(f"  {point.headline}  [{Path(point.run.file).name}]")
            lines += [f"    {line}" for line in moved_lines(point)]
        lines.append("")
    pending = report.pending
    if pending:
        lines += ["Pending (the latest run(s) moved; too few runs yet to call it lasting):"]
        lines += [*_by_run(pending, _blip_cells), ""]
    spikes = report.spikes
    if spikes:
        lines += ["Spikes (runs off their level that did not last):"]
        lines += [*_by_run(spikes, _blip_cells, limit=_MAX_BLIPS), ""]
    lines += _summary_lines(report)
    return lines


def _summary_lines(report: HistoryReport) -> list[str]:
    """What decides the exit code: open regressions (suspected ones named), pending runs, not judged."""
    opened, suspected = report.open_regressions, report.suspected
    where = len({(c.group, c.run.index) for c in opened})
    of_them = f", {len(suspected)} of them suspected (not yet confirmed)" if suspected else ""
    lines = [
        f"{len(opened)} open regression(s){of_them} from {where} change point(s) at the latest run"
        if opened
        else "no open regression at the latest run"
    ]
    worse = [p for p in report.pending if p.worse]
    if worse:
        lines.append(f"{len(worse)} series pending: the latest run(s) moved the worse way, not yet lasting")
    if report.not_judged:
        lines.append(
            f"{len(report.not_judged)} comparison(s) not judged at the latest run (too few runs or rounds); "
            "zqa history --strict fails them"
        )
    return lines


def _by_run(items: Sequence[_Item], cells: Callable[[_Item], list[str]], limit: int = 10_000) -> list[str]:
    """Findings under a heading per (group, first run), as aligned columns; at most `limit` lines."""
    runs: dict[tuple[str, int], list[_Item]] = {}
    for item in items:
        runs.setdefault((item.group, item.run.index), []).append(item)
    lines: list[str] = []
    for found in runs.values():
        run = found[0].run
        lines.append(f"  {run.label}  {Path(run.file).name}")
        table = [cells(item) for item in found]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines += [
            "    " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
        ]
    if len(lines) > limit:
        lines = [*lines[:limit], f"  ... {len(lines) - limit} more lines: see --json or --html"]
    return lines


def _blip_cells(blip: Blip) -> list[str]:
    runs = "1 run" if blip.runs == 1 else f"{blip.runs} runs"
    return [
        fmt_change(blip.change),
        blip.metric,
        blip.benchmark,
        f"{fmt_value(blip.metric, blip.value)} vs level {fmt_value(blip.metric, blip.level)}",
        runs,
    ]
