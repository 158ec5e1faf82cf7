"""The disk cache of calibrations and model digests (`zimage_qa.glyphs.cache`): a warm entry spares the
engine, any change to what a calibration depends on calibrates again, a corrupt entry is recomputed,
and an unwritable cache folder costs only the speed-up."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from scripted_engine import Scripted, tag_renders

import zimage_qa.glyphs.calibration as calibration
from zimage_qa.glyphs import cache
from zimage_qa.glyphs.cache import sha256_file
from zimage_qa.glyphs.calibration import CalibrationStatus, calibrate
from zimage_qa.glyphs.fontset import style, with_user_fonts


def counting(model: str = "m1", reads: str | None = None) -> Scripted:
    """A recogniser that reads every render as `reads` (default: what was rendered), counting its calls."""
    return Scripted("counting", reads=reads, models={"model.onnx": model}, score=0.97)


@pytest.fixture(autouse=True)
def _tagged_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny renders that carry their text, and an empty in-process cache: only the disk remembers."""
    tag_renders(monkeypatch)


def _forget_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibration, "_CACHE", {})


def _entries() -> list[Path]:
    return sorted((cache.cache_dir() / "calibration").glob("*.json"))


def test_a_second_process_reads_the_calibration_from_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    first = calibrate(counting(), "天香茶馆").engines[0]
    assert not first.cached and len(_entries()) == 1
    _forget_in_process(monkeypatch)
    engine = counting()
    again = calibrate(engine, "天香茶馆").engines[0]
    assert engine.calls == 0 and again.cached
    assert again.to_dict() == {**first.to_dict(), "cached": True}
    assert again == dataclasses.replace(first, cached=True)


def test_the_disk_cache_lives_under_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "zimage-qa"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored, as the spec says
    assert cache.cache_dir() == Path.home() / ".cache" / "zimage-qa"


@pytest.mark.parametrize("change", ["model", "text", "code", "fonts", "font file"])
def test_a_change_to_what_it_depends_on_calibrates_again(
    change: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    brand = tmp_path / "brand.otf"
    shutil.copy(style("black").path, brand)
    fonts = with_user_fonts([brand]) if change == "font file" else None
    calibrate(counting(), "福", fonts)
    _forget_in_process(monkeypatch)
    engine = counting(model="m2" if change == "model" else "m1")
    if change == "code":
        monkeypatch.setattr(calibration, "_code_version", lambda module: "another version")
    if change == "fonts":  # a user's font added
        fonts = with_user_fonts([brand])
    if change == "font file":  # the same path, other contents
        shutil.copy(style("display").path, brand)
        fonts = with_user_fonts([brand])
    result = calibrate(engine, "福福" if change == "text" else "福", fonts).engines[0]
    assert engine.calls > 0 and not result.cached and len(_entries()) == 2


def test_the_code_version_follows_the_files_it_names(tmp_path: Path) -> None:
    module = tmp_path / "engine.py"
    module.write_text("A = 1\n")
    before = calibration._code_version(str(module))
    module.write_text("A = 2\n")
    calibration._code_version.cache_clear()
    assert calibration._code_version(str(module)) != before


@pytest.mark.parametrize(
    "damage",
    ["", "{not json", '{"format": 1}', "[1, 2]", "null", "truncate", "wrong-key", "bad-status"],
)
def test_a_corrupt_entry_is_recomputed_and_rewritten(damage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = calibrate(counting(), "书法").engines[0]
    (entry,) = _entries()
    text = entry.read_text("utf-8")
    data = json.loads(text)
    if damage == "truncate":
        damage = text[: len(text) // 2]
    elif damage == "wrong-key":
        data["key"]["expected"] = "书去"
        damage = json.dumps(data)
    elif damage == "bad-status":
        data["value"]["status"] = "maybe"
        damage = json.dumps(data)
    entry.write_text(damage, "utf-8")
    _forget_in_process(monkeypatch)
    engine = counting()
    again = calibrate(engine, "书法").engines[0]
    assert engine.calls > 0 and not again.cached and again.status is first.status
    rewritten, original = json.loads(entry.read_text("utf-8")), json.loads(text)
    for one in (rewritten, original):
        del one["value"]["seconds"]
    assert rewritten == original  # rewritten whole


def test_a_cached_cannot_judge_stays_cannot_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    calibrate(counting(reads="天香茶馆"), "天香茶馆")  # reads every look-alike as the text
    _forget_in_process(monkeypatch)
    again = calibrate(counting(), "天香茶馆").engines[0]
    assert again.cached and again.status is CalibrationStatus.CANNOT_JUDGE
    assert "it reads" in again.reason and again.blind_spots


def test_an_unwritable_cache_costs_only_the_speed_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    engine = counting()
    assert calibrate(engine, "福").judgeable and engine.calls > 0
    calls = engine.calls
    _forget_in_process(monkeypatch)
    calibrate(engine, "福")
    assert engine.calls == 2 * calls


def test_file_digest_is_the_sha256_and_follows_changes(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"weights v1")
    assert cache.file_digest(model) == sha256_file(model)
    assert cache.file_digest(model) == sha256_file(model)  # from the cache this time
    model.write_bytes(b"weights v2, longer")
    assert cache.file_digest(model) == sha256_file(model)


def test_a_corrupt_digest_entry_is_hashed_again(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"weights")
    cache.file_digest(model)
    (entry,) = (cache.cache_dir() / "digests").glob("*.json")
    data = json.loads(entry.read_text("utf-8"))
    data["value"] = "0" * 63 + "z"
    entry.write_text(json.dumps(data), "utf-8")
    assert cache.file_digest(model) == sha256_file(model)
