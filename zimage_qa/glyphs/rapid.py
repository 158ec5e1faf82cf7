"""The default OCR engine: PP-OCRv6 detection and recognition from the `rapidocr` 3.x wheel, on
onnxruntime.

`rapidocr` 3.10 ships its default models (PP-OCRv6 small det and rec) inside its 27 MB wheel, so a
fresh install reads Chinese and English with no network: the engine finds them by path and never
calls rapidocr's downloader. On the held-out evaluation (66 user texts in six CJK fonts the project
does not ship, tests/unit/glyphs/test_heldout.py) its verdicts accept 99.2 % of correct renders and
reject 99.6 % of near misses; 7.6 % of the texts it cannot judge (it reads 舂 as 春, 夭 as 天). The
second engine of `both` is PP-OCRv4 (`zimage_qa.glyphs.ppocr4`). The SHA-256 of each model file goes into
`EngineInfo.model_hashes`, so a glyph record names the exact weights that read it.

The models run through `zimage_qa.glyphs.ppocr` (rapidocr's own steps, without its 0.4-0.8 s of start-up
and without the angle classifier), so `zqa glyph-check` loads, reads a 1024x1024 picture and judges
it in about 0.6 s on 2 cores once the text's calibration is cached (benchmarks/glyph_check_speed.py).
OCR never touches the GPU being measured: only onnxruntime's CPU execution provider is used, and
each session is checked to run on it. Intra-op threads default to min(4, CPUs).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from importlib import metadata, util
from pathlib import Path
from typing import TYPE_CHECKING

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.cache import file_digest
from zimage_qa.glyphs.lines import EngineInfo, Recognition, TextLine, to_box
from zimage_qa.glyphs.ppocr import Detector, Recogniser, crop, session, to_bgr

if TYPE_CHECKING:
    from PIL import Image

NAME = "rapidocr"
MODELS = ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx")  # detection, recognition
INSTALL = "pip install 'rapidocr>=3.10,<4' onnxruntime"
DET_SIDE = 512  # longest side the detector sees: a 1024x1024 picture is detected at 512x512


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def check_engine_options(threads: object, min_score: object) -> int:
    """The thread count to use, or QAUsageError for options no engine could use."""
    threads = default_threads() if threads is None else threads
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise QAUsageError(f"OCR threads must be a positive integer, got {threads!r}")
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) or not 0.0 <= min_score < 1.0:
        raise QAUsageError(f"OCR min_score must be in [0, 1), got {min_score!r}")
    return threads


def model_dir() -> Path:
    """Where the rapidocr wheel keeps its models (found without importing rapidocr, whose import
    alone costs 0.4-0.8 s); QAUsageError when the package is missing."""
    spec = util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise QAUsageError(f"the rapidocr engine needs rapidocr 3.x (it is not installed); fix: {INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class RapidOcrEngine:
    """PP-OCRv6 from the `rapidocr` wheel, on the CPU. Loads its models when built.

    `threads`: onnxruntime intra-op threads (default `default_threads()`).
    `min_score`: recognition confidence below which a line is dropped (rapidocr's `text_score`).
    `det_side`: the detector sees the picture shrunk to at most this many pixels on its longer side.
    """

    def __init__(
        self, *, threads: int | None = None, min_score: float = 0.5, det_side: int = DET_SIDE
    ) -> None:
        threads = check_engine_options(threads, min_score)
        if isinstance(det_side, bool) or not isinstance(det_side, int) or not 64 <= det_side <= 4096:
            raise QAUsageError(f"OCR det_side must be an integer from 64 to 4096 pixels, got {det_side!r}")
        models = model_dir()
        missing = [name for name in MODELS if not (models / name).is_file()]
        if missing:
            raise QAUsageError(
                f"rapidocr {_rapid_version()} has no {', '.join(missing)} in {models}: this engine needs "
                f"a rapidocr wheel that ships PP-OCRv6 (3.10 or later); fix: {INSTALL}"
            )

        threads = min(threads, os.cpu_count() or threads)
        self._det = Detector(session(models / MODELS[0], threads), det_side)
        self._rec = Recogniser(session(models / MODELS[1], threads))
        self._lock = threading.Lock()
        self.threads = threads
        self.min_score = float(min_score)
        self._info = EngineInfo(name=NAME, version=_version(), model_hashes=_hashes(models))

    @property
    def info(self) -> EngineInfo:
        return self._info

    @property
    def sessions(self) -> tuple[object, ...]:
        """The onnxruntime sessions (detection, recognition), for checks of where they run."""
        return self._det.model, self._rec.model

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        """Detect the text lines in `image`, cut each from the full-size picture and recognise it."""
        bgr = to_bgr(image)
        with self._lock:
            found = self._det(bgr)
            readings = self._rec([crop(bgr, d.box) for d in found])
        return tuple(
            TextLine(r.text, to_box(d.box.tolist()), r.score, NAME, r.chars, r.alternatives)
            for d, r in zip(found, readings, strict=True)
            if r.text.strip() and r.score >= self.min_score
        )

    def recognise(self, lines: Sequence[Image.Image]) -> tuple[Recognition, ...]:
        """Read ready-cut single-line pictures with the recogniser alone (no detection)."""
        if not lines:
            return ()

        with self._lock:
            return self._rec([to_bgr(line) for line in lines], tight=True)

    def warm_up(self, size: tuple[int, int] = (1024, 1024)) -> None:
        """Read a synthetic picture of `size` once: onnxruntime's first run at a new input size
        costs more than the next ones."""
        self.read(warm_up_picture(size))


def warm_up_picture(size: tuple[int, int]) -> Image.Image:
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.new("RGB", size, (235, 230, 215))
    font = ImageFont.load_default(max(16, size[1] // 12))
    ImageDraw.Draw(picture).text((size[0] // 10, size[1] // 3), "Warm up 2025", fill=(20, 20, 20), font=font)
    return picture


def _hashes(models: Path) -> dict[str, str]:
    return {name: file_digest(models / name) for name in MODELS}


def _rapid_version() -> str:
    try:
        return metadata.version("rapidocr")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _version() -> str:
    try:
        ort = metadata.version("onnxruntime")
    except metadata.PackageNotFoundError:
        ort = "unknown"
    return f"rapidocr {_rapid_version()} (PP-OCRv6 small det + rec), onnxruntime {ort}"
