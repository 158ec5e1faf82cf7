"""The fonts the glyph calibration renders with: the bundled subsets in `zimage_qa/glyphs/fonts/` and a
user's own (`[glyph_calibration] fonts` in the config, `zqa glyph-check --font`), what each can draw,
and one digest of the set that keys the calibration cache.

The bundled faces (built by tests/fonts/make_subsets.py, licences beside them) all draw level 1 of the
Table of General Standard Chinese Characters (3,500 characters), printable ASCII, Latin-1 letters,
full-width forms and common CJK punctuation; sans, serif and kai also draw levels 2 and 3 (8,105 in
all), so that rare look-alikes (倌 for 馆) can be rendered. What each draws is listed in
`fonts/coverage.json`; a user's font is read with fontTools (its character map only).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.cache import file_digest

COVERAGE = "coverage.json"
# style -> bundled file: the first three also draw the rarer characters of the table
BUNDLED: dict[str, str] = {
    "sans": "zqa-sans.otf",
    "serif": "zqa-serif.otf",
    "kai": "zqa-kai.ttf",
    "black": "zqa-black.otf",
    "ming": "zqa-ming.ttf",
    "display": "zqa-display.ttf",
}
FIX = (
    "add a font that draws them under [glyph_calibration] fonts (zqa glyph-check --font), or change the text"
)


@dataclass(frozen=True)
class Face:
    """One font: a bundled subset (`name` is its style) or a user's file (`name` is the file name)."""

    name: str
    path: Path
    characters: frozenset[str]
    index: int = 0  # face in a collection (.ttc)
    bundled: bool = True

    def draws(self, text: str) -> bool:
        return all(ch in self.characters for ch in text if not ch.isspace())


@dataclass(frozen=True)
class FontSet:
    """The faces a calibration renders with, bundled first."""

    faces: tuple[Face, ...]

    def covering(self, text: str) -> tuple[Face, ...]:
        """The faces that draw every character of `text` (spaces aside)."""
        return tuple(face for face in self.faces if face.draws(text))

    def missing(self, text: str) -> str:
        """Characters of `text` (spaces aside) that no face draws, sorted."""
        drawn = set().union(*(face.characters for face in self.faces))
        return "".join(sorted({ch for ch in text if not ch.isspace() and ch not in drawn}))

    def refusal(self, text: str) -> str | None:
        """Why `text` cannot be calibrated with these fonts, or None when it can."""
        lacking = self.missing(text)
        if lacking:
            return f"no calibration font draws {lacking}; {FIX}"
        if not self.covering(text):
            return (
                "no single calibration font draws all of it (a text is rendered in one font); "
                "add a font that draws the whole text under [glyph_calibration] fonts"
            )
        return None

    @property
    def user(self) -> tuple[Face, ...]:
        return tuple(face for face in self.faces if not face.bundled)

    def digest(self) -> str:
        """SHA-256 over every face's file, face index and name: what keys a cached calibration."""
        import hashlib

        digest = hashlib.sha256()
        for face in self.faces:
            digest.update(f"{face.name}\0{face.index}\0{file_digest(face.path)}\0".encode())
        return digest.hexdigest()


def font_dir() -> Path:
    return Path(str(resources.files("zimage_qa.glyphs").joinpath("fonts")))


@functools.cache
def bundled() -> FontSet:
    """The bundled subsets, with what each draws (`fonts/coverage.json`)."""
    drawn = json.loads(font_dir().joinpath(COVERAGE).read_text(encoding="utf-8"))
    return FontSet(
        tuple(Face(style, font_dir() / file, frozenset(drawn[file])) for style, file in BUNDLED.items())
    )


def style(name: str) -> Face:
    """The bundled face of style `name` (a key of `BUNDLED`)."""
    return next(face for face in bundled().faces if face.name == name)


def with_user_fonts(paths: Iterable[Path]) -> FontSet:
    """The bundled faces and the user's fonts at `paths` (QAUsageError naming a file that is no font)."""
    return FontSet((*bundled().faces, *(user_face(Path(p)) for p in paths)))


def user_face(path: Path) -> Face:
    """A user's font file (TrueType, OpenType or the first face of a collection)."""
    return _user_face(path.resolve(), *_stamp(path))


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        raise QAUsageError(
            f"font {path} does not exist; give the path of a .ttf, .otf or .ttc file"
        ) from None
    return stat.st_size, stat.st_mtime_ns


@functools.cache
def _user_face(path: Path, size: int, mtime_ns: int) -> Face:
    try:
        from fontTools.ttLib import TTFont, TTLibError
    except ImportError:
        raise QAUsageError("reading a user's font needs fontTools; fix: pip install fonttools") from None
    try:
        with path.open("rb") as handle:
            cmap = TTFont(handle, fontNumber=0, lazy=True).getBestCmap() or {}
    except (TTLibError, OSError, ValueError, KeyError, AssertionError) as exc:
        raise QAUsageError(f"font {path} cannot be read ({exc}); give a .ttf, .otf or .ttc file") from None
    if not cmap:
        raise QAUsageError(f"font {path} maps no characters; give a font with a Unicode character map")
    _check_pillow(path)
    return Face(path.name, path, frozenset(chr(code) for code in cmap), 0, bundled=False)


def _check_pillow(path: Path) -> None:
    from PIL import ImageFont

    try:
        ImageFont.truetype(str(path), 20, index=0)
    except OSError as exc:
        raise QAUsageError(
            f"font {path} cannot be drawn by Pillow ({exc}); give a .ttf, .otf or .ttc file"
        ) from None


def resolve(paths: Sequence[str], base: Path) -> tuple[Path, ...]:
    """Config paths, relative to the folder of the file that names them."""
    return tuple((base / p).resolve() if not Path(p).is_absolute() else Path(p) for p in paths)
