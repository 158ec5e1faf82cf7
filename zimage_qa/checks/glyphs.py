"""Glyph checks: prompts that ask for Chinese (and English) text; OCR reads the picture; the verdict
compares what was read with what was asked. OCR runs on a CPU worker, overlapping the next generation."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from zimage_qa.config import GlyphCase
from zimage_qa.errors import QAUsageError
from zimage_qa.picture import InvalidPicture, checked_picture
from zimage_qa.session import GateSession
from zimage_qa.storage import confined, write_bytes_atomic
from zimage_qa.verdict import Verdict


@dataclass
class GlyphReadings:
    """Every glyph case generated once, each picture handed to the OCR worker as soon as it exists;
    `unavailable` says why the family cannot run here."""

    engine: Any = None
    pictures: dict[str, tuple[Any, Future[Any] | None, str | None]] = field(default_factory=dict)
    calibrations: dict[str, Any] = field(default_factory=dict)  # per expected text: can the engine judge it?
    unavailable: str | None = None


def read_all(gate: GateSession) -> Iterator[GlyphReadings]:
    if not gate.spec.renders_text:
        yield GlyphReadings(unavailable=f"the {gate.spec.profile} profile cannot render text: its weights are "
                                        "random, so its pictures hold no glyphs to read")  # fmt: skip
        return
    from zimage_qa.glyphs.engines import get_engine
    from zimage_qa.glyphs.reader import BackgroundReader

    options = {"easyocr_model_dir": gate.options.easyocr_dir} if gate.options.easyocr_dir else {}
    try:
        engine = get_engine(gate.options.ocr_engine.value, **options)
    except QAUsageError as exc:
        yield GlyphReadings(unavailable=f"OCR engine unavailable: {exc}")
        return
    from zimage_qa.glyphs.calibration import calibrate
    from zimage_qa.glyphs.fontset import with_user_fonts

    fonts = with_user_fonts(gate.config.glyph_fonts)
    model = gate.model()
    readings = GlyphReadings(engine)
    with BackgroundReader(engine) as reader:
        wanted = gate.collected_cases or {c.id for c in gate.config.glyphs}
        for case in (c for c in gate.config.glyphs if c.id in wanted):
            # Calibrate first (renders of the text and its look-alikes in the calibration fonts): the
            # engine is judged able to read this text before it judges the model.
            readings.calibrations[case.expect] = readings.calibrations.get(case.expect) or calibrate(
                engine, case.expect, fonts
            )
            image = model.generate(
                case.prompt, case.width, case.height, case.steps, case.seed, gate.config.guidance
            )
            try:
                checked_picture(model, image, case.id)
            except InvalidPicture as exc:  # each glyph case fails with the diagnosis, not the fixture
                readings.pictures[case.id] = (image, None, str(exc))
                continue
            readings.pictures[case.id] = (image, reader.submit(image), None)
        yield readings


def save_annotated(gate: GateSession, case_id: str, picture: Any) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    path = confined(gate.options.report_dir, "glyph", case_id) / "annotated.png"
    write_bytes_atomic(path, buffer.getvalue())
    return str(path)


def glyph_verdict(gate: GateSession, readings: GlyphReadings, case: GlyphCase) -> Verdict:
    if readings.unavailable:
        return Verdict.not_run(readings.unavailable)
    from zimage_qa.glyphs.annotate import annotate
    from zimage_qa.glyphs.judgement import glyph_verdict as judge

    image, future, problem = readings.pictures[case.id]
    if future is None:
        return Verdict.failed(problem or "no picture")
    lines = future.result()
    verdict = judge(case.expect, lines, readings.calibrations[case.expect], min_score=case.min_score,
                    engine=readings.engine.info)  # fmt: skip
    annotated = save_annotated(gate, case.id, annotate(image, lines))
    message = f"{case.id}: {verdict.message}" + (
        f"; see {annotated}" if verdict.status.value == "failed" else ""
    )
    return verdict.with_message(message).with_artefacts(annotated=annotated)
