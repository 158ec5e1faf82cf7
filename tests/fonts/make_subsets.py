"""Rebuild the font subsets shipped in zimage_qa/glyphs/fonts/, which the engine self-calibration renders with.

Run as root on Debian 12 (needs network for apt and fontTools in the venv):

    apt-get update && apt-get install -y fonts-noto-cjk fonts-noto-cjk-extra fonts-arphic-ukai \\
        fonts-arphic-uming fonts-smiley-sans unicode-data
    python tests/fonts/make_subsets.py          # the subsets and fonts/coverage.json
    python tests/fonts/make_subsets.py --list   # tests/fonts/tgscc.txt again, from Unihan

Every face keeps the common set: level 1 of the Table of General Standard Chinese Characters
(tests/fonts/tgscc.txt, 3,500 characters), printable ASCII, Latin-1 letters, full-width forms and common
CJK punctuation, plus the characters of the shipped glyph cases, the look-alike table
(zimage_qa/glyphs/confusables.toml) and tests/unit/glyphs/glyph_cases.py. Three faces (sans, serif,
kai) also keep levels 2 and 3 (all 8,105 characters, where the source font has them), so that rare
look-alikes (倌 for 馆, 荼 for 茶) can be rendered. Each subset is renamed (SIL OFL: a modified font
must not use a Reserved Font Name; Arphic Public License: modified files carry a notice of the change
and its date) and keeps the copyright and licence records of its name table. The licence texts sit
beside the subsets; fonts/coverage.json lists the characters each file draws.
"""

from __future__ import annotations

import argparse
import bz2
import datetime
import json
import runpy
import string
from dataclasses import dataclass
from pathlib import Path

import tomllib
from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASES = HERE.parent / "unit" / "glyphs" / "glyph_cases.py"
OUT = ROOT / "zimage_qa" / "glyphs" / "fonts"
TGSCC = HERE / "tgscc.txt"
UNIHAN = Path("/usr/share/unicode/Unihan_OtherMappings.txt.bz2")  # Debian's unicode-data
LEVEL_1 = 3500
NOTO = "/usr/share/fonts/opentype/noto"
ARPHIC = "/usr/share/fonts/truetype/arphic"


@dataclass(frozen=True)
class Face:
    out: str  # file in zimage_qa/glyphs/fonts
    source: str  # font file of a Debian package
    index: int  # face in a collection
    style: str  # the subset's family is "ZQA Test <style>"
    rare: bool  # keep levels 2 and 3 of the table too


FACES: tuple[Face, ...] = (
    Face("zqa-sans.otf", f"{NOTO}/NotoSansCJK-Regular.ttc", 2, "Sans", True),
    Face("zqa-serif.otf", f"{NOTO}/NotoSerifCJK-Regular.ttc", 2, "Serif", True),
    Face("zqa-kai.ttf", f"{ARPHIC}/ukai.ttc", 0, "Kai", True),
    Face("zqa-black.otf", f"{NOTO}/NotoSansCJK-Black.ttc", 2, "Black", False),
    Face("zqa-ming.ttf", f"{ARPHIC}/uming.ttc", 0, "Ming", False),
    Face(
        "zqa-display.ttf", "/usr/share/fonts/truetype/smiley-sans/SmileySans-Oblique.ttf", 0, "Display", False
    ),
)
KEEP_NAME_IDS = (0, 7, 13, 14)  # copyright, trademark, licence, licence URL
PUNCTUATION = "，。、；：？！“”‘’（）《》〈〉【】「」『』〔〕—…·～￥"  # noqa: RUF001


def table() -> str:
    """The 8,105 characters of tests/fonts/tgscc.txt, in table order."""
    lines = TGSCC.read_text(encoding="utf-8").splitlines()
    chars = "".join(line.strip() for line in lines if not line.startswith("#"))
    if len(chars) != 8105 or len(set(chars)) != 8105:
        raise SystemExit(
            f"{TGSCC}: expected 8,105 distinct characters, found {len(chars)}; rerun with --list"
        )
    return chars


