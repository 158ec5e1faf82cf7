"""Glyphs: prompts that ask for Chinese (and English) text; OCR reads the picture; the verdict compares
what was read with what was asked. OCR runs on a CPU worker, overlapping the next generation."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from qa.checks import Check
from qa.config import GlyphCase
from qa.errors import QAUsageError
from qa.session import GateSession, InvalidPicture, checked_picture
from qa.storage import confined, write_bytes_atomic

pytestmark = [pytest.mark.gpu, pytest.mark.glyph]

Reading = tuple[Any, "Future[Any] | None", "str | None"]  # picture, OCR lines, why it cannot be read


@pytest.fixture(scope="session")
def glyph_readings(qa_gate: GateSession) -> Iterator[tuple[Any, dict[str, Reading]] | str]:
    """Every glyph case generated once, each picture handed to the OCR worker as soon as it exists.
    A string instead means the family cannot run here, and says why."""
    if not qa_gate.spec.renders_text:
        yield (f"the {qa_gate.spec.profile} profile cannot render text: its weights are random, "
               "so its pictures hold no glyphs to read")  # fmt: skip
        return
    from qa.glyphs.engines import get_engine
    from qa.glyphs.reader import BackgroundReader

    options = {"easyocr_model_dir": qa_gate.options.easyocr_dir} if qa_gate.options.easyocr_dir else {}
    try:
        engine = get_engine(qa_gate.options.ocr_engine, **options)
    except QAUsageError as exc:
        yield f"OCR engine unavailable: {exc}"
        return
    model = qa_gate.model()
    with BackgroundReader(engine) as reader:
        readings: dict[str, Reading] = {}
        for case in qa_gate.config.glyphs:
            image = model.generate(
                case.prompt, case.width, case.height, case.steps, case.seed, qa_gate.config.guidance
            )
            try:
                checked_picture(model, image, case.id)
            except InvalidPicture as exc:  # each glyph case fails with the diagnosis, not the fixture
                readings[case.id] = (image, None, str(exc))
                continue
            readings[case.id] = (image, reader.submit(image), None)
        yield engine, readings


def save_annotated(gate: GateSession, case_id: str, picture: Any) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    path = confined(gate.options.report_dir, "glyph", case_id) / "annotated.png"
    write_bytes_atomic(path, buffer.getvalue())
    return str(path)


def test_glyph_text_is_legible(
    qa_gate: GateSession, qa_model: object, glyph_readings: Any, qa_glyph_case: GlyphCase, qa_check: Check
) -> None:
    if isinstance(glyph_readings, str):
        qa_check.not_run(glyph_readings)
    from qa.glyphs.annotate import annotate
    from qa.glyphs.verdict import judge

    engine, readings = glyph_readings
    image, future, problem = readings[qa_glyph_case.id]
    if future is None:
        qa_check.fail(problem or "no picture")
    lines = future.result()
    verdict = judge(qa_glyph_case.expect, lines, qa_glyph_case.min_score, engine.info)
    qa_check.note(**verdict.to_dict(), engine_info=engine.info.to_dict())
    qa_check.artifacts["annotated"] = save_annotated(qa_gate, qa_glyph_case.id, annotate(image, lines))
    if not verdict.passed:
        qa_check.fail(f"{qa_glyph_case.id}: asked for {verdict.expected!r}, read {verdict.read!r} "
                      f"({verdict.reason}; precision {verdict.precision:.2f}, recall {verdict.recall:.2f}, "
                      f"NED {verdict.ned:.2f}); see {qa_check.artifacts['annotated']}")  # fmt: skip
    qa_check.passed(f"read {verdict.read!r} as asked")
