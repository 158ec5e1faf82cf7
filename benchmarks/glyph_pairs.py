"""Pick the held-out look-alike of every character of the glyph evaluation's texts by glyph image
similarity in a font the calibration never uses, and write tests/unit/glyphs/look_alike_pairs.json.

    python benchmarks/glyph_pairs.py

Each character is drawn 48 px high, centred on a 64x64 canvas, blurred (radius 1.5) and compared by
cosine similarity with every candidate: levels 1-2 of the Table of General Standard Chinese Characters
(tests/fonts/tgscc.txt) for a Chinese character, ASCII letters and digits for a Latin one. The most
similar candidate wins, unless it is the same character once normalised, a pair of the calibration's
own tables (zimage_qa/glyphs/confusables.toml and same_stroke.txt), one of O/0, or a character that
a held-out font cannot draw. About a minute on 2 cores.
"""

from __future__ import annotations

import json
import string
import sys
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "glyphs"))

from heldout_set import DEV_TEXTS, EVAL_TEXTS, HELD_OUT_FONTS, PAIRS, characters  # noqa: E402

from zimage_qa.glyphs.confusables import known_look_alikes, look_alikes  # noqa: E402
from zimage_qa.glyphs.verdict import normalise  # noqa: E402

FONT = "wqy-zenhei"


def glyph(font: ImageFont.FreeTypeFont, ch: str) -> np.ndarray:
    image = Image.new("L", (64, 64), 0)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), ch, font=font)
    draw.text(((64 - (right - left)) / 2 - left, (64 - (bottom - top)) / 2 - top), ch, font=font, fill=255)
    vector = np.asarray(image.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float32).ravel()
    return vector / (np.linalg.norm(vector) or 1.0)


def drawable() -> set[str]:
    maps = []
    for path, index in HELD_OUT_FONTS.values():
        maps.append(set(TTFont(path, fontNumber=index).getBestCmap()))
    return {chr(c) for c in set.intersection(*maps)}


def main() -> None:
    table = [ln.strip() for ln in (ROOT / "tests" / "fonts" / "tgscc.txt").read_text("utf-8").splitlines()]
    pool_cjk = "".join(ln for ln in table if not ln.startswith("#"))[:6500]
    pool_latin = string.ascii_letters + string.digits
    path, index = HELD_OUT_FONTS[FONT]
    font = ImageFont.truetype(path, 48, index=index)
    everywhere = drawable()
    pairs = {}
    for pool in (pool_cjk, pool_latin):
        candidates = [ch for ch in pool if ch in everywhere or ch in pool_latin]
        matrix = np.stack([glyph(font, ch) for ch in candidates])
        for ch in characters(EVAL_TEXTS + DEV_TEXTS):
            if (ch in pool_latin) != (pool is pool_latin):
                continue
            banned = {ch, *look_alikes(ch), *known_look_alikes(ch)}
            order = np.argsort(-(matrix @ glyph(font, ch)))
            for i in order:
                other = candidates[int(i)]
                if other in banned or normalise(other) == normalise(ch) or {ch, other} <= set("O0o"):
                    continue
                pairs[ch] = other
                break
    data = {"font": FONT, "method": __doc__.split("\n\n")[2].replace("\n", " "), "pairs": pairs}
    PAIRS.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(pairs)} pairs written to {PAIRS}")


if __name__ == "__main__":
    main()
