"""Rebuild the font subsets shipped in zimage_qa/glyphs/fonts/, which the engine self-calibration renders with.

Run as root on Debian/Ubuntu (needs network for apt and fontTools in the venv):

    apt-get update && apt-get install -y fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming
    python tests/fonts/make_subsets.py

Keeps only the characters of the shipped glyph cases (zimage_qa/default_config.toml), of the look-alike table
(zimage_qa/glyphs/confusables.toml) and of tests/unit/glyphs/glyph_cases.py, plus printable ASCII and space; renames each
subset (OFL: a modified font must not use the Reserved Font Name "Source"; Arphic Public License:
modified files carry a notice of the change and its date) and keeps the copyright and licence
records of the name table. The licence texts sit beside the subsets.
"""

from __future__ import annotations

import datetime
import runpy
import string
from pathlib import Path

import tomllib
from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASES = HERE.parent / "unit" / "glyphs" / "glyph_cases.py"
OUT = ROOT / "zimage_qa" / "glyphs" / "fonts"

# output file -> (source collection, face index, style name)
SOURCES: dict[str, tuple[str, int, str]] = {
    "zqa-sans.otf": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2, "Sans"),
    "zqa-sans-bold.otf": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2, "Sans Bold"),
    "zqa-serif.otf": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2, "Serif"),
    "zqa-kai.ttf": ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0, "Kai"),
    "zqa-ming.ttf": ("/usr/share/fonts/truetype/arphic/uming.ttc", 0, "Ming"),
}
KEEP_NAME_IDS = (0, 7, 13, 14)  # copyright, trademark, licence, licence URL


def characters() -> str:
    cases = runpy.run_path(str(CASES))["all_characters"]()
    config = tomllib.loads((ROOT / "zimage_qa" / "default_config.toml").read_text(encoding="utf-8"))
    shipped = "".join(case["expect"] for case in config.get("glyphs", []))
    table = tomllib.loads((ROOT / "zimage_qa" / "glyphs" / "confusables.toml").read_text(encoding="utf-8"))
    alikes = "".join(table["groups"])
    return "".join(sorted(set(cases + shipped + alikes + string.printable.strip() + " ")))


def make(out: str, source: str, index: int, style: str, chars: str) -> int:
    font = TTFont(source, fontNumber=index)
    options = subset.Options()
    options.name_IDs = [*KEEP_NAME_IDS, 1, 2, 3, 4, 5, 6, 10, 16, 17]
    options.hinting = False
    options.layout_features = ["kern", "liga", "locl", "vert", "vrt2"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    _rename(font, style, Path(source).name, index)
    path = OUT / out
    font.save(str(path))
    return path.stat().st_size


def _rename(font: TTFont, style: str, source: str, index: int) -> None:
    name = font["name"]
    family = f"ZQA Test {style}"
    today = datetime.date.today().isoformat()
    notice = (
        f"Subset of {source} (face {index}) made {today} for zimage-qa: only the characters "
        "its glyph calibration renders are kept, and the font was renamed."
    )
    name.names = [rec for rec in name.names if rec.nameID in KEEP_NAME_IDS]
    for name_id, value in (
        (1, family),
        (2, "Regular"),
        (3, f"{family};{today}"),
        (4, family),
        (5, "Version 1.0 subset"),
        (6, family.replace(" ", "")),
        (10, notice),
    ):
        name.setName(value, name_id, 3, 1, 0x409)


def main() -> None:
    chars = characters()
    print(f"{len(chars)} characters: {chars}")
    (OUT / "characters.txt").write_text(chars.replace(" ", ""), encoding="utf-8")
    for out, (source, index, style) in SOURCES.items():
        size = make(out, source, index, style, chars)
        print(f"{out}: {size / 1024:.1f} KiB from {source} face {index}")


if __name__ == "__main__":
    main()
