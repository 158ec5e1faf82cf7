"""The verdict on hand-made OCR lines: normalisation, region finding, exactness, scores, errors."""

from __future__ import annotations

import json

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.lines import EngineInfo, TextLine
from zimage_qa.glyphs.verdict import MatchStatus, TextMatch, adjacent, judge, normalise, reading_order


def line(
    text: str, x: float, y: float, w: float = 0, h: float = 40, engine: str = "e", **kw: object
) -> TextLine:
    w = w or 40 * len(text)
    return TextLine(text, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)), 0.99, engine, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("春节 快乐\uff01", "春节快乐"),
        ("Happy New Year.", "happynewyear"),
        ("\uff28\uff21\uff30\uff30\uff39", "happy"),  # full-width Latin folds under NFKC
        ("\ufa1b", "福"),  # CJK compatibility ideograph 福 -> U+798F
        ("「福」\u200b", "福"),  # brackets and a zero-width space go
        ("¥99", "¥99"),  # symbols stay
    ],
)
def test_normalise(raw: str, norm: str) -> None:
    assert normalise(raw) == norm


def test_exact_reading_passes_with_perfect_scores() -> None:
    verdict = judge("福", [line("福", 10, 10)])
    assert verdict.passed and verdict.status is MatchStatus.PASSED
    assert (verdict.precision, verdict.recall, verdict.ned) == (1.0, 1.0, 0.0)
    assert verdict.read == "福"


@pytest.mark.parametrize(
    ("read", "precision", "recall", "ned"),
    [
        ("副", 0.0, 0.0, 1.0),  # look-alike
        ("春节乐", 1.0, 0.75, 0.25),  # dropped
        ("春节快快乐", 0.8, 1.0, 0.2),  # extra
        ("春快节乐", 0.75, 0.75, 0.5),  # swapped
    ],
)
def test_near_misses_fail_with_their_scores(read: str, precision: float, recall: float, ned: float) -> None:
    expected = "福" if read == "副" else "春节快乐"
    verdict = judge(expected, [line(read, 0, 0)])
    assert not verdict.passed and verdict.status is MatchStatus.WRONG_TEXT
    assert (verdict.precision, verdict.recall, verdict.ned) == pytest.approx((precision, recall, ned))
    assert repr(read) in verdict.reason and repr(expected) in verdict.reason


def test_no_lines_is_no_text() -> None:
    verdict = judge("福", [])
    assert verdict.status is MatchStatus.NO_TEXT and not verdict.passed and verdict.ned == 1.0


def test_punctuation_only_lines_count_as_no_text() -> None:
    assert judge("福", [line("。、", 0, 0)]).status is MatchStatus.NO_TEXT


def test_best_region_is_found_among_unrelated_lines() -> None:
    lines = [line("营业中", 0, 200, h=20), line("天香茶馆", 50, 50), line("2025", 300, 300, h=20)]
    verdict = judge("天香茶馆", lines)
    assert verdict.passed
    assert verdict.best_lines == (lines[1],)
    assert verdict.full_read == "营业中\n天香茶馆\n2025"


def test_adjacent_boxes_on_one_row_are_joined() -> None:
    verdict = judge("春节快乐", [line("快乐", 100, 0), line("春节", 0, 2)])  # given out of order
    assert verdict.passed and verdict.read == "春节快乐"


def test_stacked_lines_are_joined_top_to_bottom() -> None:
    verdict = judge("未来已来", [line("已来", 0, 50), line("未来", 5, 0)])
    assert verdict.passed and verdict.read == "未来已来"


def test_distant_boxes_are_not_joined() -> None:
    verdict = judge("春节快乐", [line("春节", 0, 0), line("快乐", 600, 400)])
    assert not verdict.passed and verdict.recall == 0.5


def test_extra_character_in_the_same_line_fails() -> None:
    assert not judge("福", [line("福福", 0, 0)]).passed


def test_latin_case_and_spacing_do_not_matter() -> None:
    assert judge("Happy New Year", [line("HAPPY", 0, 0), line("NEWYEAR", 220, 0)]).passed


def test_min_score_softens_the_rule_for_long_texts() -> None:
    expected = "欢迎光临天香茶馆春节快乐"  # 12 characters, one misread
    lines = [line("欢迎光临天香荼馆春节快乐", 0, 0)]
    assert not judge(expected, lines).passed
    soft = judge(expected, lines, min_score=0.9)
    assert soft.passed and soft.similarity == pytest.approx(11 / 12)
    assert not judge(expected, lines, min_score=0.95).passed


def test_engines_are_judged_apart_and_the_best_reading_wins() -> None:
    a = line("春节", 0, 0, engine="a")
    b = line("快乐", 80, 0, engine="b")  # would complete a's line if engines were mixed
    c = line("春节快乐", 0, 0, engine="b")
    assert not judge("春节快乐", [a, b]).passed
    verdict = judge("春节快乐", [a, b, c])
    assert verdict.passed and verdict.best_lines == (c,)


@pytest.mark.parametrize("expected", ["", "   ", "。\uff01\uff1f", "\u200b"])
def test_empty_expected_text_is_a_usage_error(expected: str) -> None:
    with pytest.raises(QAUsageError, match="empty"):
        judge(expected, [])


def test_absurd_expected_text_is_a_usage_error() -> None:
    with pytest.raises(QAUsageError, match="more than"):
        judge("福" * 301, [])
    with pytest.raises(QAUsageError, match="string"):
        judge(None, [])  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, True, "0.9"])
def test_bad_min_score_is_a_usage_error(bad: object) -> None:
    with pytest.raises(QAUsageError, match="min_score"):
        judge("福", [], min_score=bad)  # type: ignore[arg-type]


def test_verdict_is_frozen_and_serialises() -> None:
    info = EngineInfo("e", "1.0", {"m.onnx": "ab"})
    verdict = judge("福", [line("福", 0, 0)], engine=info)
    with pytest.raises(AttributeError):
        verdict.read = "x"  # type: ignore[misc]
    data = json.loads(json.dumps(verdict.to_dict(), ensure_ascii=False))
    assert data["passed"] is True and data["engine"]["model_hashes"] == {"m.onnx": "ab"}
    assert data["best_lines"][0]["text"] == "福"


def test_not_run_is_never_a_pass() -> None:
    verdict = TextMatch.not_run("福", "the reference profile cannot render text")
    assert verdict.status is MatchStatus.NOT_RUN and not verdict.passed


def test_reading_order_and_adjacency() -> None:
    right, left, below = line("B", 60, 2), line("A", 0, 0), line("C", 0, 50)
    assert reading_order([below, right, left]) == [left, right, below]
    assert adjacent(left, right) and adjacent(left, below)
    assert not adjacent(left, line("D", 500, 0)) and not adjacent(left, line("E", 0, 300))
