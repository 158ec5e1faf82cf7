"""Glyph checks on plain values: what an engine read against what the case asked (a judgeable calibration
given), an invalid picture fails its own case, and a profile that cannot render text is not run."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from check_values import Pipe, model, noise
from PIL import Image

from zimage_qa.checks import glyphs
from zimage_qa.checks.glyphs import GlyphReadings, GlyphRun, glyph_verdict, read_all
from zimage_qa.config import GlyphCase
from zimage_qa.glyphs.calibration import Calibration, CalibrationStatus, EngineCalibration
from zimage_qa.glyphs.lines import EngineInfo, TextLine
from zimage_qa.options import OcrEngine
from zimage_qa.verdict import Status

CASE = GlyphCase("sign", "a sign that reads 春节", 128, 128, 9, 7, 9, expect="春节")
BOX = ((10.0, 10.0), (90.0, 10.0), (90.0, 50.0), (10.0, 50.0))


class Engine:
    """Reads `text` in any picture."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.info = EngineInfo("fake", "1", {})

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        return (TextLine(self.text, BOX, 0.95, "fake"),)


def judgeable(expected: str) -> Calibration:
    engine = EngineCalibration("fake", expected, CalibrationStatus.JUDGEABLE, "reads every render", 4, 4, 4)
    return Calibration(expected, (engine,))


def readings(read: str) -> GlyphReadings:
    future: Future[tuple[TextLine, ...]] = Future()
    future.set_result((TextLine(read, BOX, 0.95, "fake"),))
    picture = Image.new("RGB", (128, 128), (230, 220, 200))
    return GlyphReadings(Engine(read), {CASE.id: (picture, future, None)}, {"春节": judgeable("春节")})


def test_the_text_asked_for_passes_with_the_annotated_picture(tmp_path: Path) -> None:
    verdict = glyph_verdict(readings("春节"), CASE, tmp_path)
    assert verdict.status is Status.PASSED, verdict.message
    assert verdict.message.startswith("sign: ") and Path(verdict.artefacts["annotated"]).is_file()


def test_other_text_fails_naming_the_annotated_picture(tmp_path: Path) -> None:
    verdict = glyph_verdict(readings("春天"), CASE, tmp_path)
    assert verdict.status is Status.FAILED and f"see {tmp_path}" in verdict.message


def test_a_family_that_cannot_run_here_is_not_run(tmp_path: Path) -> None:
    run = GlyphRun((CASE,), OcrEngine.RAPIDOCR, 0.0, tmp_path, cannot_render="the synthetic profile cannot")
    (unavailable,) = read_all(model(), run)
    verdict = glyph_verdict(unavailable, CASE, tmp_path)
    assert verdict.status is Status.NOT_RUN and verdict.message == "the synthetic profile cannot"


def test_each_case_is_generated_once_and_an_invalid_picture_fails_its_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(glyphs, "get_engine", lambda name, **options: Engine("春节"))
    monkeypatch.setattr(glyphs, "calibrate", lambda engine, expected, fonts: judgeable(expected))
    black = CASE.__class__("dark", "a sign at night", 128, 128, 9, 8, 9, expect="春节")
    pipe = Pipe(
        picture=lambda s, w, h, n: np.zeros((h, w, 3), np.uint8) if s == black.seed else noise(s, w, h)
    )
    run = GlyphRun((CASE, black), OcrEngine.RAPIDOCR, 0.0, tmp_path)
    for read in read_all(model(pipe), run):
        assert glyph_verdict(read, CASE, tmp_path).status is Status.PASSED
        dark = glyph_verdict(read, black, tmp_path)
        assert dark.status is Status.FAILED and "invalid picture for dark" in dark.message
    assert pipe.calls == 2
