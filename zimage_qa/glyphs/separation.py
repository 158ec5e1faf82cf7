"""Telling a text from its look-alikes by score: what the look-alike renders read as, and the thresholds
a reading of the text must meet.

Every look-alike is screened with one mild render per font. One that is read as the text there, or
whose renders give the expected character at least `RISK_FLOOR` of probability, is probed with up to
`PROBE_SEEDS` varied renders per font (size, blur, JPEG, rotation, clutter), in rounds that stop once
it is plainly blind. Then, per character of the text:
- look-alikes never read as the text give an *expected* threshold: the most probability any of their
  renders gave the expected character, plus `MARGIN`; a reading must score the character above it;
- every look-alike that came close gives a *rival* threshold when, at that character, the least
  probability its renders gave the look-alike (those read as the text, if any) is at least
  `SEPARATION` times the most the true renders of the text gave it: the geometric mean of the two,
  which a reading's runner-up must stay under. A look-alike read as the text with no such gap is a
  blind spot: no score tells 舂 from 春 with this engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zimage_qa.glyphs import probe
from zimage_qa.glyphs.confusables import Substitution
from zimage_qa.glyphs.fontset import Face
from zimage_qa.glyphs.lines import Alternatives, OcrEngine
from zimage_qa.glyphs.verdict import normalise

PROBE_SEEDS = 6  # varied renders per font of a look-alike that came close in the screen
PROBE_ROUND = 3  # seeds per font read at once; probing stops once a look-alike is plainly blind
RISK_FLOOR = 0.02  # a look-alike render giving the expected character this much probability is probed
MARGIN = 0.15  # an expected threshold: this much above the most any look-alike render gave the character
SEPARATION = 8.0  # a rival threshold needs the look-alike this many times likelier on its own renders
RIVAL_FLOOR = 1e-5  # probabilities are kept to 5 decimals: the least a true render is taken to give


@dataclass(frozen=True)
class LookAlike:
    """How one look-alike text read over its renders: how often as the expected text, the most
    probability (`peak`) any render gave the expected character at the swapped position, and the
    least probability (`rival_min`) its renders gave the look-alike there (only those read as the
    text, when some were)."""

    substitution: Substitution
    renders: int
    read_as_expected: int
    peak: float
    rival_min: float = 1.0
    probed: bool = False

    @property
    def pair(self) -> str:
        return self.substitution.pair

    @property
    def close(self) -> bool:
        return self.read_as_expected > 0 or self.peak >= RISK_FLOOR

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.substitution.text,
            "pair": self.pair,
            "source": self.substitution.source.value,
            "renders": self.renders,
            "read_as_expected": self.read_as_expected,
            "peak": round(self.peak, 5),
            "rival_min": round(self.rival_min, 5),
            "probed": self.probed,
        }


@dataclass(frozen=True)
class Threshold:
    """What a reading of the text must meet at `index` (of its compared characters): `char` scores
    above `score` (`rival` empty), or the look-alike `rival` scores below it. `look_alike` is the
    look-alike renders' side of the gap (the most they gave `char`; the least they gave `rival`),
    `true_bound` the true renders' side (the least they gave `char`; the most they gave `rival`)."""

    index: int
    char: str
    rival: str
    score: float
    look_alike: float
    true_bound: float
    pairs: tuple[str, ...]

    def holds(self, alignment: Sequence[Alternatives]) -> bool:
        alternatives = alignment[self.index]
        if self.rival:
            return probe.rival_probability(alternatives, self.rival) < self.score
        return probe.expected_probability(alternatives, self.char) > self.score

    def doubt(self, alignment: Sequence[Alternatives]) -> str:
        """Why a reading that fails this threshold is not trusted, in one clause."""
        alternatives = alignment[self.index]
        if self.rival:
            got = probe.rival_probability(alternatives, self.rival)
            return (
                f"{self.rival} scores {got:.2g} at {self.char}, not under {self.score:.2g} (renders of "
                f"{self.rival} read as {self.char} gave it at least {self.look_alike:.2g}, true renders at "
                f"most {self.true_bound:.2g})"
            )
        got = probe.expected_probability(alternatives, self.char)
        return (
            f"{self.char} has a score of {got:.2f}, not above {self.score:.2f} (look-alikes "
            f"{', '.join(self.pairs)} gave {self.char} up to {self.look_alike:.2f} in calibration, "
            f"true renders at least {self.true_bound:.2f})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "char": self.char,
            "rival": self.rival,
            "score": round(self.score, 6),
            "look_alike": round(self.look_alike, 5),
            "true_bound": round(self.true_bound, 5),
            "pairs": list(self.pairs),
        }


