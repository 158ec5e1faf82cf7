"""The picture a reviewer sees: OCR boxes drawn and numbered on the image, the readings listed in a
panel below it.

Readings are drawn with a CJK font when one is found (`font_path`, `ZQA_CJK_FONT`, or a few
usual system locations); otherwise with Pillow's built-in font, writing non-ASCII characters as
U+XXXX so that nothing turns into empty boxes. The package ships no font.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from zimage_qa.glyphs.lines import TextLine

if TYPE_CHECKING:
    from PIL import Image, ImageFont

FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
ENGINE_COLOURS = ((230, 40, 40), (30, 120, 230), (20, 160, 60), (200, 120, 0))


def annotate(
    image: Image.Image,
    lines: Sequence[TextLine],
    *,
    highlight: Iterable[TextLine] = (),
    font_path: str | Path | None = None,
) -> Image.Image:
    """A copy of `image` with each line's box outlined and numbered, and a panel listing
    `n: text (score, engine)`; lines in `highlight` (the verdict's best region) are drawn thicker."""
    from PIL import Image, ImageDraw

    base = image.convert("RGB")
    scale = max(1.0, base.width / 512)
    font, cjk = _font(font_path, int(14 * scale))
    row = int(20 * scale)
    panel_h = row * (len(lines) + 1) + int(8 * scale)
    canvas = Image.new("RGB", (base.width, base.height + panel_h), (255, 255, 255))
    canvas.paste(base, (0, 0))
    draw = ImageDraw.Draw(canvas)
    chosen = set(map(id, highlight))
    engines = list(dict.fromkeys(line.engine for line in lines))
    for number, line in enumerate(lines, start=1):
        colour = ENGINE_COLOURS[engines.index(line.engine) % len(ENGINE_COLOURS)]
        width = int((4 if id(line) in chosen else 2) * scale)
        draw.polygon([tuple(p) for p in line.box], outline=colour, width=width)
        left, top, _, _ = line.bounds
        label_y = max(0.0, top - row)
        draw.rectangle(
            [left, label_y, left + row * (len(str(number)) * 0.6 + 0.4), label_y + row], fill=colour
        )
        draw.text((left + 2 * scale, label_y), str(number), fill=(255, 255, 255), font=font)
        text = line.text if cjk else _ascii(line.text)
        mark = " *" if id(line) in chosen else ""
        entry = f"{number}: {text}  ({line.score:.2f}, {line.engine or 'ocr'}){mark}"
        draw.text((6 * scale, base.height + row * (number - 1) + 4 * scale), entry, fill=colour, font=font)
    if not lines:
        draw.text((6 * scale, base.height + 4 * scale), "no text found", fill=(90, 90, 90), font=font)
    return canvas


def find_cjk_font(font_path: str | Path | None = None) -> Path | None:
    for candidate in (font_path, os.environ.get("ZQA_CJK_FONT"), *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _font(
    font_path: str | Path | None, size: int
) -> tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, bool]:
    from PIL import ImageFont

    path = find_cjk_font(font_path)
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size), True
        except OSError:
            pass
    return ImageFont.load_default(size), False


def _ascii(text: str) -> str:
    return "".join(ch if ch.isascii() else f"U+{ord(ch):04X}" for ch in text)
