"""Held-out evaluation of the glyph verdict: renders in fonts the project does NOT ship.

Correct texts and near misses (a look-alike swapped in from the confusable table, a dropped, extra
or swapped character, unrelated text, no text) are rendered in six Debian CJK fonts, each as a small
scene (cluttered background, rotation, blur, JPEG) and every other one also on a 1024x1024 canvas,
the size the model renders, with the text 28-150 px high somewhere on it. Every render is read by
the default engine (PP-OCRv6) through its full pipeline, text detection included, and judged by
`glyph_verdict` with the engine's calibration, which uses only the bundled fonts. A NOT_RUN verdict
("cannot be judged") counts as not accepted: wrong for a correct render, right for a near miss.
Nothing is excluded: look-alikes the engine cannot see, and text it does not find, are in every
figure. One engine serves the whole session; each text is calibrated once (about 60-90 s in all
on 2 cores).

The fonts come from Debian packages (the test skips, naming them, when they are missing):
    apt-get install -y fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-gkai00mp \\
        fonts-arphic-gbsn00lp fonts-lxgw-wenkai fonts-droid-fallback
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from glyph_render import render

from zimage_qa.glyphs.calibration import calibrate
from zimage_qa.glyphs.confusables import substitutions
from zimage_qa.glyphs.judgement import glyph_verdict
from zimage_qa.glyphs.rapid import RapidOcrEngine
from zimage_qa.verdict import Status

MIN_RIGHT = 0.97
MIN_CORRECT_ACCEPTED = 0.97
MIN_NEAR_MISS_REJECTED = 0.95

# name -> (file, face index): none of them is a source of the bundled subsets (Noto CJK, AR PL U*)
HELD_OUT_FONTS: dict[str, tuple[str, int]] = {
    "wqy-zenhei": ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    "wqy-microhei": ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    "gkai00mp": ("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf", 0),
    "gbsn00lp": ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
    "lxgw-wenkai": ("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0),
    "droid-fallback": ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
}
APT = "fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-gkai00mp fonts-arphic-gbsn00lp fonts-lxgw-wenkai fonts-droid-fallback"

# the shipped cases (zimage_qa/default_config.toml) and four more with known look-alike traps
TEXTS: tuple[str, ...] = (
    "福",
    "春节快乐",
    "老街茶馆",
    "书法",
    "灯笼节",
    "OPEN LATE",
    "天香茶馆",
    "汉服",
    "未来已来",
    "Happy New Year",
)
UNRELATED: tuple[str, ...] = ("欢迎光临", "恭喜发财", "营业中", "CLOSED")
OTHER_KINDS: tuple[str, ...] = ("dropped", "extra", "swapped", "unrelated", "no text")
CANVAS = 1024  # the model's usual picture size


@dataclass(frozen=True)
class Sample:
    expected: str
    rendered: str
    kind: str  # "correct" or a near-miss kind
    font: str
    pair: str = ""  # the look-alike pair, for look-alike near misses
    canvas: int = 0  # 0: a small scene around the text; else the side of a square picture


@dataclass(frozen=True)
class Outcome:
    sample: Sample
    status: Status
    read: str
    message: str

    @property
    def right(self) -> bool:
        return (self.status is Status.PASSED) == (self.sample.kind == "correct")


def _positions(text: str) -> list[int]:
    return [i for i, ch in enumerate(text) if not ch.isspace()]


def _near_miss(text: str, kind: str, k: int) -> str:
    slots = _positions(text)
    i = slots[k % len(slots)]
    if kind == "dropped" and len(slots) > 1:
        return text[:i] + text[i + 1 :]
    if kind == "swapped" and len(slots) > 1:
        a, b = slots[k % (len(slots) - 1)], slots[k % (len(slots) - 1) + 1]
        chars = list(text)
        chars[a], chars[b] = chars[b], chars[a]
        return "".join(chars) if "".join(chars) != text else text + text[a]
    if kind == "unrelated":
        return UNRELATED[k % len(UNRELATED)]
    if kind == "no text":
        return ""
    return text[: i + 1] + text[i] + text[i + 1 :]  # extra (and dropped/swapped of one character)


def _draws(font: str, text: str) -> bool:
    """The font has a glyph for every character (Droid Sans Fallback has no Latin: it would draw boxes)."""
    from fontTools.ttLib import TTFont

    path, index = HELD_OUT_FONTS[font]
    cmap = (
        TTFont(path, fontNumber=index).getBestCmap() if path.endswith(".ttc") else TTFont(path).getBestCmap()
    )
    return all(ord(ch) in cmap for ch in text if not ch.isspace())


def samples(fonts: list[str]) -> list[Sample]:
    """Per text and font: the correct render, a look-alike and one other near miss (kinds rotate);
    only renders the font can draw (no boxes in place of missing glyphs)."""
    found = []
    for t, text in enumerate(TEXTS):
        alikes = substitutions(text)
        for f, font in enumerate(fonts):
            found.append(Sample(text, text, "correct", font))
            sub = alikes[(f + t) % len(alikes)]
            found.append(Sample(text, sub.text, "look-alike", font, sub.pair))
            kind = OTHER_KINDS[(f + 2 * t) % len(OTHER_KINDS)]
            found.append(Sample(text, _near_miss(text, kind, f + t), kind, font))
    return [sample for sample in found if _draws(sample.font, sample.rendered)]


def _available() -> list[str]:
    return [name for name, (path, _) in HELD_OUT_FONTS.items() if Path(path).is_file()]


def _table(outcomes: list[Outcome]) -> str:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.sample.kind].append(o)
        groups[f"font {o.sample.font}"].append(o)
        groups[f"scene {o.sample.canvas}x{o.sample.canvas}" if o.sample.canvas else "scene small"].append(o)
        if o.sample.pair:
            groups[f"pair {o.sample.pair}"].append(o)
    rows = ["held-out glyph verdict (rapidocr PP-OCRv6, fonts not shipped): share right"]
    for key in sorted(groups, key=lambda k: (k.split(" ")[0] in ("font", "pair", "scene"), k)):
        items = groups[key]
        rows.append(f"  {key:<24} {sum(o.right for o in items):>4}/{len(items):<4} {_rate(items):6.1%}")
    rows += [
        f"  wrong: {o.sample.kind} {o.sample.font} {o.sample.canvas or 'small'}: expected {o.sample.expected!r}, rendered "
        f"{o.sample.rendered!r}, {o.status.value}, read {o.read!r}: {o.message[:160]}"
        for o in outcomes
        if not o.right
    ]
    return "\n".join(rows)


def _rate(outcomes: list[Outcome]) -> float:
    return sum(o.right for o in outcomes) / len(outcomes) if outcomes else 0.0


def renders(fonts: list[str]) -> list[Sample]:
    """Every sample as a small scene, and every other one also on a 1024x1024 canvas."""
    scenes = samples(fonts)
    return [*scenes, *(replace(sample, canvas=CANVAS) for sample in scenes[::2])]


def evaluate(engine: RapidOcrEngine, fonts: list[str]) -> list[Outcome]:
    outcomes = []
    for n, sample in enumerate(renders(fonts)):
        path, index = HELD_OUT_FONTS[sample.font]
        image = render(sample.rendered, Path(path), 1000 + n, strong=n % 3 == 2, index=index,
                       distractor="2025" * (n % 4 == 1), canvas=sample.canvas)  # fmt: skip
        verdict = glyph_verdict(sample.expected, engine.read(image), calibrate(engine, sample.expected))
        outcomes.append(Outcome(sample, verdict.status, str(verdict.values.get("read", "")), verdict.message))
    return outcomes


def test_held_out_fonts_are_judged_right(
    rapid_engine: RapidOcrEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    fonts = _available()
    if len(fonts) < len(HELD_OUT_FONTS):
        missing = sorted(set(HELD_OUT_FONTS) - set(fonts))
        pytest.skip(f"held-out fonts {missing} are not installed; apt-get install -y {APT}")
    outcomes = evaluate(rapid_engine, fonts)
    correct = [o for o in outcomes if o.sample.kind == "correct"]
    near = [o for o in outcomes if o.sample.kind != "correct"]
    table = _table(outcomes) + (
        f"\n  overall {_rate(outcomes):.1%}, correct accepted {_rate(correct):.1%}, "
        f"near misses rejected {_rate(near):.1%} ({len(outcomes)} renders)"
    )
    with capsys.disabled():
        print("\n" + table)
    assert {o.sample.kind for o in near} == {"look-alike", *OTHER_KINDS}
    assert {o.sample.canvas for o in outcomes} == {0, CANVAS}
    assert _rate(outcomes) >= MIN_RIGHT, table
    assert _rate(correct) >= MIN_CORRECT_ACCEPTED, table
    assert _rate(near) >= MIN_NEAR_MISS_REJECTED, table
