"""The second engine: PP-OCRv4 (detection, angle classification, recognition) from
`rapidocr-onnxruntime` 1.x, the models inside its wheel, on onnxruntime's CPU provider.

It was the default engine before PP-OCRv6 (`zimage_qa.glyphs.rapid`); it stays as the second reader of
`--qa-ocr-engine both` because its errors differ from v6's. Its known blind spots (it reads 荼 as 茶
and 汊 as 汉 in most fonts) are found per case by `zimage_qa.glyphs.calibration`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zimage_qa.errors import QACheckError, QAUsageError
from zimage_qa.glyphs.lines import (
    EngineInfo,
    Recognition,
    TextLine,
    char_scores,
    sha256_file,
    tight_recogniser,
    to_box,
)
from zimage_qa.glyphs.rapid import check_engine_options, warm_up_picture

if TYPE_CHECKING:
    from PIL import Image

NAME = "ppocrv4"
_CPU = "CPUExecutionProvider"
INSTALL = "pip install 'zimage-qa[ppocrv4]'"


class PpOcrV4Engine:
    """PP-OCRv4 through `rapidocr_onnxruntime`, on the CPU. Loads its models when built.

    `threads`, `min_score`, `det_side`: as for `zimage_qa.glyphs.rapid.RapidOcrEngine`.
    """

    def __init__(self, *, threads: int | None = None, min_score: float = 0.5, det_side: int = 1024) -> None:
        threads = check_engine_options(threads, min_score)
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise QAUsageError(
                f"the ppocrv4 engine needs rapidocr-onnxruntime ({exc}); fix: {INSTALL}"
            ) from exc
        threads = min(threads, os.cpu_count() or threads)
        self._ocr = RapidOCR(
            intra_op_num_threads=threads,
            inter_op_num_threads=1,
            text_score=min_score,
            det_use_cuda=False,
            cls_use_cuda=False,
            rec_use_cuda=False,
            det_use_dml=False,
            cls_use_dml=False,
            rec_use_dml=False,
            det_limit_type="max",
            det_limit_side_len=det_side,
        )
        self._check_cpu_only()
        self._lock = threading.Lock()
        self.threads = threads
        self._info = EngineInfo(name=NAME, version=_version(), model_hashes=_model_hashes())

    @property
    def info(self) -> EngineInfo:
        return self._info

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        with self._lock:
            result, _elapsed = self._ocr(image.convert("RGB"), return_word_box=True)
        return tuple(_line(item) for item in result or ())

    def recognise(self, lines: Sequence[Image.Image]) -> tuple[Recognition, ...]:
        """Read ready-cut single-line pictures with the recogniser alone (no detection)."""
        if not lines:
            return ()
        import numpy as np

        crops = [np.ascontiguousarray(np.asarray(line.convert("RGB"))[:, :, ::-1]) for line in lines]
        with self._lock, tight_recogniser(self._ocr.text_rec):
            readings, _elapsed = self._ocr.text_rec(crops, return_word_box=True)
        return tuple(_recognition(item) for item in readings)

    def warm_up(self, size: tuple[int, int] = (1024, 1024)) -> None:
        self.read(warm_up_picture(size))

    def _check_cpu_only(self) -> None:
        for session in _sessions(self._ocr):
            providers = session.get_providers()
            if providers != [_CPU]:
                raise QACheckError(f"ppocrv4 session runs on {providers}, expected only {_CPU}")


def _line(item: Sequence[Any]) -> TextLine:
    text = str(item[1])
    chars: tuple[tuple[str, float], ...] = ()
    if len(item) >= 6:
        chars = char_scores(text, item[5])
    return TextLine(text, to_box(item[0]), float(item[2]), NAME, chars)


def _recognition(item: Sequence[Any]) -> Recognition:
    text, score = str(item[0]), float(item[1])
    extra = item[2] if len(item) > 2 else None
    scores = extra[4] if isinstance(extra, (list, tuple)) and len(extra) >= 5 else ()
    return Recognition(text.strip(), score, char_scores(text, scores))


def _sessions(ocr: Any) -> list[Any]:
    """The onnxruntime sessions inside a RapidOCR object (internal attributes of rapidocr 1.x)."""
    wrappers = [
        getattr(getattr(ocr, "text_det", None), "infer", None),
        getattr(getattr(ocr, "text_cls", None), "infer", None),
        getattr(getattr(ocr, "text_rec", None), "session", None),
    ]
    return [w.session for w in wrappers if w is not None and hasattr(w, "session")]


def _model_hashes() -> dict[str, str]:
    """SHA-256 of the ONNX models that rapidocr-onnxruntime's default configuration loads."""
    import rapidocr_onnxruntime

    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    return {p.name: sha256_file(p) for p in sorted(models.glob("*.onnx"))}


def _version() -> str:
    try:
        rapid = metadata.version("rapidocr-onnxruntime")
        ort = metadata.version("onnxruntime")
    except metadata.PackageNotFoundError:
        return "unknown"
    return f"rapidocr-onnxruntime {rapid} (PP-OCRv4), onnxruntime {ort}"
