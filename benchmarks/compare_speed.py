"""`zqa compare` on two 1024x1024 PNGs, end to end in fresh interpreters, in CPU seconds (wall time
depends on what else runs). Target: the best of `--runs` under 0.5 s of CPU.

    python benchmarks/compare_speed.py [--runs 5] [--target 0.5]

Exit 0 when the target holds, 1 when it is missed. A speed target, not a unit test: a loaded CI machine
must not turn the framework's own suite red.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def _pictures(folder: Path) -> tuple[Path, Path]:
    from skimage import data

    golden = np.asarray(Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.LANCZOS))
    noisy = np.clip(golden + np.random.default_rng(3).normal(0, 3, golden.shape), 0, 255).astype(np.uint8)
    Image.fromarray(golden).save(folder / "golden.png")
    Image.fromarray(noisy).save(folder / "candidate.png")
    return folder / "golden.png", folder / "candidate.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.5, help="CPU seconds (default 0.5)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        golden, candidate = _pictures(Path(folder))
        argv_ = [sys.executable, "-m", "zimage_qa.cli", "compare", str(golden), str(candidate), "--json"]
        spent = []
        for _ in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            result = subprocess.run(argv_, cwd=ROOT, capture_output=True, text=True, check=False)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if result.returncode != 0:
                print(result.stderr, file=sys.stderr)
                return 1
            spent.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    spent.sort()
    print(
        f"zqa compare, two 1024x1024 PNGs: best {spent[0]:.3f} s CPU, median {spent[len(spent) // 2]:.3f} s "
        f"over {args.runs} runs (target {args.target} s)"
    )
    return 0 if spent[0] <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
