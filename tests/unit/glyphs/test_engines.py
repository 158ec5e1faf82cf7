"""Engine choice, the rapidocr (PP-OCRv6) and ppocrv4 engines on real pictures (offline, CPU only,
thread-safe use, per-character scores), combined engines."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from glyph_render import render
from PIL import Image

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.cache import sha256_file
from zimage_qa.glyphs.engines import ENGINE_NAMES, get_engine
from zimage_qa.glyphs.lines import CombinedEngine, EngineInfo, OcrEngine, TextLine
from zimage_qa.glyphs.ppocr4 import PpOcrV4Engine
from zimage_qa.glyphs.rapid import RapidOcrEngine, model_dir
from zimage_qa.glyphs.verdict import judge


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
    with pytest.raises(QAUsageError, match="rapidocr, ppocrv4, easyocr, both"):
        get_engine("tesseract")
    assert ENGINE_NAMES == ("rapidocr", "ppocrv4", "easyocr", "both")


def test_rapidocr_reads_a_rendered_sign(rapid_engine: RapidOcrEngine) -> None:
    lines = rapid_engine.read(render("春节快乐", "sans", 0))
    assert judge("春节快乐", lines).passed
    assert all(line.engine == "rapidocr" and 0 < line.score <= 1 for line in lines)
    assert isinstance(rapid_engine, OcrEngine)
    chars = [ch for line in lines for ch, _ in line.chars]
    assert "".join(chars) == "".join(line.text for line in lines).replace(" ", "")
    assert all(0 < score <= 1 for line in lines for _, score in line.chars)


def test_ppocrv4_reads_a_rendered_sign_with_character_scores(ppocr4_engine: PpOcrV4Engine) -> None:
    lines = ppocr4_engine.read(render("灯笼", "serif", 0))
    assert judge("灯笼", lines).passed and all(line.engine == "ppocrv4" for line in lines)
    assert [ch for line in lines for ch, _ in line.chars] == ["灯", "笼"]


@pytest.mark.parametrize("fixture", ["rapid_engine", "ppocr4_engine"])
def test_recognise_reads_ready_cut_lines_like_read(fixture: str, request: pytest.FixtureRequest) -> None:
    from zimage_qa.glyphs.fontset import style
    from zimage_qa.glyphs.render import render_line

    engine = request.getfixturevalue(fixture)
    readings = engine.recognise([render_line(text, style("sans"), 0) for text in ("福", "OPEN LATE", "书法")])
    assert [r.text for r in readings] == ["福", "OPEN LATE", "书法"]
    assert [len(r.chars) for r in readings] == [1, 8, 2]
    assert engine.recognise([]) == ()


def test_engines_run_on_the_cpu_only(rapid_engine: RapidOcrEngine, ppocr4_engine: PpOcrV4Engine) -> None:
    sessions = [*rapid_engine.sessions, *ppocr4_engine.sessions]
    assert len(sessions) == 4
    assert all(s.get_providers() == ["CPUExecutionProvider"] for s in sessions)  # type: ignore[attr-defined]


def test_rapidocr_loads_pp_ocrv6_from_its_wheel_and_names_it(rapid_engine: RapidOcrEngine) -> None:
    import rapidocr

    info = rapid_engine.info
    models = Path(rapidocr.__file__).parent / "models"
    assert model_dir() == models
    assert info.name == "rapidocr" and "PP-OCRv6" in info.version and "onnxruntime" in info.version
    assert set(info.model_hashes) == {"PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"}
    assert info.model_hashes["PP-OCRv6_rec_small.onnx"] == sha256_file(models / "PP-OCRv6_rec_small.onnx")


def test_rapidocr_needs_no_network(tmp_path: Path) -> None:
    """A fresh process with every proxy pointing nowhere loads the engine and reads: no download."""
    import os
    import subprocess
    import sys

    dead = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "http_proxy": dead,
        "https_proxy": dead,
        "ALL_PROXY": dead,
        "NO_PROXY": "",
    }
    code = (
        "from zimage_qa.glyphs.rapid import RapidOcrEngine; from zimage_qa.glyphs.render import render_line; "
        "from zimage_qa.glyphs.fontset import style; "
        "print(RapidOcrEngine(threads=1).recognise([render_line('福', style('kai'), 0)])[0].text)"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "福"


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


def test_both_reads_with_pp_ocrv6_and_pp_ocrv4() -> None:
    from zimage_qa.glyphs.engines import BOTH

    assert BOTH == ("rapidocr", "ppocrv4")


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

    import zimage_qa.glyphs.engines as engines

    monkeypatch.setattr(
        engines, "_FACTORIES", {name: factory(name) for name in ("rapidocr", "ppocrv4", "easyocr")}
    )
    engine = get_engine(
        "both", rapidocr_threads=2, ppocrv4_det_side=768, easyocr_model_dir="/m", min_score=0.3
    )
    assert isinstance(engine, CombinedEngine)
    assert seen == {
        "rapidocr": {"threads": 2, "min_score": 0.3},
        "ppocrv4": {"det_side": 768, "min_score": 0.3},
    }


def test_warm_up_reads_a_synthetic_picture(rapid_engine: RapidOcrEngine) -> None:
    rapid_engine.warm_up((320, 160))  # any size; the gate warms at its own resolution
    assert judge("福", rapid_engine.read(render("福", "ming", 1))).passed
