"""The gate ships in the wheel and runs from any folder: `pytest --pyargs zimage_qa.gate -m gpu` in an empty
project reads its config and golden records there, never from this repository or site-packages."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from installed_gate import run_installed_gate

ROOT = Path(__file__).resolve().parents[3]
GATE_MODULES = {
    "test_guards.py",
    "test_latency.py",
    "test_vram.py",
    "test_golden.py",
    "test_glyphs.py",
    "test_upgrade.py",
}


def test_the_wheel_holds_the_gate_modules(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("zimage_qa-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"zimage_qa/gate/{m}" for m in GATE_MODULES} <= names
    assert "zimage_qa/default_config.toml" in names and "zimage_qa/glyphs/confusables.toml" in names
    assert any(n.startswith("zimage_qa/glyphs/fonts/") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_the_gate_runs_from_an_empty_folder(tmp_path: Path) -> None:
    """At least 8 real checks pass (guards, latency, cold start, drift) on the reference model; golden has no
    set in this folder and says where it looked."""
    result = run_installed_gate(
        tmp_path, "--qa-scenarios", "512-simple", "-k", "not glyph and not vram", "-rs"
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:]
    assert "guard: 6 passed, 0 failed" in out
    # 512-simple, cold start, drift: each passes, or on a host in a slow spell is not judged, by name
    latency = re.search(r"latency: (\d+) passed, 0 failed(?:, (\d+) not run)?\n", out)
    assert latency is not None, out[-3000:]
    passed, not_run = int(latency[1]), int(latency[2] or 0)
    assert passed + not_run == 3 and passed >= 1, out[-3000:]
    assert out.count("not judged: ") >= not_run, out[-3000:]
    assert "golden: 1 passed, 0 failed, 3 not run" in out  # determinism runs; no golden set in this folder
    assert str(tmp_path / "golden") in out  # ... and the reason names where it looked
    assert (tmp_path / "qa-report" / "index.html").is_file()
    assert not (ROOT / "zimage_qa" / "gate" / "qa-report").exists()


def test_strict_from_an_empty_folder_fails_what_did_not_run(tmp_path: Path) -> None:
    result = run_installed_gate(tmp_path, "-k", "golden_image", "--qa-strict")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "--qa-strict: not run: " in result.stdout
