"""Glyphs: prompts that ask for Chinese (and English) text; OCR reads the picture; the verdict compares
what was read with what was asked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zimage_qa.checks.glyphs import GlyphReadings, glyph_verdict, read_all
from zimage_qa.config import GlyphCase
from zimage_qa.plugin import Conclusion
from zimage_qa.session import GateSession

pytestmark = [pytest.mark.gpu, pytest.mark.glyph]


@pytest.fixture(scope="session")
def qa_glyph_readings(qa_gate: GateSession) -> Iterator[GlyphReadings]:
    yield from read_all(qa_gate)


def test_glyph_text_is_legible(
    qa_gate: GateSession, qa_model: object, qa_glyph_readings: GlyphReadings, qa_glyph_case: GlyphCase,
    qa_verdict: Conclusion,
) -> None:  # fmt: skip
    qa_verdict.conclude(glyph_verdict(qa_gate, qa_glyph_readings, qa_glyph_case))
