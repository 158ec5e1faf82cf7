"""Engine self-calibration: can this OCR engine judge this expected text at all?

Before a generated picture is judged, the expected text is rendered in the five bundled fonts with
mild damage (`zimage_qa.glyphs.render`), twice each, and the engine reads the renders. Each look-alike of
the text (one character replaced by a confusable from `confusables.toml`: 茶 -> 荼) is rendered once
per font and read too. The engine can judge the text when it
- reads the text exactly in at least `MIN_READ_RATE` of the renders, and
- never reads a look-alike render as the text, or, where it does, gives the swapped character a
  lower score than it ever gives the true character (`Threshold`): then a reading of the text with
  that character scored at or below the threshold is not trusted.
Otherwise the case "cannot be judged with this engine (it reads 夭 as 天)": a pass would not prove
the picture right. The decision uses the bundled fonts only.

Engines that recognise ready-cut lines (`LineRecogniser`) read the renders without detection, in one
batch (about 0.2-0.6 s a case on 2 cores); others read each render through `read`.

Results are cached for the life of the process and on disk (`zimage_qa.glyphs.cache`, kind "calibration"),
keyed by the engine's name, version and model file hashes, the text, and a hash of what else a
calibration depends on (`_code_version`: this module, the renderer, the engine's module, the
confusables table, the bundled fonts, Pillow's version) and the rules below. Any change to one of
them calibrates again; a corrupt or unreadable entry is ignored and recomputed.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zimage_qa.glyphs.confusables import Substitution, substitutions
from zimage_qa.glyphs.lines import LineRecogniser, OcrEngine, Recognition, parts
from zimage_qa.glyphs.render import FONT_FILES, missing, render_line
from zimage_qa.glyphs.verdict import check_expected, normalise, reading_order

if TYPE_CHECKING:
    from PIL import Image

MIN_READ_RATE = 0.75  # share of clean-ish renders an engine must read exactly to judge a text
RENDERS_PER_FONT = 2  # of the expected text; each look-alike is rendered once per font
SCORE_MARGIN = 0.05  # the true character must score this much above any look-alike read as it


class CalibrationStatus(Enum):
    JUDGEABLE = "judgeable"
    CANNOT_JUDGE = "cannot be judged"


@dataclass(frozen=True)
class LookAlike:
    """How often one look-alike text was read as the expected text, over its renders."""

    substitution: Substitution
    renders: int
    read_as_expected: int
    scores: tuple[float, ...] = ()  # the swapped character's score where it was read as expected

    @property
    def rejected(self) -> bool:
        return self.read_as_expected == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.substitution.text,
            "pair": self.substitution.pair,
            "renders": self.renders,
            "read_as_expected": self.read_as_expected,
            "scores": [round(s, 4) for s in self.scores],
        }


@dataclass(frozen=True)
class Threshold:
    """A reading of the expected text is trusted at `index` only when that character scores above
    `score`: look-alikes that read as the text scored at most `look_alike`, true renders `true_min`."""

    index: int
    char: str
    score: float
    look_alike: float
    true_min: float
    pairs: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "char": self.char, "score": round(self.score, 4),
                "look_alike": round(self.look_alike, 4), "true_min": round(self.true_min, 4),
                "pairs": list(self.pairs)}  # fmt: skip


@dataclass(frozen=True)
class EngineCalibration:
    """One engine against one expected text."""

    engine: str
    expected: str
    status: CalibrationStatus
    reason: str
    renders: int
    read_exactly: int
    misreads: tuple[str, ...] = ()  # what the renders of the text read as, when not exact
    look_alikes: tuple[LookAlike, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    seconds: float = 0.0
    cached: bool = False  # read from the disk cache (`seconds` is then the time it took when made)

    @property
    def judgeable(self) -> bool:
        return self.status is CalibrationStatus.JUDGEABLE

    @property
    def read_rate(self) -> float:
        return self.read_exactly / self.renders if self.renders else 0.0

    @property
    def blind_spots(self) -> tuple[LookAlike, ...]:
        """Look-alikes read as the text that no score threshold separates."""
        separated = {pair for t in self.thresholds for pair in t.pairs}
        return tuple(a for a in self.look_alikes if not a.rejected and a.substitution.pair not in separated)

    @property
    def rejected(self) -> int:
        """Look-alike texts never read as the expected one, or told apart by score."""
        return len(self.look_alikes) - len(self.blind_spots)

    def summary(self) -> str:
        alikes = f"{self.rejected}/{len(self.look_alikes)} look-alikes rejected"
        scored = f" ({len(self.thresholds)} by score)" if self.thresholds else ""
        return (f"{self.engine}: reads {self.expected!r} in {self.read_exactly}/{self.renders} renders, "
                f"{alikes}{scored}: {self.reason}")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "expected": self.expected,
            "status": self.status.value,
            "reason": self.reason,
            "read_rate": round(self.read_rate, 4),
            "renders": self.renders,
            "read_exactly": self.read_exactly,
            "misreads": list(self.misreads),
            "look_alikes_rejected": self.rejected,
            "look_alikes": [a.to_dict() for a in self.look_alikes],
            "blind_spots": [a.substitution.pair for a in self.blind_spots],
            "thresholds": [t.to_dict() for t in self.thresholds],
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
        }


@dataclass(frozen=True)
class Calibration:
    """Every engine of a (possibly combined) engine against one expected text."""

    expected: str
    engines: tuple[EngineCalibration, ...] = field(default_factory=tuple)

    @property
    def judgeable(self) -> bool:
        return any(e.judgeable for e in self.engines)

    def for_engine(self, name: str) -> EngineCalibration | None:
        return next((e for e in self.engines if e.engine == name), None)

    @property
    def reason(self) -> str:
        return "; ".join(f"{e.engine}: {e.reason}" for e in self.engines)

    def summary(self) -> str:
        return "; ".join(e.summary() for e in self.engines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "judgeable": self.judgeable,
            "summary": self.summary(),
            "engines": [e.to_dict() for e in self.engines],
        }


_CACHE: dict[tuple[Any, ...], EngineCalibration] = {}
_CACHE_LOCK = threading.Lock()


def calibrate(engine: OcrEngine, expected: str) -> Calibration:
    """Calibrate each engine inside `engine` against `expected` (cached per engine models and text)."""
    check_expected(expected)
    return Calibration(expected, tuple(_calibrate_one(part, expected) for part in parts(engine)))


def _calibrate_one(engine: OcrEngine, expected: str) -> EngineCalibration:
    info = engine.info
    key = (info.name, info.version, tuple(sorted(info.model_hashes.items())), expected)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    disk_key = _disk_key(engine, expected)
    result = _from_disk(disk_key)
    if result is None:
        from zimage_qa.glyphs import cache

        started = time.perf_counter()
        result = replace(_measure(engine, expected), seconds=time.perf_counter() - started)
        cache.store("calibration", disk_key, _to_record(result))
    with _CACHE_LOCK:
        _CACHE[key] = result
    return result


@functools.cache
def _code_version(engine_module: str | None) -> str:
    """SHA-256 over what a calibration depends on besides the engine's models and the text."""
    import hashlib

    import PIL

    from zimage_qa.glyphs import confusables, render

    files = [Path(__file__), Path(render.__file__), Path(confusables.__file__)]
    files += [Path(engine_module)] if engine_module else []
    files += [render.font_dir() / name for name in (*render.FONT_FILES.values(), render.CHARACTERS)]
    files.append(Path(confusables.__file__).with_name(confusables.TABLE))
    digest = hashlib.sha256(f"Pillow {PIL.__version__}".encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _disk_key(engine: OcrEngine, expected: str) -> dict[str, Any]:
    info = engine.info
    module = getattr(sys.modules.get(type(engine).__module__), "__file__", None)
    return {
        "engine": info.name,
        "version": info.version,
        "models": dict(sorted(info.model_hashes.items())),
        "expected": expected,
        "code": _code_version(module),
        "rules": [MIN_READ_RATE, RENDERS_PER_FONT, SCORE_MARGIN],
    }


def _to_record(result: EngineCalibration) -> dict[str, Any]:
    record = asdict(result)
    record["status"] = result.status.value
    del record["cached"]
    return record


def _from_disk(key: dict[str, Any]) -> EngineCalibration | None:
    """The calibration stored for `key`, or None when there is none or it does not parse."""
    from zimage_qa.glyphs import cache

    record: Any = cache.load("calibration", key)
    try:
        looked = tuple(
            LookAlike(Substitution(**a["substitution"]), int(a["renders"]), int(a["read_as_expected"]),
                      tuple(float(s) for s in a["scores"]))
            for a in record["look_alikes"]
        )  # fmt: skip
        thresholds = tuple(
            Threshold(int(t["index"]), str(t["char"]), float(t["score"]), float(t["look_alike"]),
                      float(t["true_min"]), tuple(str(p) for p in t["pairs"]))
            for t in record["thresholds"]
        )  # fmt: skip
        result = EngineCalibration(
            str(record["engine"]), str(record["expected"]), CalibrationStatus(record["status"]),
            str(record["reason"]), int(record["renders"]), int(record["read_exactly"]),
            tuple(str(m) for m in record["misreads"]), looked, thresholds, float(record["seconds"]), True,
        )  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return result if (result.engine, result.expected) == (key["engine"], key["expected"]) else None


def _measure(engine: OcrEngine, expected: str) -> EngineCalibration:
    name = engine.info.name
    alikes = substitutions(expected)
    lacking = missing(expected + "".join(s.replacement for s in alikes))
    if missing(expected):
        return EngineCalibration(
            name, expected, CalibrationStatus.CANNOT_JUDGE,
            f"cannot be judged with this engine: the bundled calibration fonts lack {missing(expected)}, "
            "so the engine's reading of this text cannot be checked; use a text they cover",
            0, 0,
        )  # fmt: skip
    alikes = tuple(s for s in alikes if s.replacement not in lacking)
    styles = tuple(FONT_FILES)
    true_renders = [
        render_line(expected, style, seed) for style in styles for seed in range(RENDERS_PER_FONT)
    ]
    alike_renders = [render_line(s.text, style, 100) for s in alikes for style in styles]
    readings = _read_all(engine, [*true_renders, *alike_renders])
    truth, rest = readings[: len(true_renders)], readings[len(true_renders) :]
    want = normalise(expected)
    exact = [r for r in truth if normalise(r.text) == want]
    misreads = tuple(sorted({r.text for r in truth if normalise(r.text) != want}))
    looked = tuple(
        _look_alike(s, rest[i * len(styles) : (i + 1) * len(styles)], want) for i, s in enumerate(alikes)
    )
    thresholds = _thresholds(expected, exact, looked)
    return _decide(name, expected, len(truth), len(exact), misreads, looked, thresholds)


def _look_alike(sub: Substitution, readings: Sequence[Recognition], want: str) -> LookAlike:
    accepted = [r for r in readings if normalise(r.text) == want]
    scores = tuple(s for s in (_score_at(r, sub.index) for r in accepted) if s is not None)
    if len(scores) < len(accepted):  # a score is missing: no threshold can be trusted
        scores = ()
    return LookAlike(sub, len(readings), len(accepted), scores)


def _score_at(reading: Recognition, index: int) -> float | None:
    """The score of the `index`-th non-space character of the expected text, when known."""
    visible = [score for ch, score in reading.chars if normalise(ch)]
    return visible[index] if 0 <= index < len(visible) else None


def _thresholds(
    expected: str, exact: Sequence[Recognition], looked: Sequence[LookAlike]
) -> tuple[Threshold, ...]:
    """Per position where a look-alike read as the text: a score separating true from swapped, if any."""
    positions = [i for i, ch in enumerate(ch for ch in expected if not ch.isspace())]
    found = []
    for index in positions:
        fooled = [
            a for a in looked if not a.rejected and _visible_index(expected, a.substitution.index) == index
        ]
        if not fooled or any(not a.scores for a in fooled):
            continue
        true_scores = [s for s in (_score_at(r, index) for r in exact) if s is not None]
        if len(true_scores) < len(exact) or not true_scores:
            continue
        worst_alike, true_min = max(s for a in fooled for s in a.scores), min(true_scores)
        if true_min - worst_alike >= SCORE_MARGIN:
            char = [ch for ch in expected if not ch.isspace()][index]
            pairs = tuple(a.substitution.pair for a in fooled)
            found.append(Threshold(index, char, (worst_alike + true_min) / 2, worst_alike, true_min, pairs))
    return tuple(found)


def _visible_index(text: str, index: int) -> int:
    return index - sum(1 for ch in text[:index] if ch.isspace())


def _decide(
    name: str,
    expected: str,
    renders: int,
    exact: int,
    misreads: tuple[str, ...],
    looked: tuple[LookAlike, ...],
    thresholds: tuple[Threshold, ...],
) -> EngineCalibration:
    result = EngineCalibration(
        name, expected, CalibrationStatus.JUDGEABLE, "", renders, exact, misreads, looked, thresholds
    )
    problems = []
    if result.read_rate < MIN_READ_RATE:
        seen = ", ".join(repr(m) for m in misreads[:3]) or "nothing"
        problems.append(f"it reads {expected!r} exactly in only {exact} of {renders} renders (else {seen})")
    blind = result.blind_spots
    if blind:
        pairs = ", ".join(f"{a.substitution.replacement} as {a.substitution.original}" for a in blind)
        problems.append(f"it reads {pairs}")
    if problems:
        reason = f"cannot be judged with this engine ({'; '.join(problems)})"
        return EngineCalibration(
            name,
            expected,
            CalibrationStatus.CANNOT_JUDGE,
            reason,
            renders,
            exact,
            misreads,
            looked,
            thresholds,
        )
    return EngineCalibration(
        name, expected, CalibrationStatus.JUDGEABLE,
        f"judgeable: reads it in {exact}/{renders} renders and rejects its {len(looked)} look-alikes",
        renders, exact, misreads, looked, thresholds,
    )  # fmt: skip


def _read_all(engine: OcrEngine, renders: Sequence[Image.Image]) -> tuple[Recognition, ...]:
    """Each render read as one line: by the recogniser alone where the engine offers it."""
    if isinstance(engine, LineRecogniser):
        return engine.recognise(renders)
    return tuple(_read_scene(engine, render) for render in renders)


def _read_scene(engine: OcrEngine, render: Image.Image) -> Recognition:
    """An engine without a line recogniser reads the render padded onto a plain canvas."""
    from PIL import Image

    canvas = Image.new("RGB", (render.width + 64, render.height + 64), render.getpixel((0, 0)))
    canvas.paste(render, (32, 32))
    lines = reading_order(engine.read(canvas))
    text = "".join(line.text for line in lines)
    chars = tuple(pair for line in lines for pair in line.chars) if all(ln.chars for ln in lines) else ()
    score = min((line.score for line in lines), default=0.0)
    return Recognition(text, score, chars)


def cached() -> Mapping[tuple[Any, ...], EngineCalibration]:
    """What this process has calibrated so far (for tests and reports)."""
    with _CACHE_LOCK:
        return dict(_CACHE)
