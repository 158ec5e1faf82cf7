"""`zqa compare`: exit codes, JSON, bad inputs, and no torch import."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from golden_labelled_set import REGRESSED_KINDS, load_photo
from PIL import Image

import zimage_qa.cli
from zimage_qa.cli import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _only_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other subcommands are other areas' business: these tests build the parser with compare alone."""
    monkeypatch.setattr(zimage_qa.cli, "SUBCOMMANDS", {"compare": zimage_qa.cli.SUBCOMMANDS["compare"]})


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    photo = load_photo("rocket")
    paths = {name: folder / f"{name}.png" for name in ("golden", "same", "flipped", "black")}
    Image.fromarray(photo).save(paths["golden"])
    Image.fromarray(photo).save(folder / "same.jpg", quality=92)
    paths["same"] = folder / "same.jpg"
    Image.fromarray(REGRESSED_KINDS["mirror flip"](photo, np.random.default_rng(0))).save(paths["flipped"])
    Image.new("RGB", (512, 512)).save(paths["black"])
    return paths


def test_same_exits_0(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(images["golden"]), str(images["same"])]) == 0
    assert capsys.readouterr().out.startswith("SAME: ")


def test_regressed_exits_1_with_json(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(images["golden"]), str(images["flipped"]), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["same"] is False
    assert result["status"] == "regressed"
    names = {m["name"] for m in result["measures"]}
    assert {"phash", "structure", "colour shift", "sharpness", "noise", "periodicity"} <= names
    assert all({"value", "threshold", "passed", "bound"} <= set(m) for m in result["measures"])
    assert any(r.startswith("structure: thumbnail SSIM ") for r in result["reasons"])


def test_the_command_judges_as_the_gate_does(
    images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from zimage_qa.golden.pixels import load_image
    from zimage_qa.golden.record import GoldenCase, make_record
    from zimage_qa.golden.verdict import compare

    for name in ("same", "flipped"):
        main(["compare", str(images["golden"]), str(images[name]), "--json"])
        printed = json.loads(capsys.readouterr().out)
        golden = load_image(images["golden"])
        gate = compare(make_record(golden, GoldenCase("g", 512, 512)), load_image(images[name]))
        assert printed["measures"] == gate.to_dict()["measures"]


def test_invalid_candidate_exits_1(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(images["golden"]), str(images["black"]), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "invalid"


def test_threshold_override_and_diff(
    images: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diff = tmp_path / "diff.png"
    argv = [
        "compare",
        str(images["golden"]),
        str(images["same"]),
        "--threshold",
        "phash=0.5",
        "--diff",
        str(diff),
    ]
    assert main(argv) in (0, 1)
    with Image.open(diff) as written:
        assert written.size == (776, 256)
    assert main(["compare", str(images["golden"]), str(images["same"]), "--threshold", "phash"]) == 2
    assert main(["compare", str(images["golden"]), str(images["same"]), "--threshold", "nope=1"]) == 2
    assert "unknown golden threshold(s) nope" in capsys.readouterr().err


def _bad_inputs(folder: Path) -> dict[str, tuple[Path | None, str]]:
    empty = folder / "empty.png"
    empty.write_bytes(b"")
    text = folder / "notes.png"
    text.write_text("hello")
    good = folder / "good.png"
    Image.fromarray(load_photo("chelsea")).save(good)
    truncated = folder / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:5000])
    bomb = folder / "bomb.png"
    Image.new("1", (10_000, 10_000)).save(bomb)  # 100 Mpx, a few kB on disk
    return {
        "missing": (folder / "missing.png", "does not exist"),
        "empty": (empty, "is empty"),
        "non-image": (text, "is not an image Pillow can read"),
        "truncated": (truncated, "may be truncated"),
        "bomb": (bomb, "is too large to compare safely"),
        "black golden": (None, "is not a usable golden image"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "non-image", "truncated", "bomb", "black golden"])
def test_bad_input_exits_2_with_one_line(
    case: str, images: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, message = _bad_inputs(tmp_path)[case]
    if path is None:
        argv = ["compare", str(images["black"]), str(images["golden"])]
        path = images["black"]
    else:
        argv = ["compare", str(images["golden"]), str(path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("zqa: error: ")
    assert str(path) in err
    assert message in err


_PROBE = """
import sys, runpy
{patch}
sys.argv = ["zqa", "compare", {golden!r}, {candidate!r}, "--json"]
try:
    runpy.run_module("zimage_qa.cli", run_name="__main__")
except SystemExit as exit:
    print("TORCH" if "torch" in sys.modules else "NO-TORCH", file=sys.stderr)
    raise
"""


def _probe(images: dict[str, Path], patch: str) -> subprocess.CompletedProcess[str]:
    code = _PROBE.format(patch=patch, golden=str(images["golden"]), candidate=str(images["same"]))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_compare_alone_imports_no_torch(images: dict[str, Path]) -> None:
    patch = "import zimage_qa.cli as c; c.SUBCOMMANDS = {'compare': c.SUBCOMMANDS['compare']}"
    result = _probe(images, patch)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["same"] is True
    assert result.stderr.strip().endswith("NO-TORCH")


def test_python_m_qa_cli_compare_imports_no_torch(images: dict[str, Path]) -> None:
    missing = [m for m, _ in zimage_qa.cli.SUBCOMMANDS.values() if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"subcommand modules not written yet: {', '.join(missing)}")
    result = _probe(images, "")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("NO-TORCH")
