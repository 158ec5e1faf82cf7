"""Fixtures for the glyph tests: each OCR engine loaded once for the whole session (about 1 s each),
and a disk cache (`zimage_qa.glyphs.cache`) of each test's own, empty at its start, so that no test reads a
calibration another test, or an earlier run, left behind."""

from __future__ import annotations

import pytest

from zimage_qa.glyphs.ppocr4 import PpOcrV4Engine
from zimage_qa.glyphs.rapid import RapidOcrEngine


@pytest.fixture(scope="session")
def rapid_engine() -> RapidOcrEngine:
    return RapidOcrEngine()


@pytest.fixture(scope="session")
def ppocr4_engine() -> PpOcrV4Engine:
    return PpOcrV4Engine()


@pytest.fixture(autouse=True)
def _own_disk_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
