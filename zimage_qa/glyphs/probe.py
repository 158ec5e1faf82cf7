"""What the calibration measures with an engine: renders read as lines, the probability a reading gives
each expected character, and the look-alikes worth rendering for a text.

Look-alikes of a character come from three places, in this order: the hand table
(`confusables.toml`), the recogniser's own runners-up at that character on renders of the text (what
this engine actually hesitates over: 倌 beside 馆), and the known groups of characters alike in shape
(`same_stroke.txt`). Only characters a calibration font draws, of the same kind (a CJK ideograph for
one, a Latin letter or digit for another) and not read as the same text once normalised are kept.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zimage_qa.glyphs import render
from zimage_qa.glyphs.confusables import Source, Substitution, known_look_alikes, look_alikes
from zimage_qa.glyphs.fontset import Face
from zimage_qa.glyphs.lines import Alternatives, LineRecogniser, OcrEngine, Recognition, TextLine, probability
from zimage_qa.glyphs.verdict import normalise, reading_order

if TYPE_CHECKING:
    from PIL import Image

RUNNERS_UP = 3  # the recogniser's most probable other characters probed per character of the text
RUNNER_UP_FLOOR = 1e-6  # ... when some render of the text gave them at least this probability
PER_POSITION = 4  # look-alikes probed per character at most: table first, then the engine's, then known
WINDOW = 2  # look-alikes of texts longer than 2 * WINDOW + 2 characters are rendered with this many
# neighbours each side of the swapped character, not the whole text
# one shape in many fonts (sans faces draw I and l alike): never a look-alike of each other
DRAWN_ALIKE = frozenset(frozenset(pair) for pair in ("O0", "o0", "Il", "I1", "l1", "i1", "il"))


@dataclass(frozen=True)
class Job:
    """One render to read: `text` in `face` with `seed`; `index` is the position judged in it."""

    text: str
    face: Face
    seed: int
    index: int = -1


def visible(text: str) -> list[tuple[int, str]]:
    """(index in `text`, character) of each character the verdict compares (see `normalise`)."""
    return [(i, ch) for i, ch in enumerate(text) if normalise(ch)]


def aligned(reading: Recognition | TextLine, count: int) -> list[Alternatives] | None:
    """Per compared character of a reading that has `count` of them: its alternatives (or, where the
    engine gives none, the character read with its score); None when the count differs."""
    kept = [i for i, (ch, _) in enumerate(reading.chars) if normalise(ch)]
    if len(kept) != count:
        return None
    if len(reading.alternatives) == len(reading.chars):
        return [reading.alternatives[i] for i in kept]
    return [(reading.chars[i],) for i in kept]


def expected_probability(alternatives: Alternatives, want: str) -> float:
    """The probability `alternatives` give `want`, or a character that normalises to it (Latin case)."""
    return max((p for ch, p in alternatives if ch == want or normalise(ch) == normalise(want)), default=0.0)


def rival_probability(alternatives: Alternatives, rival: str) -> float:
    """The probability `alternatives` give `rival`; when it is not among them, the least they list (the
    most it can have), or 1 when they list only the character read (no runners-up: no evidence)."""
    listed = probability(alternatives, rival)
    if listed or any(ch == rival for ch, _ in alternatives):
        return listed
    return min(p for _, p in alternatives) if len(alternatives) > 1 else 1.0


def read(engine: OcrEngine, jobs: Sequence[Job]) -> tuple[Recognition, ...]:
    """Each job rendered and read as one line: by the recogniser alone where the engine offers it."""
    renders = [render.render_line(job.text, job.face, job.seed) for job in jobs]
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
    alternatives = tuple(a for line in lines for a in line.alternatives)
    score = min((line.score for line in lines), default=0.0)
    return Recognition(text, score, chars, alternatives if len(alternatives) == len(chars) else ())


def candidates(
    expected: str, readings: Sequence[Recognition], faces: Sequence[Face]
) -> tuple[Substitution, ...]:
    """The look-alike texts to render: up to `PER_POSITION` per character (see the module docstring)."""
    shown = visible(expected)
    runners = _runners_up([ch for _, ch in shown], readings)
    found = []
    for position, (index, ch) in enumerate(shown):
        ranked = [(other, Source.TABLE) for other in look_alikes(ch)]
        ranked += [(other, Source.ENGINE) for other in _first(runners[position], ch, RUNNERS_UP)]
        ranked += [(other, Source.KNOWN) for other in known_look_alikes(ch)]
        seen: set[str] = set()
        for other, source in ranked:
            text = expected[:index] + other + expected[index + 1 :]
            if other in seen or not _swappable(ch, other) or not any(face.draws(text) for face in faces):
                continue
            seen.add(other)
            found.append(Substitution(text, index, ch, other, source))
            if len(seen) == PER_POSITION:
                break
    return tuple(found)


def _first(runners: Sequence[str], ch: str, count: int) -> list[str]:
    return [other for other in runners if _swappable(ch, other)][:count]


def _runners_up(expected: Sequence[str], readings: Sequence[Recognition]) -> list[list[str]]:
    """Per expected character, the other characters the recogniser gave at least `RUNNER_UP_FLOOR`
    there on a render read with the right number of characters, most probable first."""
    best: list[dict[str, float]] = [{} for _ in expected]
    for reading in readings:
        kept = [a for (ch, _), a in zip(reading.chars, reading.alternatives, strict=False) if normalise(ch)]
        if len(kept) != len(expected) or len(reading.alternatives) != len(reading.chars):
            continue
        for position, alternatives in enumerate(kept):
            for ch, p in alternatives:
                if p >= RUNNER_UP_FLOOR and ch != expected[position]:
                    best[position][ch] = max(p, best[position].get(ch, 0.0))
    return [sorted(found, key=lambda ch: -found[ch])[: 2 * RUNNERS_UP] for found in best]


def _swappable(ch: str, other: str) -> bool:
    if len(other) != 1 or normalise(other) == normalise(ch) or not normalise(other):
        return False
    if frozenset((ch, other)) in DRAWN_ALIKE:
        return False
    return _kind(ch) == _kind(other)


def _kind(ch: str) -> str:
    if unicodedata.name(ch, "").startswith("CJK"):
        return "cjk"
    return "latin" if ch.isascii() and ch.isalnum() else unicodedata.category(ch)


def window(sub: Substitution) -> tuple[str, int, str]:
    """(look-alike text to render, position of the swapped character in it, the expected text it
    stands for): the whole text when it is short, else the swapped character and `WINDOW` neighbours
    each side."""
    shown = visible(sub.text)
    position = next(i for i, (index, _) in enumerate(shown) if index == sub.index)
    if len(shown) <= 2 * WINDOW + 2:
        return sub.text, position, sub.text[: sub.index] + sub.original + sub.text[sub.index + 1 :]
    first, last = max(0, position - WINDOW), min(len(shown) - 1, position + WINDOW)
    start, end = shown[first][0], shown[last][0] + 1
    text = sub.text[start:end]
    original = text[: sub.index - start] + sub.original + text[sub.index - start + 1 :]
    return text, position - first, original
