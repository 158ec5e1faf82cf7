"""The second engine: PP-OCRv4 detection and recognition, the models inside the `rapidocr-onnxruntime`
1.x wheel, run on onnxruntime's CPU provider through `zimage_qa.glyphs.ppocr` (the steps `rapid` runs).

It was the default engine before PP-OCRv6 (`zimage_qa.glyphs.rapid`); it stays as the second reader of
`--qa-ocr-engine both` because its errors differ from v6's. Its known blind spots (it reads 荼 as 茶
and 汊 as 汉 in most fonts) are found per case by `zimage_qa.glyphs.calibration`. Only the model files
are used (found without importing the package), so both engines read the same way: no angle
classifier, lines cut from the full-size picture, per-character runners-up from the recogniser.
"""

from __future__ import annotations

from importlib import metadata, util
from pathlib import Path

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.ppocr import PpOcrEngine

NAME = "ppocrv4"
MODELS = ("ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx")  # detection, recognition
INSTALL = "pip install 'zimage-qa[ppocrv4]'"


class PpOcrV4Engine(PpOcrEngine):
    """PP-OCRv4 from the `rapidocr-onnxruntime` wheel, on the CPU (options: `PpOcrEngine`)."""

    name, models, det_side = NAME, MODELS, 1024

    @classmethod
    def model_dir(cls) -> Path:
        """Where the rapidocr-onnxruntime wheel keeps its models; QAUsageError when it is missing."""
        spec = util.find_spec("rapidocr_onnxruntime")
        if spec is None or not spec.submodule_search_locations:
            raise QAUsageError(
                f"the ppocrv4 engine needs rapidocr-onnxruntime (it is not installed); fix: {INSTALL}"
            )
        return Path(next(iter(spec.submodule_search_locations))) / "models"

    @classmethod
    def version(cls) -> str:
        try:
            rapid = metadata.version("rapidocr-onnxruntime")
            ort = metadata.version("onnxruntime")
        except metadata.PackageNotFoundError:
            return "unknown"
        return f"rapidocr-onnxruntime {rapid} (PP-OCRv4 det + rec), onnxruntime {ort}"

    @classmethod
    def missing(cls, files: list[str], folder: Path) -> str:
        return f"rapidocr-onnxruntime has no {', '.join(files)} in {folder}; fix: {INSTALL}"
