"""A scripted line recogniser for the calibration and cache tests, and the tiny tagged renders it reads:
no OCR model, each render carries the text it shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest
from PIL import Image

import zimage_qa.glyphs.calibration as calibration
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
        return Recognition(read, min(scores, default=self.score), tuple(zip(read, scores, strict=False)))


def tag_renders(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Tiny renders that carry their text, and an empty in-process calibration cache; returns what puts
    the real renderer back."""
    real = calibration.render_line

    def tagged(text: str, style: str, seed: int) -> Image.Image:
        image = Image.new("RGB", (8, 8))
        image.info["text"] = text
        return image

    monkeypatch.setattr(calibration, "render_line", tagged)
    monkeypatch.setattr(calibration, "_CACHE", {})
    return lambda: monkeypatch.setattr(calibration, "render_line", real)
