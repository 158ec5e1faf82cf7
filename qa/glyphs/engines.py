"""OCR engines: what they return (`TextLine`, `EngineInfo`), what they promise (`OcrEngine`), and
how one is chosen by name (`get_engine`).

Engines:
- `rapidocr` (the default, `qa.glyphs.rapid`): PP-OCRv4 through onnxruntime, models inside the wheel.
- `easyocr` (optional extra, `qa.glyphs.easy`): EasyOCR `ch_sim` + `en`, hash-checked model files.
- `both`: each engine reads; `qa.glyphs.verdict.judge` keeps each engine's lines apart and takes
  the best reading.

Every engine runs on the CPU (never on the GPU the gate measures), and one engine object may be
used from one worker thread other than the one that built it (calls are serialised by a lock).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from qa.errors import QAUsageError

if TYPE_CHECKING:
    from PIL import Image

Point = tuple[float, float]
Box = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class TextLine:
    """One region of text as an engine read it: the text, its box (4 corner points, clockwise from
    top-left, in image pixels), the engine's confidence in [0, 1], and which engine read it.

    `isolated`, when the engine provides it, has one entry per character of `text`: what that
    character's own crop reads with no neighbours to lend context ("" where it was not re-read).
    A recogniser's language prior can turn a wrong but rare glyph (己, 荼) into the common word it
    expects (已, 茶); read alone, the glyph often shows what it is.
    """

    text: str
    box: Box
    score: float
    engine: str = ""
    isolated: tuple[str, ...] = ()

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned (left, top, right, bottom) around the box."""
        xs = [p[0] for p in self.box]
        ys = [p[1] for p in self.box]
        return min(xs), min(ys), max(xs), max(ys)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": [list(p) for p in self.box],
            "score": round(self.score, 4),
            "engine": self.engine,
            "isolated": list(self.isolated),
        }


@dataclass(frozen=True)
class EngineInfo:
    """What read the image: engine name, version string, and SHA-256 of each model file it loaded."""

    name: str
    version: str
    model_hashes: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "model_hashes": dict(self.model_hashes)}


@runtime_checkable
class OcrEngine(Protocol):
    """Reads the text in an image. `read` may be called from one worker thread at a time."""

    @property
    def info(self) -> EngineInfo: ...

    def read(self, image: Image.Image) -> tuple[TextLine, ...]: ...


def to_box(points: Any) -> Box:
    """Four (x, y) points from whatever sequence or array an engine returns."""
    pts = [(float(p[0]), float(p[1])) for p in points]
    if len(pts) != 4:
        raise ValueError(f"an OCR box needs 4 points, got {len(pts)}")
    return pts[0], pts[1], pts[2], pts[3]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class CombinedEngine:
    """Several engines read the same image; their lines stay tagged with the engine that read them."""

    def __init__(self, engines: tuple[OcrEngine, ...]) -> None:
        if not engines:
            raise QAUsageError("a combined OCR engine needs at least one engine")
        self.engines = engines

    @property
    def info(self) -> EngineInfo:
        infos = [e.info for e in self.engines]
        hashes = {f"{i.name}/{k}": v for i in infos for k, v in i.model_hashes.items()}
        return EngineInfo(
            name="+".join(i.name for i in infos),
            version="; ".join(f"{i.name} {i.version}" for i in infos),
            model_hashes=hashes,
        )

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        return tuple(line for engine in self.engines for line in engine.read(image))


def _rapidocr(**options: Any) -> OcrEngine:
    from qa.glyphs.rapid import RapidOcrEngine

    return RapidOcrEngine(**options)


def _easyocr(**options: Any) -> OcrEngine:
    from qa.glyphs.easy import EasyOcrEngine

    return EasyOcrEngine(**options)


_FACTORIES: dict[str, Callable[..., OcrEngine]] = {"rapidocr": _rapidocr, "easyocr": _easyocr}
_OPTION_PREFIXES = ("rapidocr_", "easyocr_")
ENGINE_NAMES: tuple[str, ...] = (*_FACTORIES, "both")
DEFAULT_ENGINE = "rapidocr"


def get_engine(name: str = DEFAULT_ENGINE, **options: Any) -> OcrEngine:
    """Build (and load) the engine called `name`: one of `ENGINE_NAMES`.

    Options go to the engine's constructor. With `both`, prefix them with the engine's name
    (`easyocr_model_dir=...`, `rapidocr_threads=2`); unprefixed options go to both engines.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in ENGINE_NAMES:
        raise QAUsageError(f"unknown OCR engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")
    if key == "both":
        return CombinedEngine(tuple(f(**_options_for(n, options)) for n, f in _FACTORIES.items()))
    return _FACTORIES[key](**_options_for(key, options))


def _options_for(engine: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Unprefixed options plus `<engine>_<option>` ones with the prefix taken off."""
    chosen = {k: v for k, v in options.items() if not k.startswith(_OPTION_PREFIXES)}
    prefix = f"{engine}_"
    chosen.update({k[len(prefix) :]: v for k, v in options.items() if k.startswith(prefix)})
    return chosen
