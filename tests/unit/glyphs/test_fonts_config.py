"""A user's own calibration fonts in the config (`[glyph_calibration] fonts`) and on the command line
(`zqa glyph-check --font`): paths relative to the config file, checked when the config is read; a
glyph case whose characters no calibration font draws is refused then, in one line naming them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zimage_qa.cli import main
from zimage_qa.config import load_config
from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.fontset import style

CASE = """
[[glyphs]]
id = "sign"
prompt = "a shop sign"
expect = "{expect}"
"""


def write(folder: Path, text: str, name: str = "qa.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_case_no_font_draws_is_refused_naming_the_characters(tmp_path: Path) -> None:
    with pytest.raises(QAUsageError) as error:
        load_config(write(tmp_path, CASE.format(expect="龘龘茶舍")))
    message = str(error.value)
    assert (
        message.count("\n") == 0 and "glyphs[0].expect: '龘龘茶舍': no calibration font draws 龘" in message
    )
    assert "[glyph_calibration] fonts" in message


def test_common_texts_with_latin_and_digits_are_accepted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CASE.format(expect="2026 春节快乐，ABC 咖啡店！")))  # noqa: RUF001
    assert config.glyphs[0].expect.startswith("2026") and config.glyph_fonts == ()


def test_fonts_are_relative_to_the_config_file(tmp_path: Path) -> None:
    shutil.copy(style("black").path, tmp_path / "brand.otf")
    config_dir = tmp_path / "conf"
    text = '[glyph_calibration]\nfonts = ["../brand.otf"]\n' + CASE.format(expect="新年好")
    config = load_config(write(config_dir, text))
    assert config.glyph_fonts == ((tmp_path / "brand.otf").resolve(),)


def test_pyproject_fonts_are_relative_to_the_pyproject(tmp_path: Path) -> None:
    shutil.copy(style("black").path, tmp_path / "brand.otf")
    pyproject = write(
        tmp_path, '[tool.zimage-qa.glyph_calibration]\nfonts = ["brand.otf"]\n', "pyproject.toml"
    )
    assert load_config(pyproject=pyproject).glyph_fonts == ((tmp_path / "brand.otf").resolve(),)


@pytest.mark.parametrize(
    ("fonts", "problem"),
    [
        ('["missing.ttf"]', "font .*missing.ttf does not exist"),
        ('["notes.ttf"]', "font .*notes.ttf cannot be read"),
        ('"brand.ttf"', "is a str, not a list"),
        ("[1]", "is not a list of file paths"),
    ],
)
def test_bad_fonts_are_one_line_naming_the_key(tmp_path: Path, fonts: str, problem: str) -> None:
    (tmp_path / "notes.ttf").write_text("not a font", encoding="utf-8")
    path = write(tmp_path, f"[glyph_calibration]\nfonts = {fonts}\n")
    with pytest.raises(QAUsageError, match=f"glyph_calibration.fonts: .*{problem}") as error:
        load_config(path)
    assert "\n" not in str(error.value)


def test_an_unknown_key_of_glyph_calibration_is_refused(tmp_path: Path) -> None:
    with pytest.raises(QAUsageError, match=r"glyph_calibration\.font: is not a known key"):
        load_config(write(tmp_path, '[glyph_calibration]\nfont = ["a.ttf"]\n'))


def test_glyph_check_refuses_a_text_no_font_draws_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    picture = tmp_path / "p.png"
    Image.new("RGB", (64, 64), "white").save(picture)
    assert main(["glyph-check", str(picture), "--expect", "龘"]) == 2
    err = capsys.readouterr().err
    assert "no calibration font draws 龘" in err and err.count("\n") == 1
    assert main(["glyph-check", str(picture), "--expect", "福", "--font", str(tmp_path / "none.ttf")]) == 2
    assert "does not exist" in capsys.readouterr().err
