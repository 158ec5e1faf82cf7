"""How long `zqa glyph-check IMAGE --expect TEXT` takes on this machine, as a user runs it: the first
check of a new text (its calibration made, the model digests already cached) and a check whose
calibration is cached. Each run is a fresh process.

    python benchmarks/glyph_check_speed.py [--runs 10] [--engine rapidocr]

Pictures: 1024x1024, four-character texts in a held-out font (WenQuanYi Zen Hei), as
tests/unit/glyphs/glyph_render.py draws them. With hyperfine on PATH (apt-get install hyperfine) the
runs go through it (JSON in the printed folder); otherwise they are timed here. Prints the median
and the range per case; the cache lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "glyphs"))
TEXTS = ("花好月圆", "平安喜乐", "步步高升", "书法展览")
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def timed(
    command: list[str], env: dict[str, str], runs: int, prepare: str, out: Path, name: str
) -> list[float]:
    if shutil.which("hyperfine"):
        report = out / f"{name}.json"
        hyper = ["hyperfine", "--runs", str(runs), "--export-json", str(report), "--style", "none", "-i"]
        hyper += ["--prepare", prepare] if prepare else ["--warmup", "1"]
        subprocess.run([*hyper, " ".join(command)], env=env, check=True, capture_output=True)
        return list(json.loads(report.read_text())["results"][0]["times"])
    found = []
    for _ in range(runs):
        if prepare:
            subprocess.run(prepare, shell=True, env=env, check=True)
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=False)
        found.append(time.perf_counter() - started)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--engine", default="rapidocr")
    args = parser.parse_args()
    from glyph_render import render

    out = Path(tempfile.mkdtemp(prefix="zqa-speed-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(out / "cache")}
    zqa = str(Path(sys.executable).with_name("zqa"))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; results in {out}")
    for text in TEXTS:
        picture = out / f"{text}.png"
        render(text, FONT, 7, canvas=1024).save(picture)
        command = [zqa, "glyph-check", str(picture), "--expect", text, "--engine", args.engine]
        subprocess.run([zqa, "glyph-check", str(picture), "--expect", "福"], env=env, capture_output=True)
        calibrations = out / "cache" / "zimage-qa" / "calibration"
        first = timed(command, env, args.runs, f"rm -rf {calibrations}", out, f"first-{text}")
        cached = timed(command, env, args.runs, "", out, f"cached-{text}")
        for name, times in (("first", first), ("cached", cached)):
            print(
                f"  {text} {name:<6} median {statistics.median(times):.2f} s, range {min(times):.2f}-"
                f"{max(times):.2f} s over {len(times)} runs"
            )


if __name__ == "__main__":
    main()
