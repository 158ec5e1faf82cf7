"""The second engine: PP-OCRv4 detection and recognition, the models inside the `rapidocr-onnxruntime`
1.x wheel, run on onnxruntime's CPU provider through `zimage_qa.glyphs.ppocr` (the steps `rapid` runs).

It was the default engine before PP-OCRv6 (`zimage_qa.glyphs.rapid`); it stays as the second reader of
`--qa-ocr-engine both` because its errors differ from v6's. Its known blind spots (it reads 荼 as 茶
and 汊 as 汉 in most fonts) are found per case by `zimage_qa.glyphs.calibration`. Only the model files
are used (found without importing the package), so both engines read the same way: no angle
classifier, lines cut from the full-size picture, per-character runners-up from the recogniser.
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
from zimage_qa.glyphs.rapid import check_engine_options, warm_up_picture

if TYPE_CHECKING:
    from PIL import Image

NAME = "ppocrv4"
MODELS = ("ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx")  # detection, recognition
INSTALL = "pip install 'zimage-qa[ppocrv4]'"


def model_dir() -> Path:
    """Where the rapidocr-onnxruntime wheel keeps its models; QAUsageError when it is missing."""
    spec = util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise QAUsageError(
            f"the ppocrv4 engine needs rapidocr-onnxruntime (it is not installed); fix: {INSTALL}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class PpOcrV4Engine:
    """PP-OCRv4 from the `rapidocr-onnxruntime` wheel, on the CPU. Loads its models when built.

    `threads`, `min_score`, `det_side`: as for `zimage_qa.glyphs.rapid.RapidOcrEngine`.
    """

    def __init__(self, *, threads: int | None = None, min_score: float = 0.5, det_side: int = 1024) -> None:
        threads = check_engine_options(threads, min_score)
        if isinstance(det_side, bool) or not isinstance(det_side, int) or not 64 <= det_side <= 4096:
            raise QAUsageError(f"OCR det_side must be an integer from 64 to 4096 pixels, got {det_side!r}")
        models = model_dir()
        missing = [name for name in MODELS if not (models / name).is_file()]
        if missing:
            raise QAUsageError(
                f"rapidocr-onnxruntime has no {', '.join(missing)} in {models}; fix: {INSTALL}"
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
        self.read(warm_up_picture(size))


def _hashes(models: Path) -> dict[str, str]:
    return {name: file_digest(models / name) for name in MODELS}


def _version() -> str:
    try:
        rapid = metadata.version("rapidocr-onnxruntime")
        ort = metadata.version("onnxruntime")
    except metadata.PackageNotFoundError:
        return "unknown"
    return f"rapidocr-onnxruntime {rapid} (PP-OCRv4 det + rec), onnxruntime {ort}"
