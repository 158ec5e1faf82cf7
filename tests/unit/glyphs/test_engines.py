"""Engine choice, the rapidocr engine on real pictures (CPU only, thread-safe use), combined engines."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from glyph_render import render
from PIL import Image

from qa.errors import QAUsageError
from qa.glyphs.engines import (
    ENGINE_NAMES,
    CombinedEngine,
    EngineInfo,
    OcrEngine,
    TextLine,
    get_engine,
    sha256_file,
)
from qa.glyphs.rapid import RapidOcrEngine
from qa.glyphs.verdict import judge


class FakeEngine:
    def __init__(self, name: str, text: str) -> None:
        self._info = EngineInfo(name, "0", {"model.bin": "00"})
        self.text = text

    @property
    def info(self) -> EngineInfo:
        return self._info

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        box = ((0.0, 0.0), (40.0, 0.0), (40.0, 40.0), (0.0, 40.0))
        return (TextLine(self.text, box, 0.9, self.info.name),)


def test_unknown_engine_names_the_valid_ones() -> None:
    with pytest.raises(QAUsageError, match="rapidocr, easyocr, both"):
        get_engine("tesseract")
    assert ENGINE_NAMES == ("rapidocr", "easyocr", "both")


def test_rapidocr_reads_a_rendered_sign(rapid_engine: RapidOcrEngine) -> None:
    lines = rapid_engine.read(render("春节快乐", "sans", 0))
    assert judge("春节快乐", lines).passed
    assert all(line.engine == "rapidocr" and 0 < line.score <= 1 for line in lines)
    assert isinstance(rapid_engine, OcrEngine)


def test_rapidocr_runs_on_the_cpu_only(rapid_engine: RapidOcrEngine) -> None:
    from qa.glyphs.rapid import _sessions

    sessions = _sessions(rapid_engine._ocr)
    assert len(sessions) == 3
    assert all(s.get_providers() == ["CPUExecutionProvider"] for s in sessions)


def test_rapidocr_info_names_the_models_it_loaded(rapid_engine: RapidOcrEngine) -> None:
    import rapidocr_onnxruntime

    info = rapid_engine.info
    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    assert info.name == "rapidocr" and "onnxruntime" in info.version
    assert set(info.model_hashes) == {p.name for p in models.glob("*.onnx")}
    det = next(p for p in models.glob("*det*.onnx"))
    assert info.model_hashes[det.name] == sha256_file(det)


def test_rapidocr_reads_from_a_worker_thread_as_from_the_main_one(rapid_engine: RapidOcrEngine) -> None:
    images = [render(text, "kai", 5) for text in ("福", "灯笼", "汉服", "书法")]
    here = [rapid_engine.read(im) for im in images]
    with ThreadPoolExecutor(max_workers=1) as worker:
        there = list(worker.map(rapid_engine.read, images))
    assert [[ln.text for ln in lines] for lines in there] == [[ln.text for ln in lines] for lines in here]


def test_rapidocr_reads_nothing_in_a_blank_picture(rapid_engine: RapidOcrEngine) -> None:
    assert rapid_engine.read(Image.new("L", (200, 120), 255)) == ()


@pytest.mark.parametrize("threads", [0, -1, 1.5])
def test_bad_thread_count_is_a_usage_error(threads: object) -> None:
    with pytest.raises(QAUsageError, match="threads"):
        RapidOcrEngine(threads=threads)  # type: ignore[arg-type]


def test_combined_engine_keeps_each_engines_lines() -> None:
    both = CombinedEngine((FakeEngine("a", "副"), FakeEngine("b", "福")))
    lines = both.read(Image.new("RGB", (8, 8)))
    assert [(ln.engine, ln.text) for ln in lines] == [("a", "副"), ("b", "福")]
    assert both.info.name == "a+b" and set(both.info.model_hashes) == {"a/model.bin", "b/model.bin"}
    assert judge("福", lines).passed  # the best reading wins


def test_both_routes_prefixed_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, dict[str, object]] = {}

    def factory(name: str):  # type: ignore[no-untyped-def]
        def build(**options: object) -> FakeEngine:
            seen[name] = options
            return FakeEngine(name, "x")

        return build

    import qa.glyphs.engines as engines

    monkeypatch.setattr(
        engines, "_FACTORIES", {"rapidocr": factory("rapidocr"), "easyocr": factory("easyocr")}
    )
    engine = get_engine("both", rapidocr_threads=2, easyocr_model_dir="/m", min_score=0.3)
    assert isinstance(engine, CombinedEngine)
    assert seen == {
        "rapidocr": {"threads": 2, "min_score": 0.3},
        "easyocr": {"model_dir": "/m", "min_score": 0.3},
    }


def test_warm_up_reads_a_synthetic_picture(rapid_engine: RapidOcrEngine) -> None:
    rapid_engine.warm_up((320, 160))  # any size; the gate warms at its own resolution
    assert judge("福", rapid_engine.read(render("福", "ming", 1))).passed
