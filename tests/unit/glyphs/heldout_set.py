"""The held-out glyph evaluation's data: texts, fonts and look-alikes that the calibration never saw.

- `EVAL_TEXTS`: 66 texts a deployment asks for (greetings, signs, place names, Chinese with Latin and
  digits), none of them a shipped case or a text of the other glyph tests.
- `HELD_OUT_FONTS`: six Debian CJK fonts, none a source of the bundled calibration subsets.
- `look_alike_pairs.json`: per character of these texts, the character most alike in shape in a
  held-out font (WenQuanYi Zen Hei, blurred glyph images compared by cosine similarity, over levels
  1-2 of the Table of General Standard Chinese Characters or over ASCII letters and digits), never a
  pair of the calibration's own tables (`confusables.toml`, `same_stroke.txt`). Made by
  `python benchmarks/glyph_pairs.py`.
- `DEV_TEXTS` and `DEV_FONTS`: another set of texts in other fonts, the only one the calibration's
  rules were tuned on (`python benchmarks/glyph_eval.py --dev`).
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from glyph_render import render

from zimage_qa.glyphs.calibration import calibrate
from zimage_qa.glyphs.judgement import glyph_verdict
from zimage_qa.glyphs.lines import OcrEngine
from zimage_qa.verdict import Status

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "look_alike_pairs.json"

# name -> (file, face index): none of them is a source of the bundled subsets (Noto CJK, AR PL U*, Smiley)
HELD_OUT_FONTS: dict[str, tuple[str, int]] = {
    "wqy-zenhei": ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    "wqy-microhei": ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    "gkai00mp": ("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf", 0),
    "gbsn00lp": ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
    "lxgw-wenkai": ("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0),
    "droid-fallback": ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
}
APT = "fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-gkai00mp fonts-arphic-gbsn00lp fonts-lxgw-wenkai fonts-droid-fallback"

# Other weights and regional faces of the calibration's font families: tuning only, never asserted.
# From Debian's packages:
DEV_APT = "fonts-noto-cjk fonts-noto-cjk-extra fonts-arphic-ukai"
DEV_FONTS: dict[str, tuple[str, int]] = {
    "noto-sans-light": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Light.ttc", 2),
    "noto-sans-bold": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    "noto-serif-bold": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
    "ukai-tw": ("/usr/share/fonts/truetype/arphic/ukai.ttc", 2),
}

EVAL_TEXTS: tuple[str, ...] = (
    "新年好",
    "长城",
    "龙舟节",
    "花好月圆",
    "平安喜乐",
    "书法展览",
    "江南水乡",
    "大吉大利",
    "年年有余",
    "步步高升",
    "2026 春节快乐",
    "ABC 咖啡店",
    "中秋快乐",
    "元宵节",
    "欢迎光临",
    "恭喜发财",
    "万事如意",
    "心想事成",
    "岁岁平安",
    "国庆节",
    "端午安康",
    "生日快乐",
    "西湖",
    "黄山",
    "故宫博物院",
    "北京欢迎你",
    "上海外滩",
    "桂林山水",
    "小桥流水",
    "春风得意",
    "风调雨顺",
    "五谷丰登",
    "福如东海",
    "寿比南山",
    "一帆风顺",
    "鸿运当头",
    "招财进宝",
    "吉祥如意",
    "早安",
    "晚安",
    "加油",
    "谢谢",
    "禁止吸烟",
    "出口",
    "停车场",
    "超市",
    "火锅店",
    "面馆",
    "书店",
    "药房",
    "WiFi 免费",
    "24小时营业",
    "5折优惠",
    "SALE 50%",
    "COFFEE",
    "Hello 世界",
    "NO PARKING",
    "2025年会",
    "VIP 会员",
    "KTV",
    "熊猫",
    "茉莉花茶",
    "山水画展",
    "中国银行",
    "海内存知己天涯若比邻",
    "欢迎来到美丽的杭州",
)

DEV_TEXTS: tuple[str, ...] = (
    "明月",
    "清风",
    "好运来",
    "天天向上",
    "百年好合",
    "金玉满堂",
    "OK",
    "Open Daily",
    "冰淇淋",
    "牛肉面",
    "水果店",
    "花店",
    "理发",
    "奶茶店",
    "3楼",
    "春天",
    "秋天",
    "冬至",
    "山河",
    "大海",
    "森林公园",
    "图书馆",
    "火车站",
    "机场",
    "医院",
    "饭店",
    "快餐",
    "Taxi 出租车",
    "100元",
    "一路平安",
)

UNRELATED: tuple[str, ...] = ("营业中", "恭贺新禧", "旅游", "CLOSED")
OTHER_KINDS: tuple[str, ...] = ("dropped", "extra", "swapped", "unrelated", "no text")


def look_alike_pairs() -> dict[str, str]:
    """Character -> its held-out look-alike (`look_alike_pairs.json`)."""
    data = json.loads(PAIRS.read_text(encoding="utf-8"))
    return dict(data["pairs"])


def characters(texts: tuple[str, ...]) -> str:
    return "".join(sorted({ch for text in texts for ch in text if ch.isalnum()}))


@dataclass(frozen=True)
class Sample:
    expected: str
    rendered: str
    kind: str  # "correct", "look-alike" or one of OTHER_KINDS
    font: str
    pair: str = ""  # the look-alike pair, for look-alike near misses
    canvas: int = 0  # 0: a small scene around the text; else the side of a square picture


@dataclass(frozen=True)
class Outcome:
    sample: Sample
    status: Status
    read: str
    message: str

    @property
    def accepted(self) -> bool:
        return self.status is Status.PASSED


@dataclass(frozen=True)
class Figures:
    """What the evaluation reports: every outcome, and which texts each engine could judge."""

    outcomes: tuple[Outcome, ...]
    judgeable: dict[str, bool]  # text -> the engine(s) can judge it
    reasons: dict[str, str]

    def _rate(self, items: list[Outcome], accepted: bool) -> float:
        return sum(o.accepted == accepted for o in items) / len(items) if items else 0.0

    @property
    def correct(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.sample.kind == "correct"]

    @property
    def near(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.sample.kind != "correct"]

    @property
    def accepted(self) -> float:
        """Correct renders passed, among texts the engine can judge."""
        return self._rate([o for o in self.correct if self.judgeable[o.sample.expected]], True)

    @property
    def accepted_all(self) -> float:
        """Correct renders passed, among all texts (a text that cannot be judged is never passed)."""
        return self._rate(self.correct, True)

    @property
    def rejected(self) -> float:
        """Near misses not passed (failed, or not judged), among all texts."""
        return self._rate(self.near, False)

    @property
    def rejected_judgeable(self) -> float:
        return self._rate([o for o in self.near if self.judgeable[o.sample.expected]], False)

    @property
    def cannot_judge(self) -> float:
        return sum(not j for j in self.judgeable.values()) / len(self.judgeable)

    def table(self, title: str) -> str:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            groups[o.sample.kind].append(o)
            groups[f"font {o.sample.font}"].append(o)
        rows = [title]
        for key in sorted(groups, key=lambda k: (k.startswith("font"), k)):
            items = groups[key]
            right = sum(o.accepted == (o.sample.kind == "correct") for o in items)
            rows.append(f"  {key:<24} right {right:>4}/{len(items):<4}")
        blind = sorted(t for t, ok in self.judgeable.items() if not ok)
        rows += [f"  cannot be judged: {t!r}: {self.reasons[t][:150]}" for t in blind]
        rows += [
            f"  wrong: {o.sample.kind} {o.sample.font} {o.sample.canvas or 'small'}: expected "
            f"{o.sample.expected!r}, rendered {o.sample.rendered!r}, {o.status.value}, read {o.read!r}: "
            f"{o.message[:150]}"
            for o in self.outcomes
            if o.accepted != (o.sample.kind == "correct") and self.judgeable[o.sample.expected]
        ]
        rows.append(
            f"  {len(self.judgeable)} texts, {len(self.correct)} correct renders, {len(self.near)} near misses: "
            f"correct accepted {self.accepted:.1%} of judgeable texts ({self.accepted_all:.1%} of all), "
            f"near misses rejected {self.rejected:.1%} ({self.rejected_judgeable:.1%} of judgeable texts), "
            f"cannot be judged {self.cannot_judge:.1%} of texts"
        )
        return "\n".join(rows)


def _near_miss(text: str, kind: str, k: int) -> str:
    slots = [i for i, ch in enumerate(text) if ch.isalnum()]
    i = slots[k % len(slots)]
    if kind == "dropped" and len(slots) > 1:
        return text[:i] + text[i + 1 :]
    if kind == "swapped" and len(slots) > 1:
        chars = list(text)
        a = slots[k % (len(slots) - 1)]
        b = slots[slots.index(a) + 1]
        chars[a], chars[b] = chars[b], chars[a]
        return "".join(chars) if "".join(chars) != text else text + text[a]
    if kind == "unrelated":
        return UNRELATED[k % len(UNRELATED)]
    if kind == "no text":
        return ""
    return text[: i + 1] + text[i] + text[i + 1 :]  # extra (and dropped/swapped of one character)


def _look_alike(text: str, k: int, pairs: dict[str, str]) -> tuple[str, str]:
    slots = [i for i, ch in enumerate(text) if ch in pairs]
    i = slots[k % len(slots)]
    return text[:i] + pairs[text[i]] + text[i + 1 :], f"{pairs[text[i]]}/{text[i]}"


def draws(font: tuple[str, int], text: str) -> bool:
    """The font has a glyph for every character (Droid Sans Fallback has no Latin: it would draw boxes)."""
    path, index = font
    return all(ord(ch) in _cmap(path, index) for ch in text if not ch.isspace())


@functools.cache
def _cmap(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(path, fontNumber=index).getBestCmap())


def samples(texts: tuple[str, ...], fonts: dict[str, tuple[str, int]], per_text: int) -> list[Sample]:
    """Per text, in `per_text` of the fonts (rotating): the correct render, a held-out look-alike and one
    other near miss (kinds rotate); only renders the font can draw (no boxes for missing glyphs). Every
    fourth sample is drawn on a 1024x1024 canvas, the size the model renders."""
    pairs = look_alike_pairs()
    names = list(fonts)
    found = []
    for t, text in enumerate(texts):
        for f in range(per_text):
            font = names[(t + f * 5) % len(names)] if per_text < len(names) else names[f]
            alike, pair = _look_alike(text, t + f, pairs)
            kind = OTHER_KINDS[(t + 2 * f) % len(OTHER_KINDS)]
            found += [
                Sample(text, text, "correct", font),
                Sample(text, alike, "look-alike", font, pair),
                Sample(text, _near_miss(text, kind, t + f), kind, font),
            ]
    usable = [s for s in found if draws(fonts[s.font], s.rendered)]
    return [replace(s, canvas=1024) if n % 4 == 3 else s for n, s in enumerate(usable)]


def evaluate(
    engine: OcrEngine, texts: tuple[str, ...], fonts: dict[str, tuple[str, int]], per_text: int
) -> Figures:
    """Calibrate every text, then read and judge every sample through the engine's full pipeline."""
    calibrations = {text: calibrate(engine, text) for text in texts}
    outcomes = []
    for n, sample in enumerate(samples(texts, fonts, per_text)):
        path, index = fonts[sample.font]
        image = render(
            sample.rendered,
            Path(path),
            2000 + n,
            strong=n % 3 == 2,
            index=index,
            distractor="2025" * (n % 4 == 1),
            canvas=sample.canvas,
        )
        verdict = glyph_verdict(sample.expected, engine.read(image), calibrations[sample.expected])
        outcomes.append(Outcome(sample, verdict.status, str(verdict.values.get("read", "")), verdict.message))
    return Figures(
        tuple(outcomes),
        {t: c.judgeable for t, c in calibrations.items()},
        {t: c.reason for t, c in calibrations.items()},
    )
