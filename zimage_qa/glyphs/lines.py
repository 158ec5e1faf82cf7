"""What OCR engines return (`TextLine`, `Recognition`, `EngineInfo`) and promise (`OcrEngine`,
`LineRecogniser`), and how several are read as one (`CombinedEngine`). The engines themselves
(`zimage_qa.glyphs.rapid`, `ppocr4`, `easy`) import this module; `zimage_qa.glyphs.engines` picks one by name, so no
engine module imports the registry that imports it.

Every engine runs on the CPU (never on the GPU the gate measures), and one engine object may be
used from one worker thread other than the one that built it (calls are serialised by a lock).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from zimage_qa.errors import QAUsageError

if TYPE_CHECKING:
    from PIL import Image

Point = tuple[float, float]
Box = tuple[Point, Point, Point, Point]

# Per character read: the characters a CTC recogniser gave the most probability over the frames
# where it read that character (highest first, the character read among them), each with the
# largest probability it reached there.
Alternatives = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class TextLine:
    """One region of text as an engine read it: the text, its box (4 corner points, clockwise from
    top-left, in image pixels), the engine's confidence in [0, 1], and which engine read it.

    `chars`, when the engine provides them: each character of `text` that is not a space, with the
    recogniser's confidence in it, in order. A look-alike the recogniser hesitates over (茶 or 荼)
    shows as one low score in an otherwise confident line.
    `alternatives`, when the engine provides them: per character of `chars`, the recogniser's
    `Alternatives` at that position (the character read and its runners-up, with probabilities).
    """

    text: str
    box: Box
    score: float
    engine: str = ""
    chars: tuple[tuple[str, float], ...] = ()
    alternatives: tuple[Alternatives, ...] = ()

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
            "chars": [[ch, round(score, 4)] for ch, score in self.chars],
            "alternatives": [[[ch, round(p, 4)] for ch, p in alts] for alts in self.alternatives],
        }


@dataclass(frozen=True)
class Recognition:
    """What a recogniser read in one ready-cut line: text, line confidence, per-character scores, and
    per character its `Alternatives` where the recogniser provides them."""

    text: str
    score: float
    chars: tuple[tuple[str, float], ...] = ()
    alternatives: tuple[Alternatives, ...] = ()


def probability(alternatives: Alternatives, ch: str) -> float:
    """The probability `alternatives` give `ch` (0 when it is not among them)."""
    return next((p for other, p in alternatives if other == ch), 0.0)


def char_scores(text: str, scores: Any) -> tuple[tuple[str, float], ...]:
    """Pair the non-space characters of `text` with `scores` (one per character, spaces included
    or not); empty when the counts do not line up."""
    values = [float(s) for s in scores or ()]
    if len(values) == len(text):
        return tuple((ch, v) for ch, v in zip(text, values, strict=True) if not ch.isspace())
    visible = [ch for ch in text if not ch.isspace()]
    if len(values) == len(visible):
        return tuple(zip(visible, values, strict=True))
    return ()


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


@runtime_checkable
class LineRecogniser(Protocol):
    """An engine that can also read ready-cut single-line pictures, without detection (fast)."""

    @property
    def info(self) -> EngineInfo: ...

    def recognise(self, lines: Sequence[Image.Image]) -> tuple[Recognition, ...]: ...


def to_box(points: Any) -> Box:
    """Four (x, y) points from whatever sequence or array an engine returns."""
    pts = [(float(p[0]), float(p[1])) for p in points]
    if len(pts) != 4:
        raise ValueError(f"an OCR box needs 4 points, got {len(pts)}")
    return pts[0], pts[1], pts[2], pts[3]


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


def parts(engine: OcrEngine) -> tuple[OcrEngine, ...]:
    """The single engines inside `engine` (itself, unless it is a `CombinedEngine`)."""
    return engine.engines if isinstance(engine, CombinedEngine) else (engine,)
