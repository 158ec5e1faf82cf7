"""Calibration of the glyph verdict with the default engine, on rendered pictures.

Each expected text is rendered correctly and as near misses of every kind (look-alike, dropped,
extra, swapped, unrelated, no text) in five committed CJK font subsets (sans, sans bold, serif,
kai, ming), over cluttered backgrounds, rotated, blurred and JPEG-compressed. At least 97% of the
correct renders must pass and at least 90% of the near misses must fail, not counting the
look-alikes the engine cannot tell apart even on clean renders (glyph_cases.ENGINE_BLIND_SPOTS),
whose rate is printed beside the others, by kind and by font.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pytest
from fontTools.ttLib import TTFont
from glyph_cases import ENGINE_BLIND_SPOTS, EXPECTED, KINDS, NEAR_MISSES, all_characters
from glyph_render import FONTS, render

from qa.glyphs.rapid import RapidOcrEngine
from qa.glyphs.verdict import judge

MIN_CORRECT_PASS = 0.97
MIN_NEAR_MISS_FAIL = 0.90


@dataclass(frozen=True)
class Outcome:
    kind: str  # "correct" or a near-miss kind
    font: str
    expected: str
    rendered: str
    read: str
    passed: bool
    doubts: tuple[str, ...] = ()

    @property
    def right(self) -> bool:
        """The verdict did what it should: pass a correct render, fail a near miss."""
        return self.passed == (self.kind == "correct")


@pytest.mark.parametrize("font", sorted(FONTS))
def test_font_subsets_cover_every_calibration_character(font: str) -> None:
    cmap = TTFont(FONTS[font]).getBestCmap()
    missing = [ch for ch in all_characters() + " " if ord(ch) not in cmap]
    assert not missing, f"{FONTS[font].name} lacks {missing}: rerun tests/fonts/make_subsets.py"


def _outcomes(engine: RapidOcrEngine) -> list[Outcome]:
    outcomes = []
    for f, font in enumerate(sorted(FONTS)):
        for expected in EXPECTED.values():
            for variant in range(3):  # plain, with a distractor, strongly degraded
                image = render(
                    expected, font, variant, distractor="营业中" * (variant == 1), strong=variant == 2
                )
                verdict = judge(expected, engine.read(image))
                outcomes.append(
                    Outcome("correct", font, expected, expected, verdict.read, verdict.passed, verdict.doubts)
                )
        for n, (case, text, kind) in enumerate(NEAR_MISSES):
            expected = EXPECTED[case]
            image = render(
                text, font, 100 + n, distractor="2025" * ((f + n) % 3 == 0), strong=(f + n) % 2 == 1
            )
            verdict = judge(expected, engine.read(image))
            kind = "blind spot" if text in ENGINE_BLIND_SPOTS else kind
            outcomes.append(Outcome(kind, font, expected, text, verdict.read, verdict.passed, verdict.doubts))
    return outcomes


def _rate(outcomes: list[Outcome]) -> float:
    return sum(o.right for o in outcomes) / len(outcomes)


def _table(outcomes: list[Outcome]) -> str:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.kind].append(o)
        groups[f"font {o.font}: correct" if o.kind == "correct" else f"font {o.font}: near misses"].append(o)
    rows = ["glyph calibration (rapidocr): share of verdicts right (correct passes, near misses fail)"]
    for key in ("correct", *KINDS, "blind spot", *sorted(k for k in groups if k.startswith("font "))):
        items = groups[key]
        rows.append(f"  {key:<28} {sum(o.right for o in items):>4}/{len(items):<4} {_rate(items):6.1%}")
    wrong = [o for o in outcomes if not o.right]
    rows += [
        f"  wrong: {o.kind} {o.font}: expected {o.expected!r}, rendered {o.rendered!r}, read {o.read!r}"
        + (f", in doubt: {'; '.join(o.doubts)}" if o.doubts else "")
        for o in wrong
    ]
    return "\n".join(rows)


def test_calibration_rates(rapid_engine: RapidOcrEngine, capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = _outcomes(rapid_engine)
    correct = [o for o in outcomes if o.kind == "correct"]
    near = [o for o in outcomes if o.kind not in ("correct", "blind spot")]
    everything = [o for o in outcomes if o.kind != "correct"]
    table = _table(outcomes) + f"\n  near misses, blind spots included: {_rate(everything):.1%}"
    with capsys.disabled():
        print("\n" + table)
    assert {o.kind for o in near} == set(KINDS)
    assert _rate(correct) >= MIN_CORRECT_PASS, table
    assert _rate(near) >= MIN_NEAR_MISS_FAIL, table