def write_table() -> None:
    """tests/fonts/tgscc.txt from the kTGH field of Unihan (entries "2013:NNNN")."""
    numbered = []
    with bz2.open(UNIHAN, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        fields = line.split("\t")
        if len(fields) == 3 and fields[1] == "kTGH":
            for item in fields[2].split():
                year, number = item.split(":")
                if year == "2013":
                    numbered.append((int(number), chr(int(fields[0][2:], 16))))
    chars = "".join(ch for _, ch in sorted(numbered))
    head = TGSCC.read_text(encoding="utf-8").splitlines()[:5] if TGSCC.is_file() else []
    body = [chars[i : i + 50] for i in range(0, len(chars), 50)]
    TGSCC.write_text("\n".join([*head, *body]) + "\n", encoding="utf-8")
    print(f"{TGSCC}: {len(chars)} characters")


def common() -> str:
    """What every face keeps (see the module docstring)."""
    cases = runpy.run_path(str(CASES))["all_characters"]()
    config = tomllib.loads((ROOT / "zimage_qa" / "default_config.toml").read_text(encoding="utf-8"))
    shipped = "".join(case["expect"] for case in config.get("glyphs", []))
    alikes = "".join(
        tomllib.loads((ROOT / "zimage_qa" / "glyphs" / "confusables.toml").read_text(encoding="utf-8"))[
            "groups"
        ]
    )
    latin1 = "".join(chr(c) for c in range(0xC0, 0x100) if chr(c).isalpha())
    fullwidth = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
    extra = string.printable.strip() + latin1 + fullwidth + PUNCTUATION
    return "".join(sorted(set(table()[:LEVEL_1] + cases + shipped + alikes + extra)))


def make(face: Face, wanted: str) -> str:
    """Subset `face` to the characters of `wanted` it has; returns those characters."""
    font = TTFont(face.source, fontNumber=face.index)
    cmap = font.getBestCmap()
    chars = "".join(ch for ch in wanted if ord(ch) in cmap)
    options = subset.Options()
    options.name_IDs = [*KEEP_NAME_IDS, 1, 2, 3, 4, 5, 6, 10, 16, 17]
    options.hinting = False
    options.layout_features = ["kern", "liga", "locl", "vert", "vrt2"]
    options.notdef_outline = True
    options.drop_tables += ["FFTM", "BDF"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    _rename(font, face)
    font.save(str(OUT / face.out))
    return chars


def _rename(font: TTFont, face: Face) -> None:
    name = font["name"]
    family = f"ZQA Test {face.style}"
    today = datetime.date.today().isoformat()
    notice = (
        f"Subset of {Path(face.source).name} (face {face.index}) made {today} for zimage-qa: only the "
        "characters its glyph calibration renders are kept, and the font was renamed."
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="rewrite tests/fonts/tgscc.txt from Unihan")
    if parser.parse_args().list:
        write_table()
        return
    base = common()
    rare = "".join(sorted(set(base + table())))
    coverage = {}
    for face in FACES:
        wanted = rare if face.rare else base
        chars = make(face, wanted)
        lacking = sorted(set(base) - set(chars))
        if lacking:
            raise SystemExit(f"{face.source} lacks {''.join(lacking)} of the common set; pick another face")
        coverage[face.out] = chars
        size = (OUT / face.out).stat().st_size
        print(
            f"{face.out}: {len(chars)} characters, {size / 2**20:.2f} MiB from {face.source} face {face.index}"
        )
    text = json.dumps(coverage, ensure_ascii=False, indent=0, sort_keys=True)
    (OUT / "coverage.json").write_text(text + "\n", encoding="utf-8")
    total = sum((OUT / face.out).stat().st_size for face in FACES)
    print(f"{len(base)} characters in every face; {total / 2**20:.2f} MiB of fonts in all")


if __name__ == "__main__":
    main()
