"""Glyph checks: prompts that ask for Chinese (and English) text; OCR reads the picture; the verdict
compares what was read with what was asked. OCR runs on a CPU worker, overlapping the next generation.

The gate hands in the session model and plain values (`GlyphRun`); `read_all` generates and reads every
case once, `glyph_verdict` judges one case's reading.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zimage_qa.config import GlyphCase
from zimage_qa.errors import InvalidPicture, QAUsageError
from zimage_qa.glyphs.annotate import annotate
from zimage_qa.glyphs.calibration import calibrate
from zimage_qa.glyphs.engines import get_engine
from zimage_qa.glyphs.fontset import with_user_fonts
from zimage_qa.glyphs.judgement import glyph_verdict as judge
from zimage_qa.glyphs.reader import BackgroundReader
from zimage_qa.golden.validity import checked_picture
from zimage_qa.models.profiles import LoadedModel
from zimage_qa.options import OcrEngine
from zimage_qa.storage import confined, write_bytes_atomic
from zimage_qa.verdict import Verdict


@dataclass(frozen=True)
class GlyphRun:
    """What the glyph checks know of the run: the cases to read, the OCR engine and its model folder, the
    user's calibration fonts, the guidance, where annotated pictures go, and why the profile cannot render
    text (None when it can)."""

    cases: tuple[GlyphCase, ...]
    engine: OcrEngine
    guidance: float
    report_dir: Path
    fonts: tuple[Path, ...] = ()
    easyocr_dir: Path | None = None
    cannot_render: str | None = None


@dataclass
class GlyphReadings:
    """Every glyph case generated once, each picture handed to the OCR worker as soon as it exists;
    `unavailable` says why the family cannot run here."""

    engine: Any = None
    pictures: dict[str, tuple[Any, Future[Any] | None, str | None]] = field(default_factory=dict)
    calibrations: dict[str, Any] = field(default_factory=dict)  # per expected text: can the engine judge it?
    unavailable: str | None = None


def read_all(model: LoadedModel, run: GlyphRun) -> Iterator[GlyphReadings]:
    """The readings of every case in `run`, while the OCR worker lives (a generator: the gate's fixture)."""
    if run.cannot_render is not None:
        yield GlyphReadings(unavailable=run.cannot_render)
        return
    options = {"easyocr_model_dir": run.easyocr_dir} if run.easyocr_dir else {}
    try:
        engine = get_engine(run.engine.value, **options)
    except QAUsageError as exc:
        yield GlyphReadings(unavailable=f"OCR engine unavailable: {exc}")
        return
    fonts = with_user_fonts(run.fonts)
    readings = GlyphReadings(engine)
    with BackgroundReader(engine) as reader:
        for case in run.cases:
            # Calibrate first (renders of the text and its look-alikes in the calibration fonts): the
            # engine is judged able to read this text before it judges the model.
            readings.calibrations[case.expect] = readings.calibrations.get(case.expect) or calibrate(
                engine, case.expect, fonts
            )
            image = model.generate(case.prompt, case.width, case.height, case.steps, case.seed, run.guidance)
            try:
                checked_picture(image, case.id, model.nonfinite_output)
            except InvalidPicture as exc:  # each glyph case fails with the diagnosis, not the fixture
                readings.pictures[case.id] = (image, None, str(exc))
                continue
            readings.pictures[case.id] = (image, reader.submit(image), None)
        yield readings


def save_annotated(report_dir: Path, case_id: str, picture: Any) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    path = confined(report_dir, "glyph", case_id) / "annotated.png"
    write_bytes_atomic(path, buffer.getvalue())
    return str(path)


def glyph_verdict(readings: GlyphReadings, case: GlyphCase, report_dir: Path) -> Verdict:
    """What OCR read of the case's picture against what it asked, with the annotated picture as artefact."""
    if readings.unavailable:
        return Verdict.not_run(readings.unavailable)
    image, future, problem = readings.pictures[case.id]
    if future is None:
        return Verdict.failed(problem or "no picture")
    lines = future.result()
    verdict = judge(
        case.expect,
        lines,
        readings.calibrations[case.expect],
        min_score=case.min_score,
        engine=readings.engine.info,
    )
    annotated = save_annotated(report_dir, case.id, annotate(image, lines))
    message = f"{case.id}: {verdict.message}" + (
        f"; see {annotated}" if verdict.status.value == "failed" else ""
    )
    return verdict.with_message(message).with_artefacts(annotated=annotated)
