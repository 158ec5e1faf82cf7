"""The default OCR engine: PP-OCRv4 (detection, angle classification, recognition) on onnxruntime.

Why `rapidocr_onnxruntime` and not the maintained `rapidocr` package: `rapidocr_onnxruntime` ships
the three ONNX models inside its wheel, so a fresh install reads Chinese and English with no
network. `rapidocr` (2.x) downloads its models on first use, which an offline GPU runner cannot do
and which would make the models a run-time download rather than a pinned, hashed install. The
SHA-256 of each model file goes into `EngineInfo.model_hashes`, so a glyph record names the exact
weights that read it.

OCR never touches the GPU being measured: only onnxruntime's CPU execution provider is used (even
when onnxruntime-gpu is installed), and the engine checks that each session really runs on it.
Intra-op threads default to min(4, CPU count): enough for a 1024x1024 image in about a second on
two cores, without starving the thread that feeds the GPU when OCR overlaps generation.
"""

from __future__ import annotations

import os
import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import QACheckError, QAUsageError
from qa.glyphs.engines import EngineInfo, TextLine, sha256_file, to_box

if TYPE_CHECKING:
    from PIL import Image

NAME = "rapidocr"
_CPU = "CPUExecutionProvider"


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class RapidOcrEngine:
    """PP-OCRv4 through `rapidocr_onnxruntime`, on the CPU. Loads its models when built.

    `threads`: onnxruntime intra-op threads (default `default_threads()`).
    `min_score`: recognition confidence below which a line is dropped (rapidocr's `text_score`).
    `det_side`: detection input is scaled so its longer side is at most this many pixels.
    `isolate`: also re-read each CJK character from its own crop (`TextLine.isolated`).
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        min_score: float = 0.5,
        det_side: int = 1024,
        isolate: bool = True,
    ) -> None:
        threads = default_threads() if threads is None else threads
        if not isinstance(threads, int) or threads < 1:
            raise QAUsageError(f"OCR threads must be a positive integer, got {threads!r}")
        if not 0.0 <= min_score < 1.0:
            raise QAUsageError(f"OCR min_score must be in [0, 1), got {min_score!r}")
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise QAUsageError(
                f"the rapidocr engine needs rapidocr-onnxruntime ({exc}); "
                "fix: pip install 'rapidocr-onnxruntime>=1.3.24,<2'"
            ) from exc
        self._ocr = RapidOCR(
            intra_op_num_threads=min(threads, os.cpu_count() or threads),
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
        self.isolate = isolate
        self._info = EngineInfo(name=NAME, version=_version(), model_hashes=_model_hashes())

    @property
    def info(self) -> EngineInfo:
        return self._info

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        rgb = image.convert("RGB")
        with self._lock:
            result, _elapsed = self._ocr(rgb, return_word_box=self.isolate)
            if not result:
                return ()
            return tuple(self._line(rgb, item) for item in result)

    def warm_up(self, size: tuple[int, int] = (1024, 1024)) -> None:
        """Read a synthetic picture of `size` once: onnxruntime's first run at a new input size
        costs about 0.4 s more than the next ones (measured at 1024x1024 on 2 cores)."""
        from PIL import Image, ImageDraw, ImageFont

        picture = Image.new("RGB", size, (235, 230, 215))
        font = ImageFont.load_default(max(16, size[1] // 12))
        ImageDraw.Draw(picture).text(
            (size[0] // 10, size[1] // 3), "Warm up 2025", fill=(20, 20, 20), font=font
        )
        self.read(picture)

    def _line(self, rgb: Image.Image, item: list[Any]) -> TextLine:
        box, text, score = item[0], str(item[1]), float(item[2])
        isolated: tuple[str, ...] = ()
        if self.isolate and len(item) >= 5:
            isolated = self._reread(rgb, text, item[3], item[4])
        return TextLine(text=text, box=to_box(box), score=score, engine=NAME, isolated=isolated)

    def _reread(self, rgb: Image.Image, text: str, boxes: list[Any], pieces: list[Any]) -> tuple[str, ...]:
        """Each CJK character of `text` read again from its own crop; "" for the rest."""
        if [str(p) for p in pieces] != [ch for ch in text if not ch.isspace()]:
            return ()  # words, not characters: nothing to align
        import numpy as np

        slots = [i for i, ch in enumerate(text) if not ch.isspace()]
        wanted = [(i, b) for i, b in zip(slots, boxes, strict=True) if is_cjk(text[i])]
        if not wanted:
            return ()
        crops = [np.ascontiguousarray(np.asarray(_crop(rgb, b))[:, :, ::-1]) for _, b in wanted]
        rec = self._ocr.text_rec
        shape = list(rec.rec_image_shape)
        rec.rec_image_shape = [shape[0], shape[1], shape[1]]  # square input: no padding to 320 px
        try:
            readings, _elapsed = rec(crops)
        finally:
            rec.rec_image_shape = shape
        isolated = [""] * len(text)
        for (i, _), (reading, conf) in zip(wanted, readings, strict=True):
            isolated[i] = str(reading) if float(conf) >= ISOLATED_MIN_SCORE else ""
        return tuple(isolated)

    def _check_cpu_only(self) -> None:
        for session in _sessions(self._ocr):
            providers = session.get_providers()
            if providers != [_CPU]:
                raise QACheckError(f"rapidocr session runs on {providers}, expected only {_CPU}")


ISOLATED_MIN_SCORE = 0.5


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0003134f"


def _crop(rgb: Image.Image, points: Any) -> Image.Image:
    """The axis-aligned box around a character, grown by 8% of its size on each side."""
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    pad = 0.08 * max(max(xs) - min(xs), max(ys) - min(ys))
    left, top = max(0, int(min(xs) - pad)), max(0, int(min(ys) - pad))
    right, bottom = min(rgb.width, int(max(xs) + pad) + 1), min(rgb.height, int(max(ys) + pad) + 1)
    return rgb.crop((left, top, max(right, left + 2), max(bottom, top + 2)))


def _sessions(ocr: Any) -> list[Any]:
    """The onnxruntime sessions inside a RapidOCR object (internal attributes of rapidocr 1.x)."""
    wrappers = [
        getattr(getattr(ocr, "text_det", None), "infer", None),
        getattr(getattr(ocr, "text_cls", None), "infer", None),
        getattr(getattr(ocr, "text_rec", None), "session", None),
    ]
    return [w.session for w in wrappers if w is not None and hasattr(w, "session")]


def _model_hashes() -> dict[str, str]:
    """SHA-256 of the ONNX models that rapidocr's default configuration loads from its wheel."""
    import rapidocr_onnxruntime

    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    return {p.name: sha256_file(p) for p in sorted(models.glob("*.onnx"))}


def _version() -> str:
    try:
        rapid = metadata.version("rapidocr-onnxruntime")
        ort = metadata.version("onnxruntime")
    except metadata.PackageNotFoundError:
        return "unknown"
    return f"rapidocr-onnxruntime {rapid}, onnxruntime {ort}"
