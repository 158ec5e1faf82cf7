"""OCR engines by name (`get_engine`).

Engines:
- `rapidocr` (the default, `zimage_qa.glyphs.rapid`): PP-OCRv6 (rapidocr 3.x models) on onnxruntime, models
  inside the wheel.
- `ppocrv4` (`zimage_qa.glyphs.ppocr4`): PP-OCRv4 (rapidocr-onnxruntime 1.x), models inside the wheel.
- `easyocr` (optional extra, `zimage_qa.glyphs.easy`): EasyOCR `ch_sim` + `en`, hash-checked model files.
- `both`: `rapidocr` and `ppocrv4` each read; the verdict keeps each engine's lines apart, and
  each engine is calibrated on its own (`zimage_qa.glyphs.calibration`).

What they return and promise lives in `zimage_qa.glyphs.lines`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.extras import require
from zimage_qa.glyphs.easy import EasyOcrEngine
from zimage_qa.glyphs.lines import CombinedEngine, OcrEngine
from zimage_qa.glyphs.ppocr4 import PpOcrV4Engine
from zimage_qa.glyphs.rapid import RapidOcrEngine


def _rapidocr(**options: Any) -> OcrEngine:
    return RapidOcrEngine(**options)


def _ppocrv4(**options: Any) -> OcrEngine:
    return PpOcrV4Engine(**options)


def _easyocr(**options: Any) -> OcrEngine:
    return EasyOcrEngine(**options)


_FACTORIES: dict[str, Callable[..., OcrEngine]] = {
    "rapidocr": _rapidocr,
    "ppocrv4": _ppocrv4,
    "easyocr": _easyocr,
}
BOTH: tuple[str, ...] = ("rapidocr", "ppocrv4")  # what `both` reads with
_OPTION_PREFIXES = tuple(f"{name}_" for name in _FACTORIES)
ENGINE_NAMES: tuple[str, ...] = (*_FACTORIES, "both")
DEFAULT_ENGINE = "rapidocr"
# The extras of zimage-qa (zimage_qa.extras) each engine needs.
_EXTRAS = {
    "rapidocr": ("onnxruntime",),
    "ppocrv4": ("onnxruntime", "ppocrv4"),
    "both": ("onnxruntime", "ppocrv4"),
    "easyocr": ("easyocr",),
}


def get_engine(name: str = DEFAULT_ENGINE, **options: Any) -> OcrEngine:
    """Build (and load) the engine called `name`: one of `ENGINE_NAMES`.

    Options go to the engine's constructor. With `both`, prefix them with the engine's name
    (`ppocrv4_threads=1`, `rapidocr_threads=2`); unprefixed options go to both engines.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in ENGINE_NAMES:
        raise QAUsageError(f"unknown OCR engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")

    for extra in _EXTRAS.get(key, ()):  # a missing optional part is named by its extra, not a traceback
        require(extra, f"the {key} OCR engine")
    if key == "both":
        return CombinedEngine(tuple(_FACTORIES[n](**_options_for(n, options)) for n in BOTH))
    return _FACTORIES[key](**_options_for(key, options))


def _options_for(engine: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Unprefixed options plus `<engine>_<option>` ones with the prefix taken off."""
    chosen = {k: v for k, v in options.items() if not k.startswith(_OPTION_PREFIXES)}
    prefix = f"{engine}_"
    chosen.update({k[len(prefix) :]: v for k, v in options.items() if k.startswith(prefix)})
    return chosen
