"""Engine self-calibration: can this OCR engine judge this expected text at all?

Before a generated picture is judged, the engine reads renders of the expected text and of its
look-alikes (`zimage_qa.glyphs.probe`: the hand table, the recogniser's own runners-up, the known
groups) in every calibration font that draws them (`zimage_qa.glyphs.fontset`: the bundled faces and a
user's own), mildly or variously damaged (`zimage_qa.glyphs.render`). The engine can judge the text when
- it reads the text exactly in at least `MIN_READ_RATE` of its `TRUE_SEEDS` renders per font, and those
  readings meet the thresholds `zimage_qa.glyphs.separation` sets from the look-alikes' renders, and
- no look-alike is a blind spot: read as the text with no score that tells them apart.
Otherwise the case "cannot be judged with this engine (it reads 舂 as 春)": a pass would not prove the
picture right. `zimage_qa.glyphs.judgement` checks a picture's reading against the same thresholds.

Results are cached for the life of the process and on disk (`zimage_qa.glyphs.cache`, kind
"calibration"), keyed by the engine's name, version and model file hashes, the text, the font set
(`FontSet.digest`, user fonts included), a hash of this code and its data (`_code_version`) and the
rules. A corrupt or unreadable entry is ignored and recomputed.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from zimage_qa.glyphs import cache, confusables, fontset, lines, probe, render, separation
from zimage_qa.glyphs.confusables import Source, Substitution
from zimage_qa.glyphs.fontset import FontSet, bundled
from zimage_qa.glyphs.lines import OcrEngine, parts
from zimage_qa.glyphs.separation import LookAlike, Threshold
from zimage_qa.glyphs.verdict import check_expected, normalise

MIN_READ_RATE = 0.75  # share of the text's renders the engine must read exactly, and trust
TRUE_SEEDS = 4  # renders of the text per font: one mild, the others varied


class CalibrationStatus(Enum):
    JUDGEABLE = "judgeable"
    CANNOT_JUDGE = "cannot be judged"


@dataclass(frozen=True)
class EngineCalibration:
    """One engine against one expected text."""

    engine: str
    expected: str
    status: CalibrationStatus
    reason: str
    renders: int
    read_exactly: int
    trusted: int = 0  # exact readings whose every thresholded character scores above its threshold
    misreads: tuple[str, ...] = ()  # what the renders of the text read as, when not exact
    look_alikes: tuple[LookAlike, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    blind: tuple[str, ...] = ()  # pairs no threshold separates, as "倌/馆"
    fonts: tuple[str, ...] = ()
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
        return tuple(a for a in self.look_alikes if a.pair in self.blind)

    @property
    def by_score(self) -> tuple[LookAlike, ...]:
        """Look-alikes read as the text in some render, told apart by a threshold."""
        return tuple(a for a in self.look_alikes if a.read_as_expected and a.pair not in self.blind)

    @property
    def rejected(self) -> int:
        return len(self.look_alikes) - len(self.blind_spots)

    def summary(self) -> str:
        alikes = f"{self.rejected}/{len(self.look_alikes)} look-alikes rejected"
        scored = f", {len(self.by_score)} by score" if self.by_score else ""
        probed = sum(a.probed for a in self.look_alikes)
        extra = f" ({probed} probed with varied renders{scored})" if probed else ""
        return (
            f"{self.engine}: reads {self.expected!r} in {self.read_exactly}/{self.renders} renders "
            f"({self.trusted} trusted), {alikes}{extra}: {self.reason}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "expected": self.expected,
            "status": self.status.value,
            "reason": self.reason,
            "read_rate": round(self.read_rate, 4),
            "renders": self.renders,
            "read_exactly": self.read_exactly,
            "trusted": self.trusted,
            "misreads": list(self.misreads),
            "look_alikes_rejected": self.rejected,
            "look_alikes_by_score": len(self.by_score),
            "look_alikes": [a.to_dict() for a in self.look_alikes],
            "blind_spots": list(self.blind),
            "thresholds": [t.to_dict() for t in self.thresholds],
            "fonts": list(self.fonts),
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
        """Every engine can judge the text (with `both`, both must)."""
        return bool(self.engines) and all(e.judgeable for e in self.engines)

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


def calibrate(engine: OcrEngine, expected: str, fonts: FontSet | None = None) -> Calibration:
    """Calibrate each engine inside `engine` against `expected` with `fonts` (default: the bundled ones);
    cached per engine models, text and font set."""
    check_expected(expected)
    chosen = fonts or bundled()
    return Calibration(expected, tuple(_calibrate_one(part, expected, chosen) for part in parts(engine)))


def _calibrate_one(engine: OcrEngine, expected: str, fonts: FontSet) -> EngineCalibration:
    info = engine.info
    key = (info.name, info.version, tuple(sorted(info.model_hashes.items())), expected, fonts.faces)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    disk_key = _disk_key(engine, expected, fonts)
    result = _from_disk(disk_key)
    if result is None:
        started = time.perf_counter()
        result = replace(_measure(engine, expected, fonts), seconds=time.perf_counter() - started)
        cache.store("calibration", disk_key, _to_record(result))
    with _CACHE_LOCK:
        _CACHE[key] = result
    return result


@functools.cache
def _code_version(engine_module: str | None) -> str:
    """SHA-256 over the code and data a calibration depends on besides the models, text and fonts."""
    import hashlib

    import PIL

    files = [
        Path(p) for p in (__file__, render.__file__, confusables.__file__, probe.__file__, lines.__file__)
    ]
    files += [Path(fontset.__file__), Path(engine_module)] if engine_module else [Path(fontset.__file__)]
    files += [Path(confusables.__file__).with_name(name) for name in (confusables.TABLE, confusables.KNOWN)]
    digest = hashlib.sha256(f"Pillow {PIL.__version__}".encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _disk_key(engine: OcrEngine, expected: str, fonts: FontSet) -> dict[str, Any]:
    info = engine.info
    module = getattr(sys.modules.get(type(engine).__module__), "__file__", None)
    return {
        "engine": info.name,
        "version": info.version,
        "models": dict(sorted(info.model_hashes.items())),
        "expected": expected,
        "fonts": fonts.digest(),
        "code": _code_version(module),
        "rules": [
            MIN_READ_RATE,
            TRUE_SEEDS,
            separation.PROBE_SEEDS,
            separation.PROBE_ROUND,
            separation.RISK_FLOOR,
            separation.MARGIN,
            separation.SEPARATION,
            probe.RUNNER_UP_FLOOR,
            probe.RUNNERS_UP,
            probe.PER_POSITION,
            probe.WINDOW,
        ],
    }


def _to_record(result: EngineCalibration) -> dict[str, Any]:
    record = asdict(result)
    record["status"] = result.status.value
    for alike in record["look_alikes"]:
        alike["substitution"]["source"] = alike["substitution"]["source"].value
    del record["cached"]
    return record


def _from_disk(key: dict[str, Any]) -> EngineCalibration | None:
    """The calibration stored for `key`, or None when there is none or it does not parse."""
    record: Any = cache.load("calibration", key)
    try:
        looked = tuple(
            LookAlike(
                Substitution(**{**a["substitution"], "source": Source(a["substitution"]["source"])}),
                int(a["renders"]),
                int(a["read_as_expected"]),
                float(a["peak"]),
                float(a["rival_min"]),
                bool(a["probed"]),
            )
            for a in record["look_alikes"]
        )
        thresholds = tuple(
            Threshold(
                int(t["index"]),
                str(t["char"]),
                str(t["rival"]),
                float(t["score"]),
                float(t["look_alike"]),
                float(t["true_bound"]),
                tuple(str(p) for p in t["pairs"]),
            )
            for t in record["thresholds"]
        )
        result = EngineCalibration(
            str(record["engine"]),
            str(record["expected"]),
            CalibrationStatus(record["status"]),
            str(record["reason"]),
            int(record["renders"]),
            int(record["read_exactly"]),
            int(record["trusted"]),
            tuple(str(m) for m in record["misreads"]),
            looked,
            thresholds,
            tuple(str(b) for b in record["blind"]),
            tuple(str(f) for f in record["fonts"]),
            float(record["seconds"]),
            True,
        )
    except (KeyError, TypeError, ValueError, AttributeError, StopIteration):
        return None
    return result if (result.engine, result.expected) == (key["engine"], key["expected"]) else None


def _measure(engine: OcrEngine, expected: str, fonts: FontSet) -> EngineCalibration:
    name = engine.info.name
    refusal = fonts.refusal(expected)
    if refusal is not None:
        return EngineCalibration(
            name,
            expected,
            CalibrationStatus.CANNOT_JUDGE,
            f"cannot be judged with this engine: {refusal}",
            0,
            0,
        )
    faces = fonts.covering(expected)
    want = [ch for _, ch in probe.visible(expected)]
    truth = probe.read(
        engine, [probe.Job(expected, face, seed) for face in faces for seed in range(TRUE_SEEDS)]
    )
    exact = [r for r in truth if normalise(r.text) == normalise(expected)]
    alignments = [a for a in (probe.aligned(r, len(want)) for r in exact) if a is not None]
    looked = separation.look(engine, probe.candidates(expected, truth, fonts.faces), fonts.faces)
    thresholds, blind = separation.thresholds(want, alignments, looked)
    trusted = sum(all(t.holds(a) for t in thresholds) for a in alignments)
    misreads = tuple(sorted({r.text for r in truth if normalise(r.text) != normalise(expected)}))
    return _decide(
        EngineCalibration(
            name,
            expected,
            CalibrationStatus.JUDGEABLE,
            "",
            len(truth),
            len(exact),
            trusted,
            misreads,
            looked,
            thresholds,
            blind,
            tuple(face.name for face in faces),
        )
    )


def _decide(result: EngineCalibration) -> EngineCalibration:
    problems = []
    if result.read_rate < MIN_READ_RATE:
        seen = ", ".join(repr(m) for m in result.misreads[:3]) or "nothing"
        problems.append(
            f"it reads {result.expected!r} exactly in only {result.read_exactly} of "
            f"{result.renders} renders (else {seen})"
        )
    if result.blind_spots:
        problems.append("it reads " + ", ".join(dict.fromkeys(_as(a) for a in result.blind_spots)))
    elif not problems and result.trusted < MIN_READ_RATE * result.renders:
        pairs = sorted({p for t in result.thresholds for p in t.pairs})
        problems.append(
            f"its readings of {result.expected!r} meet the look-alike thresholds in only "
            f"{result.trusted} of {result.renders} renders ({', '.join(pairs)} come too close)"
        )
    if problems:
        reason = f"cannot be judged with this engine ({'; '.join(problems)})"
        return replace(result, status=CalibrationStatus.CANNOT_JUDGE, reason=reason)
    scored = f", {len(result.by_score)} of them by score" if result.by_score else ""
    reason = (
        f"judgeable: reads it in {result.read_exactly}/{result.renders} renders and rejects its "
        f"{len(result.look_alikes)} look-alikes{scored}"
    )
    return replace(result, reason=reason)


def _as(alike: LookAlike) -> str:
    sub = alike.substitution
    if alike.read_as_expected:
        return f"{sub.replacement} as {sub.original}"
    return f"{sub.replacement} nearly as {sub.original}"


def cached() -> Mapping[tuple[Any, ...], EngineCalibration]:
    """What this process has calibrated so far (for tests and reports)."""
    with _CACHE_LOCK:
        return dict(_CACHE)
