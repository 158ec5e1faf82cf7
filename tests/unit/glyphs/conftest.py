"""Fixtures for the glyph tests: one loaded OCR engine for the whole session (loading takes ~1 s)."""

from __future__ import annotations

import pytest

from qa.glyphs.rapid import RapidOcrEngine


@pytest.fixture(scope="session")
def rapid_engine() -> RapidOcrEngine:
    return RapidOcrEngine()
