"""Trend plots: one PNG per benchmark and metric, with levels, change points, spikes and the spread band.

matplotlib is imported here only, through its object API and the Agg canvas (no pyplot, no global
backend switch), so plotting is safe in a pytest session or a thread.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from zimage_qa.history.records import ChangeKind, Event, SeriesVerdict
from zimage_qa.history.series import Series
from zimage_qa.history.view import fmt_change
from zimage_qa.measure.runs import PRIMARY
from zimage_qa.storage import locked, safe_name, write_bytes_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation

_WORSE, _BETTER, _BLIP, _POINT, _LEVEL = "#c62828", "#2e7d32", "#ef6c00", "#1f4e79", "#555555"
_EVENT = "#6a1b9a"


def plot_name(verdict: SeriesVerdict) -> str:
    """A file name for the series: readable, safe, unique per group x benchmark x metric."""
    digest = hashlib.sha1("\n".join(verdict.key).encode("utf-8")).hexdigest()[:8]
    return (
        f"{safe_name(verdict.benchmark, max_len=80)}--{safe_name(verdict.metric, max_len=40)}--{digest}.png"
    )


def render_plot(series: Series, verdict: SeriesVerdict, events: Sequence[Event] = ()) -> bytes:
    """The trend PNG of `draw_plot`."""
    fig = draw_plot(series, verdict, events)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # A test id in Chinese has glyphs DejaVu lacks; `_plain` escapes them, this keeps any stragglers quiet.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def draw_plot(series: Series, verdict: SeriesVerdict, events: Sequence[Event] = ()) -> Figure:
    """The trend figure (on an Agg canvas): values, in-run band, levels, change marks (a creep with its trend line), spikes, and
    each upgrade as a dotted line with a numbered tag, described in a list under the axes.

    No two texts overlap: change labels stack in rows under the top of the axes, upgrade tags in rows
    over its bottom (measured with the renderer), and upgrade descriptions sit in a margin of their own."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = _shown_events(series, events)
    lines = _legend_lines(shown)
    height = _HEIGHT_IN + len(lines) * _LINE_IN + (_GAP_IN if lines else 0.0)
    fig = Figure(figsize=(7.5, height), dpi=80)  # fixed margins: constrained layout costs ~0.1 s a plot
    FigureCanvasAgg(fig)
    bottom_in = _AXES_BOTTOM_IN + len(lines) * _LINE_IN + (_GAP_IN if lines else 0.0)
    fig.subplots_adjust(left=0.1, right=0.98, top=1 - _AXES_TOP_IN / height, bottom=bottom_in / height)
    ax = fig.add_subplot()
    x = np.array([r.index + 1 for r in series.runs], dtype=float)
    _band(ax, x, series, verdict)
    ax.plot(x, series.values, "o", ms=3, color=_POINT, zorder=3)
    for level in verdict.levels:
        ax.hlines(level.value, x[level.start] - 0.5, x[level.stop - 1] + 0.5, color=_LEVEL, lw=1.5, zorder=2)
    labels = _marks(ax, x, series, verdict)
    tags = _events(ax, shown)
    for i, line in enumerate(lines):
        fig.text(
            0.1,
            (len(lines) - i) * _LINE_IN / height,
            line,
            color=_EVENT,
            fontsize=7,
            va="top",
            parse_math=False,
        )
    ax.set_title(_plain(f"{verdict.benchmark} · {verdict.metric}"), fontsize=9, loc="left", parse_math=False)
    ax.set_xlabel("run", fontsize=8)
    unit = " (s)" if verdict.metric == PRIMARY else ""
    ax.set_ylabel(_plain(verdict.metric) + unit, fontsize=8, parse_math=False)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.get_xlim()  # settles the data limits, so that labels are measured where they will be drawn
    top_rows = _stack(labels, step=-_ROW_PT)
    bottom_rows = _stack(tags, step=_ROW_PT)
    ax.margins(y=0.12 + 0.1 * max(top_rows - 1, 0) + 0.1 * max(bottom_rows - 1, 0))
    return fig


_HEIGHT_IN, _AXES_TOP_IN, _AXES_BOTTOM_IN = 2.6, 0.312, 0.442  # the plot without upgrades
_LINE_IN, _GAP_IN = 0.14, 0.04  # one upgrade's line under the axes, and the space above the first
_ROW_PT = 11.0  # one row of stacked labels, in points
_MAX_LISTED = 6  # upgrades described under the axes; more are counted


def _band(ax: Axes, x: np.ndarray, series: Series, verdict: SeriesVerdict) -> None:
    if np.any(series.hi > series.lo):
        ax.fill_between(x, series.lo, series.hi, color=_POINT, alpha=0.15, lw=0, label="in-run IQR")
        return
    for level in verdict.levels:
        span = x[level.start : level.stop]
        ax.fill_between(
            span, level.value - verdict.noise, level.value + verdict.noise, color=_LEVEL, alpha=0.12, lw=0
        )