@dataclass(frozen=True)
class _Tally:
    """One look-alike over some renders (see `LookAlike`)."""

    peak: float = 0.0
    renders: int = 0
    read_as_expected: int = 0
    rival_as_expected: float = 1.0  # least probability of the look-alike where read as the text
    rival_any: float = 1.0  # ... over every render

    @property
    def rival_min(self) -> float:
        return self.rival_as_expected if self.read_as_expected else self.rival_any

    def __add__(self, other: _Tally) -> _Tally:
        return _Tally(
            max(self.peak, other.peak),
            self.renders + other.renders,
            self.read_as_expected + other.read_as_expected,
            min(self.rival_as_expected, other.rival_as_expected),
            min(self.rival_any, other.rival_any),
        )


def look(engine: OcrEngine, subs: Sequence[Substitution], faces: Sequence[Face]) -> tuple[LookAlike, ...]:
    """Screen every look-alike with one mild render per font, then probe those that came close."""
    shapes = [probe.window(sub) for sub in subs]
    drawing = [tuple(face for face in faces if face.draws(text)) for text, _, _ in shapes]

    def jobs(i: int, seeds: range) -> list[probe.Job]:
        return [probe.Job(shapes[i][0], face, seed, shapes[i][1]) for face in drawing[i] for seed in seeds]

    screened = _tally(engine, subs, shapes, [jobs(i, range(1)) for i in range(len(subs))])
    risky = [i for i, tally in enumerate(screened) if tally.peak >= RISK_FLOOR or tally.read_as_expected]
    probed = {i: _Tally() for i in risky}
    for first in range(1, 1 + PROBE_SEEDS, PROBE_ROUND):
        going = [i for i in risky if not _plainly_blind(screened[i] + probed[i])]
        seeds = range(first, min(first + PROBE_ROUND, 1 + PROBE_SEEDS))
        tallies = _tally(
            engine, [subs[i] for i in going], [shapes[i] for i in going], [jobs(i, seeds) for i in going]
        )
        for i, more in zip(going, tallies, strict=True):
            probed[i] = probed[i] + more
    found = []
    for i, sub in enumerate(subs):
        total = screened[i] + probed[i] if i in probed else screened[i]
        found.append(
            LookAlike(sub, total.renders, total.read_as_expected, total.peak, total.rival_min, i in probed)
        )
    return tuple(found)


def _plainly_blind(tally: _Tally) -> bool:
    """Read as the text with the look-alike given next to nothing: more renders can only lower
    `rival_min`, so no threshold can come of them."""
    return tally.read_as_expected > 0 and tally.rival_min < RIVAL_FLOOR * SEPARATION


def _tally(
    engine: OcrEngine,
    subs: Sequence[Substitution],
    shapes: Sequence[tuple[str, int, str]],
    jobs: Sequence[Sequence[probe.Job]],
) -> list[_Tally]:
    """Read every job at once; per look-alike, what its renders gave the expected character."""
    readings = iter(probe.read(engine, [job for group in jobs for job in group]))
    found = []
    for sub, (_, at, original), group in zip(subs, shapes, jobs, strict=True):
        tally = _Tally()
        count = len(probe.visible(original))
        for reading in [next(readings) for _ in group]:
            alignment = probe.aligned(reading, count)
            as_expected = normalise(reading.text) == normalise(original)
            if alignment is None:
                tally = tally + _Tally(0.0, 1, int(as_expected), 0.0 if as_expected else 1.0, 0.0)
                continue
            peak = probe.expected_probability(alignment[at], sub.original)
            rival = probe.rival_probability(alignment[at], sub.replacement)
            tally = tally + _Tally(peak, 1, int(as_expected), rival if as_expected else 1.0, rival)
        found.append(tally)
    return found


def thresholds(
    want: Sequence[str], truth: Sequence[Sequence[Alternatives]], looked: Sequence[LookAlike]
) -> tuple[tuple[Threshold, ...], tuple[str, ...]]:
    """Per compared character with look-alikes that came close: its thresholds; and the blind pairs.
    `truth`: the alignments of the true renders read exactly."""
    found: list[Threshold] = []
    blind: list[str] = []
    for index, char in enumerate(want):
        close = [a for a in looked if _position(a) == index and a.close]
        never = [a for a in close if not a.read_as_expected]
        if never:
            worst = max(a.peak for a in never)
            least = min((probe.expected_probability(al[index], char) for al in truth), default=0.0)
            if worst + MARGIN >= 1.0:
                blind += [a.pair for a in never if a.peak + MARGIN >= 1.0]
            else:
                found.append(
                    Threshold(index, char, "", worst + MARGIN, worst, least, tuple(a.pair for a in never))
                )
        for alike in close:
            rival = alike.substitution.replacement
            most = max((probe.rival_probability(al[index], rival) for al in truth), default=1.0)
            most = max(most, RIVAL_FLOOR)
            if alike.rival_min >= SEPARATION * most:
                score = math.sqrt(most * alike.rival_min)
                found.append(Threshold(index, char, rival, score, alike.rival_min, most, (alike.pair,)))
            elif alike.read_as_expected:
                blind.append(alike.pair)
    return tuple(found), tuple(blind)


def _position(alike: LookAlike) -> int:
    sub = alike.substitution
    return next(i for i, (index, _) in enumerate(probe.visible(sub.text)) if index == sub.index)
