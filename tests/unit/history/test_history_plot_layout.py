"""Trend plots keep every text readable: labels, change annotations, upgrade tags and their list never
overlap, measured on the rendered figure (matplotlib's `get_window_extent`)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from zimage_qa.history.analysis import Analysis, analyse
from zimage_qa.history.plot import draw_plot
from zimage_qa.history.records import Event, RunRef, Upgrade

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "history"


@pytest.fixture(scope="module")
def example() -> Analysis:
    return analyse([EXAMPLE])


def text_boxes(fig: Figure) -> list[tuple[str, Bbox]]:
    fig.canvas.draw()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return [(t.get_text(), t.get_window_extent()) for t in texts]


def overlaps(fig: Figure) -> list[tuple[str, str]]:
    boxes = text_boxes(fig)
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]


def test_no_text_overlaps_another_on_the_example_history(example: Analysis) -> None:
    """The example has upgrades at the runs where changes start: the case where labels ran over them."""
    events = example.report.events
    checked = 0
    for series, verdict in example.pairs():
        fig = draw_plot(series, verdict, events)
        assert overlaps(fig) == [], verdict.key
        checked += bool(verdict.changes)
    assert checked >= 3


def test_crowded_upgrades_and_changes_are_stacked_apart(example: Analysis) -> None:
    series, verdict = next((s, v) for s, v in example.pairs() if v.changes)
    group = series.group.id
    runs = series.runs
    crowded = [
        Event(
            group,
            RunRef(runs[i].index, "", None, None),
            (Upgrade("torch", "2.11.0", f"2.12.{i}"), Upgrade("diffusers", "0.42.1", f"0.43.{i}")),
        )
        for i in range(10, 19)
    ]
    changes = tuple(
        replace(verdict.changes[0], run=runs[i], change=0.123 + i / 100) for i in (11, 12, 13, 14)
    )
    fig = draw_plot(series, replace(verdict, changes=(*verdict.changes, *changes)), crowded)
    assert overlaps(fig) == []
    texts = [text for text, _ in text_boxes(fig)]
    assert {f"u{n}" for n in range(1, 10)} <= set(texts)  # one tag per upgrade, listed under the axes
    assert any(t.startswith("u1 run 11: torch 2.12.10, diffusers 0.43.10") for t in texts)
    assert "and 3 more upgrades (zqa history lists them)" in texts
