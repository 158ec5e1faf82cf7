"""The text match: does what an engine read show the expected text?

Both texts are normalised (NFKC, Latin case-folded, whitespace, punctuation and control characters
removed). Every line an engine read, and every run of up to `MAX_SPAN` adjacent lines in reading
order (a title split in two boxes, a two-line poster), is a candidate region; the region closest
to the expected text wins. By default the verdict passes only when that region reads exactly the
expected text, so a look-alike (福/副), a dropped, extra or swapped character, unrelated text and no
text all fail. A case may instead set `min_score`: pass when 1 - NED >= min_score (for long texts).

Measures, on normalised text, of the winning region (the ones CVTG-2K and LongText-Bench report):
- precision = LCS(expected, read) / len(read), recall = LCS(expected, read) / len(expected);
- NED = Levenshtein(expected, read) / max(len(expected), len(read)): 0 identical, 1 nothing shared.
With several engines (`both`), each engine's lines form regions only among themselves and the best
reading of any engine is kept.

Whether the engine can be trusted with this text at all is `zimage_qa.glyphs.calibration`'s question; the
gate's `Verdict` combines both in `zimage_qa.glyphs.judgement`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.lines import EngineInfo, TextLine

MAX_SPAN = 6
MAX_EXPECTED_CHARS = 300
_DROPPED_CATEGORIES = ("P", "Z", "C")


class MatchStatus(Enum):
    PASSED = "passed"
    WRONG_TEXT = "wrong_text"
    NO_TEXT = "no_text"
    NOT_RUN = "not_run"


@dataclass(frozen=True)
class TextMatch:
    """What OCR read against what was asked. `read` is the winning region's text as read."""

    status: MatchStatus
    expected: str
    read: str
    precision: float
    recall: float
    ned: float
    reason: str
    min_score: float | None = None
    expected_normalised: str = ""
    read_normalised: str = ""
    best_lines: tuple[TextLine, ...] = ()
    lines: tuple[TextLine, ...] = ()
    engine: EngineInfo | None = None

    @property
    def passed(self) -> bool:
        return self.status is MatchStatus.PASSED

    @property
    def similarity(self) -> float:
        return 1.0 - self.ned

    @property
    def full_read(self) -> str:
        """Everything every engine read, one line per region."""
        return "\n".join(line.text for line in self.lines)

    @classmethod
    def not_run(cls, expected: str, reason: str) -> TextMatch:
        """A check that could not run (say, a model profile that cannot render text): never a pass."""
        return cls(MatchStatus.NOT_RUN, expected, "", 0.0, 0.0, 1.0, reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "status": self.status.value,
            "expected": self.expected,
            "read": self.read,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "ned": round(self.ned, 4),
            "min_score": self.min_score,
            "reason": self.reason,
            "expected_normalised": self.expected_normalised,
            "read_normalised": self.read_normalised,
            "best_lines": [line.to_dict() for line in self.best_lines],
            "full_read": self.full_read,
            "lines": [line.to_dict() for line in self.lines],
            "engine": self.engine.to_dict() if self.engine else None,
        }


