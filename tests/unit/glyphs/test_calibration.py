"""Engine self-calibration and the gate's glyph verdict: the bundled fonts and look-alike table, the
calibration's decisions on scripted engines, the verdict built on it, and the real engines on the
shipped glyph cases (the table printed here is the one in the changelog)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import tomllib
from fontTools.ttLib import TTFont
from scripted_engine import Scripted, tag_renders

import zimage_qa.glyphs.calibration as calibration
from zimage_qa.glyphs.calibration import CalibrationStatus, calibrate
from zimage_qa.glyphs.confusables import look_alikes, substitutions, table
from zimage_qa.glyphs.judgement import glyph_verdict
from zimage_qa.glyphs.lines import CombinedEngine, TextLine
from zimage_qa.glyphs.ppocr4 import PpOcrV4Engine
from zimage_qa.glyphs.rapid import RapidOcrEngine
from zimage_qa.glyphs.render import FONT_FILES, coverage, font_path, render_line
from zimage_qa.verdict import Status

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = [
    c["expect"]
    for c in tomllib.loads((ROOT / "zimage_qa" / "default_config.toml").read_text("utf-8"))["glyphs"]
]
BOX = ((0.0, 0.0), (100.0, 0.0), (100.0, 40.0), (0.0, 40.0))


@pytest.mark.parametrize("style", sorted(FONT_FILES))
def test_bundled_fonts_cover_the_shipped_cases_and_their_look_alikes(style: str) -> None:
    cmap = TTFont(font_path(style)).getBestCmap()
    assert not [ch for ch in coverage() if ord(ch) not in cmap], "rerun tests/fonts/make_subsets.py"
    wanted = "".join(SHIPPED) + "".join(table())
    assert not [ch for ch in wanted if not ch.isspace() and ch not in coverage()]


def test_look_alike_table_is_symmetric_and_case_sensitive() -> None:
    assert "副" in look_alikes("福") and "福" in look_alikes("副")
    assert {"已", "巳"} <= set(look_alikes("己")) and "天" in look_alikes("夭")
    assert all(ch in look_alikes(other) for ch, others in table().items() for other in others)
    assert look_alikes("i") == () and "l" in look_alikes("I")
    assert "0" not in look_alikes("O")  # drawn alike in many fonts: no engine tells them apart in a word
    assert [s.text for s in substitutions("茶馆")] == ["荼馆", "茶倌"]
    assert substitutions("茶馆")[0].pair == "荼/茶"


def test_renders_are_reproducible_and_differ_by_seed() -> None:
    a, b, c = render_line("福", "kai", 0), render_line("福", "kai", 0), render_line("福", "kai", 1)
    assert a.tobytes() == b.tobytes() and a.tobytes() != c.tobytes()
    assert a.height < 80 and a.width < 120  # small canvases: calibration must stay fast


@pytest.fixture(autouse=True)
def tagged_renders(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Scripted engines need to know what a render shows: tag each one with its text."""
    return tag_renders(monkeypatch)


def test_an_engine_that_reads_everything_can_judge() -> None:
    result = calibrate(Scripted(), "天香茶馆").engines[0]
    assert result.status is CalibrationStatus.JUDGEABLE and result.read_rate == 1.0
    assert result.rejected == len(result.look_alikes) == len(substitutions("天香茶馆")) > 0
    assert result.renders == len(FONT_FILES) * calibration.RENDERS_PER_FONT


def test_an_engine_blind_to_a_look_alike_cannot_judge() -> None:
    engine = Scripted(confuse={"夭香茶馆": ("天香茶馆", 0.98)})
    result = calibrate(engine, "天香茶馆")
    assert not result.judgeable
    assert result.engines[0].reason == "cannot be judged with this engine (it reads 夭 as 天)"
    assert [a.substitution.pair for a in result.engines[0].blind_spots] == ["夭/天"]


def test_a_look_alike_told_apart_by_score_leaves_the_text_judgeable() -> None:
    engine = Scripted(confuse={"夭香茶馆": ("天香茶馆", 0.55)})
    result = calibrate(engine, "天香茶馆").engines[0]
    assert result.judgeable and result.blind_spots == ()
    (threshold,) = result.thresholds
    assert (threshold.char, threshold.index, threshold.pairs) == ("天", 0, ("夭/天",))
    assert threshold.look_alike == pytest.approx(0.55) and 0.55 < threshold.score < 0.99


def test_an_engine_that_cannot_read_the_text_cannot_judge() -> None:
    result = calibrate(Scripted(confuse={"书法": ("书去", 0.4)}), "书法").engines[0]
    assert result.status is CalibrationStatus.CANNOT_JUDGE and result.read_exactly == 0
    assert "reads '书法' exactly in only 0 of 10 renders (else '书去')" in result.reason


def test_a_text_the_bundled_fonts_lack_cannot_be_calibrated() -> None:
    result = calibrate(Scripted(), "龘").engines[0]
    assert not result.judgeable and "lack 龘" in result.reason


