"""Per-scenario medians of a solo gate run against sharded runs (zqa gate --gpus), and the walls.

python benchmarks/gpu/medians.py --walls t0,t1,t2,... SOLO_BENCH.json FLEET_REPORT_DIR...
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from pathlib import Path


def medians(bench: Path) -> dict[str, tuple[float, str, str]]:
    data = json.loads(bench.read_text())
    out = {}
    for b in data.get("benchmarks", []):
        info = b.get("extra_info", {})
        rounds = info.get("rounds_s") or b["stats"]["data"]
        out[b["name"]] = (statistics.median(rounds), str(info.get("mode", "?")), str(info.get("device", "?")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--walls", default="")
    parser.add_argument("--again", default=None, help="a second solo run's benchmark JSON (the noise floor)")
    parser.add_argument("solo")
    parser.add_argument("fleets", nargs="*")
    args = parser.parse_args()
    stamps = [float(s) for s in args.walls.split(",") if s]
    names = ["solo (one GPU)", *[Path(f).name for f in args.fleets]]
    for name, (a, b) in zip(names, itertools.pairwise(stamps), strict=False):
        print(
            f"wall {name}: {b - a:.1f} s"
            + (f" = {(b - a) / (stamps[1] - stamps[0]):.2f}x solo" if a != stamps[0] else "")
        )
    solo = medians(Path(args.solo)) if Path(args.solo).is_file() else {}
    if args.again and Path(args.again).is_file():
        print("\nsolo again: test, solo median, second solo median, change, mode")
        for test, (median, mode, _) in sorted(medians(Path(args.again)).items()):
            base = solo.get(test, (float("nan"),))[0]
            print(f"  {test:32s} {base:8.4f} {median:8.4f} {(median / base - 1) * 100:+6.1f} % {mode}")
    for fleet in args.fleets:
        found = {}
        for bench in sorted(Path(fleet).glob("gpu*/benchmark.json")):
            for test, value in medians(bench).items():
                found[test] = (*value, bench.parent.name)
        print(f"\n{Path(fleet).name}: test, solo median, sharded median, change, mode, card")
        for test, (median, mode, device, card) in sorted(found.items()):
            base = solo.get(test, (float("nan"),))[0]
            print(
                f"  {test:32s} {base:8.4f} {median:8.4f} {(median / base - 1) * 100:+6.1f} % {mode:10s} {card} {device}"
            )


if __name__ == "__main__":
    main()
