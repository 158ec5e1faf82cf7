"""`zqa glyph-check` end to end through zimage_qa.cli.main: exit codes, JSON, bad input."""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from glyph_render import render
from PIL import Image

from zimage_qa.cli import main


def _png(tmp_path: Path, text: str, name: str = "picture.png") -> Path:
    path = tmp_path / name
    render(text, "sans", 3).save(path)
    return path


def test_matching_text_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["glyph-check", str(_png(tmp_path, "福")), "--expect", "福"]) == 0
    assert capsys.readouterr().out.startswith("PASS: rapidocr read '福' exactly")


def test_look_alike_exits_1_with_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["glyph-check", str(_png(tmp_path, "副")), "--expect", "福", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["passed"] is False and data["expected"] == "福" and data["read"] == "副"
    assert {"precision", "recall", "ned", "ocr_seconds", "lines"} <= data.keys()
    assert data["engine"]["name"] == "rapidocr" and len(data["engine"]["model_hashes"]) == 2
    assert data["verdict"] == "failed" and data["calibration"]["expected"] == "福"
    (engine,) = data["calibration"]["engines"]
    assert engine["engine"] == "rapidocr" and engine["status"] == "judgeable" and engine["read_rate"] >= 0.75
    assert {"副/福", "幅/福"} <= {a["pair"] for a in engine["look_alikes"]}
    assert {a["source"] for a in engine["look_alikes"]} <= {"table", "engine", "known"}


def test_the_calibration_is_shown_in_the_text_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["glyph-check", str(_png(tmp_path, "书法")), "--expect", "书法"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("calibration: rapidocr: reads '书法' in ") and "look-alikes rejected" in out[1]


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
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], Path], message: str
) -> None:
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


def test_a_second_check_of_the_same_text_reuses_the_calibration_on_disk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import zimage_qa.glyphs.calibration as calibration

    picture = str(_png(tmp_path, "书法"))
    monkeypatch.setattr(calibration, "_CACHE", {})  # nothing from earlier tests in this process
    assert main(["glyph-check", picture, "--expect", "书法", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    monkeypatch.setattr(calibration, "_CACHE", {})  # as a new process would start
    assert main(["glyph-check", picture, "--expect", "书法", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    (made,), (reused,) = first["calibration"]["engines"], second["calibration"]["engines"]
    assert not made["cached"] and reused["cached"]
    assert {**made, "cached": True} == reused
    assert second["calibration_seconds"] < first["calibration_seconds"]


def test_glyph_check_starts_without_rapidocr_s_own_start_up(tmp_path: Path) -> None:
    """rapidocr's package parses two YAML files through OmegaConf on import (0.4-0.8 s on 2 cores):
    `zqa glyph-check` uses only its model files."""
    import os
    import subprocess
    import sys

    picture = _png(tmp_path, "福")
    code = (
        "import sys; from zimage_qa.cli import main; code = main(['glyph-check', sys.argv[1], '--expect', '福']); "
        "print(code, sorted(m for m in ('rapidocr', 'omegaconf', 'shapely') if m in sys.modules))"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(picture)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 []"
