"""Glyphs: prompts that ask for Chinese (and English) text; OCR reads the picture; the verdict compares
what was read with what was asked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zimage_qa.checks.glyphs import GlyphReadings, GlyphRun, glyph_verdict, read_all
from zimage_qa.config import GlyphCase
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.plugin import Conclusion
from zimage_qa.session import GateSession

pytestmark = [pytest.mark.gpu, pytest.mark.glyph]


@pytest.fixture(scope="session")
def qa_glyph_readings(qa_gate: GateSession, qa_model: LoadedModel) -> Iterator[GlyphReadings]:
    """Every glyph case this run collected, generated once and read by the OCR worker."""
    wanted = qa_gate.collected_cases or {c.id for c in qa_gate.config.glyphs}
    spec, options = qa_gate.spec, qa_gate.options
    cannot = (
        None
        if spec.renders_text
        else (
            f"the {spec.profile} profile cannot render text: its weights are "
            "random, so its pictures hold no glyphs to read"
        )
    )
    run = GlyphRun(
        tuple(c for c in qa_gate.config.glyphs if c.id in wanted),
        options.ocr_engine,
        qa_gate.config.guidance,
        options.report_dir,
        qa_gate.config.glyph_fonts,
        options.easyocr_dir,
        cannot,
    )
    yield from read_all(qa_model, run)


def test_glyph_text_is_legible(
    qa_gate: GateSession, qa_glyph_readings: GlyphReadings, qa_glyph_case: GlyphCase, qa_verdict: Conclusion
) -> None:
    qa_verdict.conclude(glyph_verdict(qa_glyph_readings, qa_glyph_case, qa_gate.options.report_dir))
