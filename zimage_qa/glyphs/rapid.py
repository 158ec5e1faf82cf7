"""The default OCR engine: PP-OCRv6 detection and recognition from the `rapidocr` 3.x wheel, on
onnxruntime.

`rapidocr` 3.10 ships its default models (PP-OCRv6 small det and rec) inside its 27 MB wheel, so a
fresh install reads Chinese and English with no network: the engine finds them by path and never
calls rapidocr's downloader. On the held-out evaluation (66 user texts, one of six CJK fonts the project
does not ship per text, tests/unit/glyphs/test_heldout.py) its verdicts accept 100 % of correct renders of
the texts it can judge and reject 100 % of near misses; 3.0 % of the texts it cannot judge (it reads 舂 as
春 and 荼 as 茶 in some fonts). The second engine of `both` is PP-OCRv4 (`zimage_qa.glyphs.ppocr4`). The
SHA-256 of each model file goes into `EngineInfo.model_hashes`, so a glyph record names the exact weights
that read it.

The models run through `zimage_qa.glyphs.ppocr` (rapidocr's own steps, without its 0.4-0.8 s of start-up
and without the angle classifier), so `zqa glyph-check` loads, reads a 1024x1024 picture and judges
it in about 0.6 s on 2 cores once the text's calibration is cached (benchmarks/glyph_check_speed.py).
OCR never touches the GPU being measured: only onnxruntime's CPU execution provider is used, and
each session is checked to run on it. Intra-op threads default to min(4, CPUs).
"""

from __future__ import annotations

from importlib import metadata, util
from pathlib import Path

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.ppocr import PpOcrEngine

NAME = "rapidocr"
MODELS = ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx")  # detection, recognition
INSTALL = "pip install 'rapidocr>=3.10,<4' onnxruntime"
DET_SIDE = 512  # longest side the detector sees: a 1024x1024 picture is detected at 512x512


def model_dir() -> Path:
    """Where the rapidocr wheel keeps its models (found without importing rapidocr, whose import
    alone costs 0.4-0.8 s); QAUsageError when the package is missing."""
    spec = util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise QAUsageError(f"the rapidocr engine needs rapidocr 3.x (it is not installed); fix: {INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class RapidOcrEngine(PpOcrEngine):
    """PP-OCRv6 from the `rapidocr` wheel, on the CPU (options: `PpOcrEngine`)."""

    name, models, det_side = NAME, MODELS, DET_SIDE

    @classmethod
    def model_dir(cls) -> Path:
        return model_dir()

    @classmethod
    def version(cls) -> str:
        try:
            ort = metadata.version("onnxruntime")
        except metadata.PackageNotFoundError:
            ort = "unknown"
        return f"rapidocr {_rapid_version()} (PP-OCRv6 small det + rec), onnxruntime {ort}"

    @classmethod
    def missing(cls, files: list[str], folder: Path) -> str:
        return (
            f"rapidocr {_rapid_version()} has no {', '.join(files)} in {folder}: this engine needs "
            f"a rapidocr wheel that ships PP-OCRv6 (3.10 or later); fix: {INSTALL}"
        )


def _rapid_version() -> str:
    try:
        return metadata.version("rapidocr")
    except metadata.PackageNotFoundError:
        return "(not installed)"