def _marks(ax: Axes, x: np.ndarray, series: Series, verdict: SeriesVerdict) -> list[Annotation]:
    """Change lines (and their trend line, recovery and spikes); returns the labels, for `_stack`."""
    position = {r.index: i for i, r in enumerate(series.runs)}
    labels = []
    for change in verdict.changes:
        color = _WORSE if change.kind is ChangeKind.REGRESSION else _BETTER
        labels.append(_vline(ax, x[position[change.run.index]] - 0.5, color, "--", fmt_change(change.change)))
        if change.creep:  # the trend line, first run of the creep to the latest
            first = position[change.run.index]
            last = min(first + change.runs_at_level - 1, len(x) - 1)
            ax.plot([x[first], x[last]], [change.before, change.after], color=color, lw=1.5, zorder=2)
        if change.recovered_at is not None and change.recovered_at.index in position:
            labels.append(_vline(ax, x[position[change.recovered_at.index]] - 0.5, _BETTER, ":", "back"))
    blips = [*verdict.spikes, *([verdict.pending] if verdict.pending else [])]
    for blip in blips:
        start = position[blip.run.index]
        span = slice(start, start + blip.runs)
        ax.plot(x[span], series.values[span], "x", ms=7, mew=1.5, color=_BLIP, zorder=4)
    return labels


def _shown_events(series: Series, events: Sequence[Event]) -> list[Event]:
    """The upgrades inside this series' span, in run order."""
    first, last = series.runs[0].index, series.runs[-1].index
    inside = [e for e in events if e.group == series.group.id and first < e.run.index <= last]
    return sorted(inside, key=lambda e: e.run.index)


def _legend_lines(events: Sequence[Event]) -> list[str]:
    """One line per upgrade under the axes, numbered as its tag: 'u1 run 20: torch 2.11.0, diffusers 0.42.1'."""
    lines = [
        _plain(f"u{n} run {e.run.index + 1}: " + ", ".join(f"{u.name} {u.after}" for u in e.upgrades))[:120]
        for n, e in enumerate(events[:_MAX_LISTED], start=1)
    ]
    more = len(events) - _MAX_LISTED
    return (
        [*lines, f"and {more} more upgrade{'s' if more > 1 else ''} (zqa history lists them)"]
        if more > 0
        else lines
    )


def _events(ax: Axes, events: Sequence[Event]) -> list[Annotation]:
    """Each upgrade as a dotted line between the last run before it and the first after, with its tag."""
    tags = []
    for n, event in enumerate(events, start=1):
        at = event.run.index + 0.5  # between the last run before and the first after (1-based x)
        ax.axvline(at, color=_EVENT, ls=":", lw=1.2)
        tag = ax.annotate(
            f"u{n}",
            (at, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, 3),
            textcoords="offset points",
            color=_EVENT,
            fontsize=7,
            va="bottom",
        )
        tags.append(tag)
    return tags


def _vline(ax: Axes, at: float, color: str, style: str, text: str) -> Annotation:
    ax.axvline(at, color=color, ls=style, lw=1.2)
    return ax.annotate(
        text,
        (at, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -11),
        textcoords="offset points",
        color=color,
        fontsize=8,
    )


def _stack(labels: Sequence[Annotation], step: float) -> int:
    """Move labels that would overlap one placed before them (left to right) into the next free row,
    `step` points further from the axes edge; returns how many rows it took."""
    ends: list[float] = []  # per row, the right edge (pixels) of its last label
    pad = 3.0
    for label in sorted(labels, key=lambda a: float(a.xy[0])):
        box = label.get_window_extent()  # measured by the figure's own (Agg) renderer
        row = next((i for i, end in enumerate(ends) if box.x0 >= end + pad), len(ends))
        if row == len(ends):
            ends.append(-np.inf)
        ends[row] = box.x1
        dx, dy = label.xyann
        label.xyann = (dx, dy + row * step)
    return len(ends)


def _plain(text: str) -> str:
    """Text DejaVu Sans can draw: characters past U+24FF (CJK, emoji) become \\u escapes."""
    return "".join(c if ord(c) < 0x2500 else c.encode("unicode_escape").decode("ascii") for c in text)


def write_plots(
    pairs: Iterable[tuple[Series, SeriesVerdict]], directory: Path, events: Sequence[Event] = ()
) -> dict[tuple[str, str, str], Path]:
    """Render and write one PNG per series into `directory`; returns the path per series key."""
    written: dict[tuple[str, str, str], Path] = {}
    with locked(directory / ".zqa-history"):
        for series, verdict in pairs:
            path = directory / plot_name(verdict)
            write_bytes_atomic(path, render_plot(series, verdict, events))
            written[verdict.key] = path
    return written
