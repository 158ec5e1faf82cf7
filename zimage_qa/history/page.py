"""The HTML page of a history: a Jinja2 template (package data, autoescape on) over a small view.

The page opens from disk with no network: styles are inline and plots are embedded as base64 PNGs,
or linked by relative path when they were also written with --plot.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from zimage_qa.history.records import Blip, Change, ChangePoint, GroupInfo, HistoryReport, NotJudged
from zimage_qa.history.view import Row, blip_line, fmt_change, fmt_value, moved_lines, rows, short_name
from zimage_qa.measure.runs import PRIMARY
from zimage_qa.storage import locked, write_text_atomic
from zimage_qa.templating import render

Key = tuple[str, str, str]


@dataclass(frozen=True)
class BenchmarkView:
    name: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class GroupView:
    info: GroupInfo
    benchmarks: tuple[BenchmarkView, ...]


@dataclass(frozen=True)
class PageView:
    report: HistoryReport
    groups: tuple[GroupView, ...]
    images: Mapping[Key, str] = field(default_factory=dict)

    @property
    def open_regressions(self) -> list[Change]:
        return self.report.open_regressions

    @property
    def suspected(self) -> list[Change]:
        return self.report.suspected

    @property
    def not_judged(self) -> list[NotJudged]:
        return self.report.not_judged

    @property
    def change_points(self) -> list[ChangePoint]:
        return self.report.change_points

    @property
    def trends(self) -> list[tuple[Row, str]]:
        """The median chart of every benchmark, worst first: what a reviewer looks at first."""
        found = []
        for group in self.groups:
            for bench in group.benchmarks:
                for row in bench.rows:
                    src = self.images.get(row.verdict.key)
                    if row.verdict.metric == PRIMARY and src:
                        found.append((row, src))
        return found

    def detail_image(self, row: Row) -> str | None:
        """Charts of the other metrics, below the tables (the median ones are at the top)."""
        return None if row.verdict.metric == PRIMARY else self.images.get(row.verdict.key)

    @staticmethod
    def moved(point: ChangePoint) -> list[str]:
        return moved_lines(point)

    @staticmethod
    def short(benchmark: str) -> str:
        return short_name(benchmark)

    @property
    def blips(self) -> list[tuple[str, Blip]]:
        pending = [("pending", p) for p in self.report.pending]
        return pending + [("spike", s) for s in self.report.spikes]

    def image(self, row: Row) -> str | None:
        return self.images.get(row.verdict.key)

    @staticmethod
    def value(metric: str, value: float) -> str:
        return fmt_value(metric, value)

    @staticmethod
    def pct(change: float) -> str:
        return fmt_change(change)

    @staticmethod
    def blip_text(kind: str, blip: Blip) -> str:
        return blip_line(blip, kind)


def build_view(
    report: HistoryReport,
    values: dict[Key, list[float]],
    images: Mapping[Key, str],
    *,
    everything: bool = True,
) -> PageView:
    shown = rows(report, everything=everything, values=values)
    groups = []
    for info in report.groups:
        mine = [r for r in shown if r.verdict.group == info.fingerprint.id]
        names = sorted(
            {r.verdict.benchmark for r in mine},
            key=lambda n: min(_order(r) for r in mine if r.verdict.benchmark == n),
        )
        benches = tuple(BenchmarkView(n, tuple(r for r in mine if r.verdict.benchmark == n)) for n in names)
        groups.append(GroupView(info, benches))
    groups.sort(key=lambda g: min((_order(r) for b in g.benchmarks for r in b.rows), default=(99, "")))
    return PageView(report, tuple(groups), images)


def _order(row: Row) -> tuple[int, str]:
    return (row.verdict.status.rank, row.verdict.benchmark)


def render_page(view: PageView) -> str:
    return render("zimage_qa.history", "history.html.j2", view=view, report=view.report)


def embedded(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def linked(image: Path, page: Path) -> str:
    relative = os.path.relpath(image.resolve(), page.resolve().parent)
    return quote(Path(relative).as_posix())


def write_page(view: PageView, path: Path) -> None:
    with locked(path):
        write_text_atomic(path, render_page(view))
