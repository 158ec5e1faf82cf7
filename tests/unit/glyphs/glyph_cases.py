"""Texts the glyph tests render: what each case expects, and its near misses.

tests/fonts/make_subsets.py keeps these characters (with the shipped cases and the look-alike
table) in the bundled font subsets; test_calibration.py checks that every font still covers them.
"""

from __future__ import annotations

# case id -> the text the image should show (themes of the published Z-Image review)
EXPECTED: dict[str, str] = {
    "fu": "福",
    "new-year": "春节快乐",
    "shop-sign": "天香茶馆",
    "calligraphy": "书法",
    "lantern": "灯笼",
    "hanfu": "汉服",
    "poster": "未来已来",
    "english": "Happy New Year",
}

# (case id, text actually rendered, kind of near miss); "" renders no text at all
NEAR_MISSES: tuple[tuple[str, str, str], ...] = (
    ("fu", "副", "look-alike"),
    ("fu", "福福", "extra"),
    ("fu", "欢迎光临", "unrelated"),
    ("fu", "", "no text"),
    ("new-year", "春节块乐", "look-alike"),
    ("new-year", "春节乐", "dropped"),
    ("new-year", "春节快快乐", "extra"),
    ("new-year", "春快节乐", "swapped"),
    ("new-year", "恭喜发财", "unrelated"),
    ("shop-sign", "夭香茶馆", "look-alike"),
    ("shop-sign", "天香荼馆", "look-alike"),
    ("shop-sign", "天茶馆", "dropped"),
    ("shop-sign", "香天茶馆", "swapped"),
    ("calligraphy", "书", "dropped"),
    ("calligraphy", "法书", "swapped"),
    ("calligraphy", "书法法", "extra"),
    ("lantern", "灯龙", "look-alike"),
    ("lantern", "笼灯", "swapped"),
    ("lantern", "", "no text"),
    ("hanfu", "汊服", "look-alike"),
    ("hanfu", "汉", "dropped"),
    ("poster", "末来已来", "look-alike"),
    ("poster", "未来己来", "look-alike"),
    ("poster", "未来已", "dropped"),
    ("english", "Hapy New Year", "dropped"),
    ("english", "Happy New Yaer", "swapped"),
    ("english", "Happy New Years", "extra"),
    ("english", "Happy Now Year", "look-alike"),
)

KINDS: tuple[str, ...] = ("look-alike", "dropped", "extra", "swapped", "unrelated", "no text")

# small unrelated text some renders carry away from the main text (the verdict must find the region)
DISTRACTORS: tuple[str, ...] = ("营业中", "2025")


def all_characters() -> str:
    texts = [*EXPECTED.values(), *(text for _, text, _ in NEAR_MISSES), *DISTRACTORS]
    return "".join(sorted({ch for text in texts for ch in text if not ch.isspace()}))
