"""A scripted line recogniser for the calibration and cache tests, and the tiny tagged renders it reads:
no OCR model, each render carries the text it shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest
from PIL import Image

import zimage_qa.glyphs.calibration as calibration
from zimage_qa.glyphs import render
from zimage_qa.glyphs.fontset import Face
from zimage_qa.glyphs.lines import EngineInfo, Recognition, TextLine


class Scripted:
    """Reads what was rendered and counts how often it was asked. `reads` replaces every text read;
    `confuse` rewrites some: rendered text -> (text read, score of the characters that differ). `models`
    is what the engine's identity names (a calibration depends on it)."""

    def __init__(
        self,
        name: str = "scripted",
        *,
        confuse: Mapping[str, tuple[str, float]] | None = None,
        reads: str | None = None,
        models: Mapping[str, str] | None = None,
        score: float = 0.99,
    ) -> None:
        self._info = EngineInfo(name, "1", dict(models or {"m": name}))
        self.confuse, self.reads, self.score = dict(confuse or {}), reads, score
        self.calls = 0

    @property
    def info(self) -> EngineInfo:
        return self._info

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        raise AssertionError("calibration must use recognise")

    def recognise(self, lines: Sequence[Image.Image]) -> tuple[Recognition, ...]:
        self.calls += 1
        return tuple(self._one(self.reads or str(line.info["text"])) for line in lines)

    def _one(self, text: str) -> Recognition:
        read, low = self.confuse.get(text, (text, self.score))
        scores = [self.score if a == b else low for a, b in zip(text, read, strict=False)]
        chars = tuple((ch, s) for ch, s in zip(read, scores, strict=False) if not ch.isspace())
        shown = [ch for ch in text if not ch.isspace()]
        alternatives = tuple(
            alternatives_for(ch, s, shown[i] if i < len(shown) else ch) for i, (ch, s) in enumerate(chars)
        )
        return Recognition(read, min(scores, default=self.score), chars, alternatives)


def alternatives_for(read: str, score: float, shown: str) -> tuple[tuple[str, float], ...]:
    """The character read, the one rendered when they differ (with the rest of the probability), and
    a punctuation runner-up at 1e-4: what the real recognisers' `Alternatives` look like."""
    if read != shown:
        return ((read, score), (shown, round(1 - score, 5)), ("·", 1e-4))
    return ((read, score), ("·", 1e-4))


def tag_renders(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Tiny renders that carry their text, and an empty in-process calibration cache; returns what puts
    the real renderer back."""
    real = render.render_line

    def tagged(text: str, face: Face, seed: int) -> Image.Image:
        image = Image.new("RGB", (8, 8))
        image.info["text"] = text
        return image

    monkeypatch.setattr(render, "render_line", tagged)
    monkeypatch.setattr(calibration, "_CACHE", {})
    return lambda: monkeypatch.setattr(render, "render_line", real)
