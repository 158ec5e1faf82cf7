"""`zimage_qa.glyphs.ppocr`, the PP-OCR steps run without rapidocr's start-up: it must find the same boxes and
read the same texts, with the same scores, as rapidocr 3.x's own pipeline on the same input."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from glyph_render import render

from zimage_qa.glyphs.fontset import style
from zimage_qa.glyphs.ppocr import input_size, to_bgr
from zimage_qa.glyphs.rapid import DET_SIDE, MODELS, RapidOcrEngine, model_dir
from zimage_qa.glyphs.render import render_line

TEXTS = ("福", "春节快乐", "OPEN LATE", "天香茶馆", "Happy New Year", "灯笼")


@pytest.fixture(scope="module")
def rapidocr_itself() -> Any:
    """rapidocr's own pipeline on the same model files, with no angle classifier and a detector
    that shrinks pictures to `DET_SIDE` px and never enlarges them, as `zimage_qa.glyphs.ppocr` does."""
    from rapidocr import RapidOCR

    models = model_dir()
    return RapidOCR(
        params={
            "Global.log_level": "warning",
            "Global.use_cls": False,
            "Global.model_root_dir": str(models),
            "EngineConfig.onnxruntime.intra_op_num_threads": 2,
            "Det.model_path": str(models / MODELS[0]),
            "Det.limit_type": "max",
            "Det.limit_side_len": DET_SIDE,
            "Rec.model_path": str(models / MODELS[1]),
        }
    )


def test_detection_and_reading_match_rapidocr(rapid_engine: RapidOcrEngine, rapidocr_itself: Any) -> None:
    pictures = [render(text, "serif", 7, distractor="2025" * (i % 2)) for i, text in enumerate(TEXTS)]
    pictures.append(render("书法", "kai", 2, canvas=1024))  # shrunk to DET_SIDE by both
    for picture in pictures:
        ours = rapid_engine.read(picture)
        theirs = rapidocr_itself(to_bgr(picture))
        assert [line.text for line in ours] == list(theirs.txts or ())
        assert [line.score for line in ours] == pytest.approx(list(theirs.scores or ()), abs=1e-4)
        boxes = np.array([line.box for line in ours]).reshape(-1, 4, 2)
        assert (
            boxes.tolist()
            == np.asarray(theirs.boxes if theirs.boxes is not None else []).reshape(-1, 4, 2).tolist()
        )
    assert sum(bool(rapid_engine.read(p)) for p in pictures) == len(pictures)  # the comparison saw text


def test_line_recognition_matches_rapidocr(rapid_engine: RapidOcrEngine, rapidocr_itself: Any) -> None:
    from rapidocr.ch_ppocr_rec.typings import TextRecInput

    lines = [render_line(text, style(name), 3) for text in TEXTS for name in ("sans", "kai")]
    ours = rapid_engine.recognise(lines)
    recogniser = rapidocr_itself._load_rec_model()
    with tight_recogniser(recogniser):
        theirs = recogniser(TextRecInput(img=[to_bgr(line) for line in lines], return_word_box=True))
    assert [r.text for r in ours] == list(theirs.txts)
    assert [r.score for r in ours] == pytest.approx(list(theirs.scores), abs=1e-4)
    assert [[s for _, s in r.chars] for r in ours] == [
        pytest.approx([c for ch, c in zip(t, w.confs, strict=False) if not ch.isspace()], abs=1e-4)
        for t, w in zip(theirs.txts, theirs.word_results, strict=True)
    ]


@pytest.mark.parametrize(
    ("size", "seen"),
    [((1024, 1024), (768, 768)), ((2048, 512), (768, 192)), ((300, 100), (288, 96)), ((20, 10), (32, 32))],
)
def test_the_detector_shrinks_large_pictures_and_never_enlarges(
    size: tuple[int, int], seen: tuple[int, int]
) -> None:
    assert input_size(*size, side=768) == seen


@contextmanager
def tight_recogniser(rec: Any, batch: int = 16) -> Iterator[None]:
    """Let rapidocr's own recogniser read short ready-cut lines without padding each to 320 px and in
    larger batches (about 3x faster on calibration renders); restores its settings after."""
    shape, size = list(rec.rec_image_shape), rec.rec_batch_num
    rec.rec_image_shape = [shape[0], shape[1], shape[1]]
    rec.rec_batch_num = batch
    try:
        yield
    finally:
        rec.rec_image_shape, rec.rec_batch_num = shape, size
