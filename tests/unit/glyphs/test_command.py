"""`zqa glyph-check` end to end through qa.cli.main: exit codes, JSON, bad input."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from glyph_render import render
from PIL import Image

from qa.cli import main


def _png(tmp_path: Path, text: str, name: str = "picture.png") -> Path:
    path = tmp_path / name
    render(text, "sans", 3).save(path)
    return path


def test_matching_text_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["glyph-check", str(_png(tmp_path, "福")), "--expect", "福"]) == 0
    assert capsys.readouterr().out.startswith("PASS: read '福' exactly")


def test_look_alike_exits_1_with_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["glyph-check", str(_png(tmp_path, "副")), "--expect", "福", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["passed"] is False and data["expected"] == "福" and data["read"] == "副"
    assert {"precision", "recall", "ned", "ocr_seconds", "lines"} <= data.keys()
    assert data["engine"]["name"] == "rapidocr" and len(data["engine"]["model_hashes"]) == 3


def test_annotation_is_written(tmp_path: Path) -> None:
    out = tmp_path / "report" / "annotated.png"
    assert main(["glyph-check", str(_png(tmp_path, "灯笼")), "--expect", "灯笼", "--annotate", str(out)]) == 0
    with Image.open(out) as image:
        assert image.height > 100


def _bomb(path: Path, side: int) -> Path:
    """A valid PNG header claiming side x side pixels, and no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated(path: Path) -> Path:
    buffer = io.BytesIO()
    render("福", "sans", 0).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.png", "does not exist"),
        (lambda d: _file(d / "empty.png", b""), "is empty"),
        (lambda d: _truncated(d / "half.png"), "damaged or truncated"),
        (lambda d: _file(d / "notes.txt", "福".encode()), "not an image"),
        (lambda d: _bomb(d / "big.png", 7000), "7000x7000, more than 40,000,000 pixels: too large"),
        (lambda d: _bomb(d / "bomb.png", 100_000), "too large to decode safely"),
    ],
    ids=["missing", "empty", "truncated", "not-an-image", "too-big", "bomb"],
)
def test_bad_image_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, message
) -> None:  # type: ignore[no-untyped-def]
    assert main(["glyph-check", str(make(tmp_path)), "--expect", "福"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--expect", "  "], "empty once whitespace"),
        (
            ["--expect", "福", "--engine", "tesseract"],
            "unknown OCR engine 'tesseract'; choose one of: rapidocr",
        ),
        (["--expect", "福", "--min-score", "2"], "min_score"),
    ],
)
def test_bad_arguments_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["glyph-check", str(_png(tmp_path, "福")), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
