"""The reference profile's promises, measured: it builds in under 2 s and makes a 256x256, 8-step image
in under 3 s on 2 CPU cores. Reruns anywhere; prints medians and spread over repeated builds and images.

    python benchmarks/reference_profile.py [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runnable from a checkout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    from zimage_qa.models.profiles import load_model, resolve_spec

    spec = resolve_spec("reference")
    load_model(spec).generate("warm-up", 256, 256, 8, 0)  # imports, allocator and kernel warm-up
    first_s = time.perf_counter() - started
    builds, firsts, images = [], [], []
    for i in range(args.repeats):
        t = time.perf_counter()
        model = load_model(spec)
        builds.append(time.perf_counter() - t)
        for times in (firsts, images):  # a fresh pipeline's first image, then a warm one
            t = time.perf_counter()
            model.generate("A red apple on a table", 256, 256, 8, 42 + i)
            times.append(time.perf_counter() - t)
    import torch

    result = {
        "threads": torch.get_num_threads(),
        "cold_process_s": round(first_s, 3),
        "build_s": {
            "median": round(statistics.median(builds), 4),
            "min": round(min(builds), 4),
            "max": round(max(builds), 4),
        },
        "first_image_256_8steps_s": {
            "median": round(statistics.median(firsts), 4),
            "min": round(min(firsts), 4),
            "max": round(max(firsts), 4),
        },
        "image_256_8steps_s": {
            "median": round(statistics.median(images), 4),
            "min": round(min(images), 4),
            "max": round(max(images), 4),
        },
    }
    print(json.dumps(result, indent=1))
    ok = result["build_s"]["median"] < 2.0 and result["first_image_256_8steps_s"]["median"] < 3.0
    print("targets (build < 2 s, 256x256 8-step image < 3 s):", "hold" if ok else "MISSED")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
