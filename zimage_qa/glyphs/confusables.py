"""Look-alike characters: the hand table shipped in `confusables.toml`, the known groups of characters
alike in shape (`same_stroke.txt`, pycorrector's 形近字 list), and the near-miss texts made from them.

`look_alikes("福")` gives the characters the hand table says a reader could take 福 for (副, 幅);
`known_look_alikes("馆")` those of the known groups; the near-miss texts are `text` with one character
replaced by one of them (`zimage_qa.glyphs.probe.candidates`). The calibration adds the recogniser's own
runners-up (`zimage_qa.glyphs.calibration`) and renders them all: the near misses an OCR engine
must tell apart from `text` before it may judge it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from importlib import resources

from zimage_qa.errors import QAUsageError

TABLE = "confusables.toml"
KNOWN = "same_stroke.txt"


class Source(Enum):
    """Where a look-alike came from."""

    TABLE = "table"  # confusables.toml
    KNOWN = "known"  # same_stroke.txt
    ENGINE = "engine"  # the recogniser's runner-up on renders of the text


@dataclass(frozen=True)
class Substitution:
    """`text` with the character at `index`, `original`, replaced by its look-alike `replacement`."""

    text: str
    index: int
    original: str
    replacement: str
    source: Source = Source.TABLE

    @property
    def pair(self) -> str:
        """The look-alike pair as a reviewer reads it: '夭/天' (the replacement first)."""
        return f"{self.replacement}/{self.original}"


@functools.cache
def table() -> Mapping[str, tuple[str, ...]]:
    """Character -> its look-alikes, in table order, from the shipped `confusables.toml`."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    raw = tomllib.loads(resources.files("zimage_qa.glyphs").joinpath(TABLE).read_text(encoding="utf-8"))
    groups = raw.get("groups")
    if not isinstance(groups, list) or not all(isinstance(g, str) and len(g) >= 2 for g in groups):
        raise QAUsageError(f"zimage_qa/glyphs/{TABLE}: groups must be a list of strings of 2+ characters")
    alikes: dict[str, list[str]] = {}
    for group in groups:
        for ch in group:
            known = alikes.setdefault(ch, [])
            known.extend(other for other in group if other != ch and other not in known)
    return {ch: tuple(others) for ch, others in alikes.items()}


@functools.cache
def known() -> Mapping[str, tuple[str, ...]]:
    """Character -> the other characters of its groups in `same_stroke.txt`, in file order."""
    text = resources.files("zimage_qa.glyphs").joinpath(KNOWN).read_text(encoding="utf-8")
    alikes: dict[str, list[str]] = {}
    for line in text.splitlines():
        group = [ch for ch in line.split("\t") if len(ch) == 1] if not line.startswith("#") else []
        for ch in group:
            others = alikes.setdefault(ch, [])
            others.extend(other for other in group if other != ch and other not in others)
    return {ch: tuple(others) for ch, others in alikes.items()}


def known_look_alikes(ch: str) -> tuple[str, ...]:
    """The characters the known groups put with `ch`."""
    return known().get(ch, ())


def look_alikes(ch: str) -> tuple[str, ...]:
    """The characters `ch` can be taken for (Latin letters are case-sensitive: `I` is not `i`)."""
    return table().get(ch, ())


def characters() -> str:
    """Every character of the table (the bundled fonts must cover them)."""
    return "".join(sorted({ch for ch in table()}))
