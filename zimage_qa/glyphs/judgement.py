"""The glyph verdict the gate hands to pytest: what the engine read, judged against the expected text
and against what the engine's calibration says it can tell apart.

For each engine (one, or two with `both`):
- the calibration says it cannot judge this text -> NOT_RUN "cannot be judged with this engine
  (it reads 夭 as 天)" (`--qa-strict` turns that into a failure);
- it read the text exactly, and the reading meets every threshold the calibration set (a character
  scored above what its look-alikes earned, a look-alike's score at that character below what its
  own renders gave it) -> PASSED;
- it read the text exactly, but a threshold is not met -> FAILED, naming the character, the score
  and the calibration's scores;
- it read something else -> FAILED with both texts.
With several engines (`both`) every engine must agree: any engine's failure fails the picture, an
engine that cannot judge the text makes the case not judged (named), and only when every engine
passes does the picture pass. A case with `min_score` (long texts, a few misreads allowed) needs
only the read rate: one look-alike character is a misread it already tolerates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from zimage_qa.glyphs.calibration import MIN_READ_RATE, Calibration, EngineCalibration
from zimage_qa.glyphs.lines import EngineInfo, TextLine
from zimage_qa.glyphs.probe import aligned, visible
from zimage_qa.glyphs.verdict import MatchStatus, TextMatch, judge
from zimage_qa.verdict import Status, Verdict


@dataclass(frozen=True)
class EngineJudgement:
    """One engine's conclusion on one picture."""

    engine: str
    status: Status
    message: str
    reading: TextMatch
    doubts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "status": self.status.value,
            "message": self.message,
            "read": self.reading.read,
            "doubts": list(self.doubts),
        }


def glyph_verdict(
    expected: str,
    lines: Iterable[TextLine],
    calibration: Calibration,
    *,
    min_score: float | None = None,
    engine: EngineInfo | None = None,
) -> Verdict:
    """Judge the lines one or more engines read in a picture against `expected`, given `calibration`
    (`zimage_qa.glyphs.calibration.calibrate(engine, expected)`, computed before)."""
    all_lines = tuple(lines)
    judged = tuple(
        _judge_one(expected, _own(all_lines, cal, calibration), cal, min_score) for cal in calibration.engines
    )
    if not judged:
        return Verdict.not_run(f"no OCR engine was calibrated for {expected!r}", expected=expected)
    decisive = _decisive(judged)
    return Verdict(
        decisive.status,
        _message(decisive, judged),
        _values(expected, all_lines, calibration, decisive, judged, engine),
    )


def _own(
    lines: tuple[TextLine, ...], cal: EngineCalibration, calibration: Calibration
) -> tuple[TextLine, ...]:
    if len(calibration.engines) == 1:
        return lines
    return tuple(line for line in lines if line.engine == cal.engine)


def _judge_one(
    expected: str, lines: tuple[TextLine, ...], cal: EngineCalibration, min_score: float | None
) -> EngineJudgement:
    reading = judge(expected, lines, min_score)
    if not _can_judge(cal, min_score):
        return EngineJudgement(cal.engine, Status.NOT_RUN, cal.reason, reading)
    if not reading.passed:
        return EngineJudgement(
            cal.engine,
            Status.FAILED,
            f"asked for {expected!r}, {cal.engine} read {reading.read!r} ({reading.reason})",
            reading,
        )
    doubts = () if min_score is not None else _doubts(expected, reading, cal)
    if doubts:
        message = (
            f"{cal.engine} read {reading.read!r}, but "
            + "; ".join(doubts)
            + f": likely a look-alike of {expected!r}"
        )
        return EngineJudgement(cal.engine, Status.FAILED, message, reading, doubts)
    return EngineJudgement(cal.engine, Status.PASSED, f"{cal.engine} read {reading.read!r} exactly", reading)


def _can_judge(cal: EngineCalibration, min_score: float | None) -> bool:
    if cal.judgeable:
        return True

    return min_score is not None and cal.renders > 0 and cal.read_rate >= MIN_READ_RATE


def _doubts(expected: str, reading: TextMatch, cal: EngineCalibration) -> tuple[str, ...]:
    """A clause per calibrated threshold the reading does not meet."""
    if not cal.thresholds:
        return ()
    line = TextLine(
        "".join(ln.text for ln in reading.best_lines),
        reading.best_lines[0].box,
        0.0,
        cal.engine,
        tuple(c for ln in reading.best_lines for c in ln.chars),
        tuple(a for ln in reading.best_lines for a in ln.alternatives),
    )
    alignment = aligned(line, len(visible(expected)))
    if alignment is None:
        return ("the reading has no per-character scores to check against the calibration",)
    return tuple(t.doubt(alignment) for t in cal.thresholds if not t.holds(alignment))


def _decisive(judged: tuple[EngineJudgement, ...]) -> EngineJudgement:
    """Every engine must agree: a failure decides, then an engine that cannot judge, then a pass."""
    for status in (Status.FAILED, Status.NOT_RUN, Status.PASSED):
        for one in judged:
            if one.status is status:
                return one
    return judged[0]


def _message(decisive: EngineJudgement, judged: tuple[EngineJudgement, ...]) -> str:
    if len(judged) == 1:
        return decisive.message
    if decisive.status is Status.NOT_RUN:
        blind = [j.engine for j in judged if j.status is Status.NOT_RUN]
        return f"not judged: {', '.join(blind)} cannot judge this text; " + "; ".join(
            f"{j.engine}: {j.message}" for j in judged
        )
    others = [f"{j.engine}: {j.message}" for j in judged if j is not decisive]
    return decisive.message + f" (other engines: {'; '.join(others)})"


def _values(
    expected: str,
    lines: tuple[TextLine, ...],
    calibration: Calibration,
    decisive: EngineJudgement,
    judged: tuple[EngineJudgement, ...],
    engine: EngineInfo | None,
) -> dict[str, Any]:
    reading = decisive.reading
    return {
        "expected": expected,
        "read": reading.read,
        "status": reading.status.value
        if decisive.status is not Status.NOT_RUN
        else MatchStatus.NOT_RUN.value,
        "precision": round(reading.precision, 4),
        "recall": round(reading.recall, 4),
        "ned": round(reading.ned, 4),
        "reason": decisive.message,
        "doubts": list(decisive.doubts),
        "chars": [[ch, round(score, 4)] for line in reading.best_lines for ch, score in line.chars],
        "full_read": "\n".join(line.text for line in lines),
        "best_lines": [line.to_dict() for line in reading.best_lines],
        "lines": [line.to_dict() for line in lines],
        "engines": [j.to_dict() for j in judged],
        "calibration": calibration.to_dict(),
        "engine": engine.to_dict() if engine else None,
    }