def test_calibration_is_cached_per_engine_models_and_text() -> None:
    engine = Scripted()
    first = calibrate(engine, "福")
    assert calibrate(engine, "福") == first and engine.calls == 1
    calibrate(engine, "书法")
    assert engine.calls == 2


def _lines(text: str, engine: str = "scripted", score: float = 0.99) -> tuple[TextLine, ...]:
    chars = tuple((ch, score) for ch in text if not ch.isspace())
    return (TextLine(text, BOX, score, engine, chars),)


def test_verdict_passes_an_exact_reading_and_fails_another_with_both_texts() -> None:
    cal = calibrate(Scripted(), "福")
    passed = glyph_verdict("福", _lines("福"), cal)
    assert passed.status is Status.PASSED and passed.values["read"] == "福"
    assert passed.values["calibration"]["judgeable"] is True
    failed = glyph_verdict("福", _lines("副"), cal)
    assert failed.status is Status.FAILED and "'福'" in failed.message and "'副'" in failed.message
    assert glyph_verdict("福", (), cal).status is Status.FAILED


def test_verdict_is_not_run_when_the_engine_cannot_judge() -> None:
    cal = calibrate(Scripted(confuse={"夭香茶馆": ("天香茶馆", 0.98)}), "天香茶馆")
    verdict = glyph_verdict("天香茶馆", _lines("天香茶馆"), cal)
    assert verdict.status is Status.NOT_RUN
    assert verdict.message == "cannot be judged with this engine (it reads 夭 as 天)"


def test_a_low_score_on_a_look_alike_character_fails() -> None:
    cal = calibrate(Scripted(confuse={"夭香茶馆": ("天香茶馆", 0.55)}), "天香茶馆")
    low = (
        TextLine("天香茶馆", BOX, 0.8, "scripted", (("天", 0.6), ("香", 0.99), ("茶", 0.99), ("馆", 0.99))),
    )
    verdict = glyph_verdict("天香茶馆", low, cal)
    assert verdict.status is Status.FAILED and "天 has a score of 0.60" in verdict.message
    assert verdict.values["doubts"] and "夭/天" in verdict.values["doubts"][0]
    assert glyph_verdict("天香茶馆", _lines("天香茶馆"), cal).status is Status.PASSED


def test_with_two_engines_the_judgeable_one_decides() -> None:
    blind = Scripted("v4", confuse={"荼馆": ("茶馆", 0.99)})
    sharp = Scripted("v6")
    cal = calibrate(CombinedEngine((sharp, blind)), "茶馆")
    assert [e.judgeable for e in cal.engines] == [True, False] and cal.judgeable
    lines = _lines("茶馆", "v6") + _lines("茶馆", "v4")
    assert glyph_verdict("茶馆", lines, cal).status is Status.PASSED
    wrong = _lines("荼馆", "v6") + _lines("茶馆", "v4")  # v4's reading cannot rescue a failure
    assert glyph_verdict("茶馆", wrong, cal).status is Status.FAILED
    none = calibrate(CombinedEngine((blind,)), "茶馆")
    assert glyph_verdict("茶馆", _lines("茶馆", "v4"), none).status is Status.NOT_RUN


def test_min_score_cases_ignore_look_alike_blind_spots() -> None:
    cal = calibrate(Scripted(confuse={"夭香茶馆": ("天香茶馆", 0.98)}), "天香茶馆")
    assert glyph_verdict("天香茶馆", _lines("天香茶馆"), cal, min_score=0.7).status is Status.PASSED


def _table_row(result: calibration.EngineCalibration) -> str:
    blind = ", ".join(a.substitution.pair for a in result.blind_spots) or "-"
    return (f"  {result.engine:<9} {result.expected:<10} read {result.read_exactly:>2}/{result.renders:<3} "
            f"look-alikes rejected {result.rejected}/{len(result.look_alikes):<3} blind: {blind:<12} "
            f"{result.status.value} ({result.seconds:.2f} s)")  # fmt: skip


def test_shipped_cases_calibrate_on_the_real_engines(
    tagged_renders: Callable[[], None],
    rapid_engine: RapidOcrEngine,
    ppocr4_engine: PpOcrV4Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tagged_renders()  # real renders for real engines
    results = [
        calibrate(engine, text).engines[0] for engine in (rapid_engine, ppocr4_engine) for text in SHIPPED
    ]
    with capsys.disabled():
        print("\nengine self-calibration of the shipped glyph cases\n" + "\n".join(map(_table_row, results)))
    assert all(r.read_rate >= calibration.MIN_READ_RATE for r in results)
    assert all(
        r.reason.startswith(("judgeable", "cannot be judged with this engine (it reads ")) for r in results
    )
    default = [r for r in results if r.engine == "rapidocr"]
    assert sum(r.seconds for r in default) < 30  # about 1-2 s a case on 2 idle cores
