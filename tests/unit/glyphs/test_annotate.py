"""The annotated picture: boxes drawn where the lines are, readings listed below the image."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from zimage_qa.glyphs.annotate import annotate, find_cjk_font
from zimage_qa.glyphs.lines import TextLine

BOX = ((20.0, 30.0), (120.0, 30.0), (120.0, 70.0), (20.0, 70.0))


def test_boxes_are_drawn_and_readings_listed_below() -> None:
    image = Image.new("RGB", (200, 100), (255, 255, 255))
    lines = [TextLine("福", BOX, 0.98, "rapidocr"), TextLine("副", BOX, 0.5, "easyocr")]
    out = annotate(image, lines, highlight=lines[:1])
    assert out.width == 200 and out.height > 100
    assert out.getpixel((70, 30)) != (255, 255, 255)  # the box's top edge
    assert out.getpixel((70, 50)) == (255, 255, 255)  # inside the box the picture is untouched
    panel = out.crop((0, 100, 200, out.height))
    assert panel.getextrema() != ((255, 255), (255, 255), (255, 255))  # readings were written


def test_no_lines_still_gives_a_picture_with_a_note() -> None:
    out = annotate(Image.new("L", (64, 64), 0), [])
    assert out.mode == "RGB" and out.height > 64


def test_without_a_cjk_font_readings_are_escaped(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import zimage_qa.glyphs.annotate as module

    monkeypatch.setattr(module, "FONT_CANDIDATES", ())
    monkeypatch.delenv("ZQA_CJK_FONT", raising=False)
    assert find_cjk_font(tmp_path / "absent.ttf") is None
    assert module._ascii("福 ok") == "U+798F ok"
    out = annotate(Image.new("RGB", (100, 80)), [TextLine("福", BOX, 0.9, "rapidocr")])
    assert out.height > 80