def normalise(text: str) -> str:
    """NFKC, case-folded, with whitespace, punctuation and control/format characters removed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not unicodedata.category(ch).startswith(_DROPPED_CATEGORIES))


def check_expected(expected: object) -> str:
    """The normalised expected text, or QAUsageError when there is nothing sensible to look for."""
    if not isinstance(expected, str):
        raise QAUsageError(f"expected text must be a string, got {type(expected).__name__}")
    norm = normalise(expected)
    if not norm:
        raise QAUsageError(
            f"expected text {expected!r} is empty once whitespace and punctuation are removed; "
            "give the characters the image should show"
        )
    if len(norm) > MAX_EXPECTED_CHARS:
        raise QAUsageError(
            f"expected text has {len(norm)} characters, more than {MAX_EXPECTED_CHARS}; "
            "split it into several glyph cases"
        )
    return norm


def check_min_score(min_score: float | None) -> float | None:
    if min_score is None:
        return None
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) or not 0 < min_score <= 1:
        raise QAUsageError(
            f"min_score must be a number in (0, 1], got {min_score!r}; omit it for exact match"
        )
    return float(min_score)


@dataclass(frozen=True)
class _Scored:
    region: tuple[TextLine, ...]
    norm: str
    precision: float
    recall: float
    ned: float
    distance: int

    def passes(self, want: str, threshold: float | None) -> bool:
        if threshold is None:
            return self.distance == 0
        return 1.0 - self.distance / max(len(want), len(self.norm)) >= threshold - 1e-12

    def key(self, want: str, threshold: float | None) -> tuple[bool, float, float, float, int]:
        return (not self.passes(want, threshold), self.ned, -self.recall, -self.precision, len(self.region))


def judge(
    expected: str,
    lines: Iterable[TextLine],
    min_score: float | None = None,
    engine: EngineInfo | None = None,
) -> TextMatch:
    """Compare what OCR read (`lines`, from one engine or several) with `expected`."""
    want = check_expected(expected)
    threshold = check_min_score(min_score)
    all_lines = tuple(lines)
    best: _Scored | None = None
    for group in _by_engine(all_lines):
        for region in regions(group, max_chars=2 * len(want) + 2):
            scored = _score(want, region)
            if scored.norm and (best is None or scored.key(want, threshold) < best.key(want, threshold)):
                best = scored
    if best is None:
        return TextMatch(
            MatchStatus.NO_TEXT,
            expected,
            "",
            0.0,
            0.0,
            1.0,
            f"expected {expected!r}, but OCR found no text",
            threshold,
            want,
            "",
            (),
            all_lines,
            engine,
        )
    read = "".join(line.text for line in best.region)
    status = MatchStatus.PASSED if best.passes(want, threshold) else MatchStatus.WRONG_TEXT
    return TextMatch(
        status,
        expected,
        read,
        best.precision,
        best.recall,
        best.ned,
        _reason(status, expected, read, best, threshold, all_lines),
        threshold,
        want,
        best.norm,
        best.region,
        all_lines,
        engine,
    )


def _score(want: str, region: tuple[TextLine, ...]) -> _Scored:
    from rapidfuzz.distance import LCSseq, Levenshtein

    got = normalise("".join(line.text for line in region))
    if not got:
        return _Scored(region, got, 0.0, 0.0, 1.0, len(want))
    common = LCSseq.similarity(want, got)
    distance = Levenshtein.distance(want, got)
    ned = distance / max(len(want), len(got))
    return _Scored(region, got, common / len(got), common / len(want), ned, distance)


def _reason(
    status: MatchStatus,
    expected: str,
    read: str,
    best: _Scored,
    threshold: float | None,
    lines: Sequence[TextLine],
) -> str:
    scores = f"precision {best.precision:.2f}, recall {best.recall:.2f}, NED {best.ned:.2f}"
    if status is MatchStatus.PASSED:
        rule = "exactly" if threshold is None else f"with similarity {1 - best.ned:.2f} >= {threshold:.2f}"
        return f"read {read!r} {rule} ({scores})"
    rule = "is not exactly" if threshold is None else f"similarity {1 - best.ned:.2f} < {threshold:.2f} to"
    everything = " | ".join(line.text for line in lines)
    return f"best region read {read!r}, which {rule} the expected {expected!r} ({scores}); all text: {everything!r}"


def _by_engine(lines: Sequence[TextLine]) -> list[list[TextLine]]:
    groups: dict[str, list[TextLine]] = {}
    for line in lines:
        groups.setdefault(line.engine, []).append(line)
    return list(groups.values())


def reading_order(lines: Iterable[TextLine]) -> list[TextLine]:
    """Rows top to bottom (lines whose centres are within half a line height share a row), each
    row left to right."""
    pending = sorted(lines, key=lambda ln: _centre_y(ln))
    rows: list[list[TextLine]] = []
    for line in pending:
        if rows and abs(_centre_y(line) - _centre_y(rows[-1][0])) < 0.5 * _height(rows[-1][0]):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda ln: ln.bounds[0])]


def regions(lines: Iterable[TextLine], max_chars: int) -> Iterator[tuple[TextLine, ...]]:
    """Each line, and each run of up to MAX_SPAN adjacent lines (in reading order) whose
    normalised text stays within `max_chars`."""
    ordered = reading_order(lines)
    for start, first in enumerate(ordered):
        run = [first]
        size = len(normalise(first.text))
        yield (first,)
        for nxt in ordered[start + 1 : start + MAX_SPAN]:
            size += len(normalise(nxt.text))
            if size > max_chars or not adjacent(run[-1], nxt):
                break
            run.append(nxt)
            yield tuple(run)


def adjacent(a: TextLine, b: TextLine) -> bool:
    """b continues a: on the same row a short gap to its right, or just below it, overlapping."""
    al, at, ar, ab = a.bounds
    bl, bt, br, bb = b.bounds
    h = max(ab - at, bb - bt, 1.0)
    v_overlap = min(ab, bb) - max(at, bt)
    same_row = v_overlap >= 0.5 * min(ab - at, bb - bt) and -0.5 * h <= bl - ar <= 1.5 * h
    stacked = min(ar, br) > max(al, bl) and -0.5 * h <= bt - ab <= 1.0 * h
    return same_row or stacked


def _centre_y(line: TextLine) -> float:
    _, top, _, bottom = line.bounds
    return (top + bottom) / 2


def _height(line: TextLine) -> float:
    _, top, _, bottom = line.bounds
    return max(bottom - top, 1.0)
