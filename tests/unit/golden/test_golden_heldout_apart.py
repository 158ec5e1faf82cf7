"""The set apart: pictures, sizes and perturbation strengths never used to fit, judged with the defaults.

Other scikit-image photographs (colour and black-and-white), other drawn scenes (a printed page, a
pencil sketch, a grey sea, a night sky), generator sizes (768 x 768, 1024 x 768, 1024 x 1024, 640 x 640)
and other strengths of each change; see `golden_labelled_set.apart_pairs`. Run with `-s` for the figures.
"""

from __future__ import annotations

import pytest
from golden_labelled_set import APART_SOURCES, FIT_SOURCES, apart_pairs
from heldout_fitting import Measured, Rates, closing_note, judge, measured

from zimage_qa.golden.thresholds import Thresholds


@pytest.fixture(scope="module")
def judged() -> list[tuple[Measured, bool]]:
    shipped = Thresholds()
    return [(item, judge(item, shipped)) for item in measured(apart_pairs())]


def test_the_set_apart_shares_no_picture_with_the_fit() -> None:
    fitted = {source.name for source in FIT_SOURCES}
    assert not fitted & {source.name for source in APART_SOURCES}
    assert {source.group for source in APART_SOURCES} >= {
        "colour",
        "black-and-white",
        "ink on paper",
        "night",
    }


def test_the_set_apart_reaches_the_rates(judged: list[tuple[Measured, bool]]) -> None:
    invisible = sum(len(source.invisible) for source in APART_SOURCES)
    print(
        "\n" + closing_note(f"set apart, shipped thresholds ({invisible} pairs not made: invisible):", judged)
    )
    overall = Rates.of(judged)
    low_chroma = Rates.of([j for j in judged if j[0].low_chroma])
    assert overall.accuracy >= 0.97
    assert overall.kept_rate >= 0.98
    assert low_chroma.kept_rate >= 0.98
