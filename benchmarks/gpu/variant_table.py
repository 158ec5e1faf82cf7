"""Per variant: median, stages and coverage, NFE, compile time, peaks (device and host), from the gate's
benchmark JSON and results.json (python benchmarks/gpu/variant_table.py RUNS_DIR)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(root: Path) -> None:
    for bench in sorted(root.glob("*.json")):
        try:
            data = json.loads(bench.read_text())
        except ValueError:
            continue
        for b in data.get("benchmarks", []):
            i = b.get("extra_info", {})
            vram = i.get("vram", {})
            print(
                f"{bench.stem:16s} {b['name']:28s} variant {i.get('variant')}: median {b['stats']['median']:.3f} s "
                f"({len(i.get('rounds_s', []))} rounds; {i.get('rounds_plan', '')}), stages {i.get('stages_ms')}, "
                f"coverage {i.get('stage_coverage')}, nfe {i.get('nfe')}, clock {i.get('clock')}, "
                f"nvml peak {vram.get('nvml_peak_gib')} GiB, allocated {vram.get('peak_allocated_gib')} GiB, "
                f"host {i.get('host_peak_gib')} GiB"
            )
        report = root / f"{bench.stem}-report" / "results.json"
        if report.is_file():
            for r in json.loads(report.read_text()).get("records", []):
                if "cold_start" in r.get("test_id", "") or "vram_by_stage" in r.get("test_id", ""):
                    print(f"{bench.stem:16s} cold start: {r.get('message')}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
