"""What an offloaded gate run measured, image by image: each latency round's and back-to-back image's time
with its offload transfers, the device-level peaks (scenario and session) and host RAM, and every check's
verdict (python benchmarks/gpu/offload_table.py REPORT_DIR/results.json [BENCHMARK_JSON])."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

GIB = 2**30


def seconds(values: list[float] | None, scale: float = 1.0) -> str:
    return " ".join(f"{v * scale:.2f}" for v in values or []) + " s" if values else "-"


def gib(value: Any) -> str:
    return f"{value / GIB:.2f} GiB" if isinstance(value, (int, float)) else "-"


def latency_rounds(bench: Path) -> None:
    data = json.loads(bench.read_text())
    for b in data.get("benchmarks", []):
        info = b.get("extra_info", {})
        vram = info.get("vram", {})
        print(
            f"{b['name']}: rounds {seconds(info.get('rounds_s'))}; transfers "
            f"{seconds(info.get('rounds_transfer_ms'), 0.001)}; stages (median ms) {info.get('stages_ms')}"
        )
        print(
            f"    device peak (NVML) {vram.get('nvml_peak_gib')} GiB, allocated {vram.get('peak_allocated_gib')} GiB, "
            f"reserved {vram.get('peak_reserved_gib')} GiB; host RSS peak {info.get('host_peak_gib')} GiB; "
            f"plan: {info.get('rounds_plan')}; released before timing: {info.get('released_before_timing', 'none')}"
        )


def records(results: Path) -> None:
    for r in json.loads(results.read_text()).get("records", []):
        v = r.get("values", {})
        print(f"[{r['outcome']}] {r['test_id'].split('::')[-1]}: {r['message']}")
        if "transfer_s" in v or "times_s" in v:
            works = v.get("work_s") or [None] * len(v["times_s"])
            transfers = v.get("transfer_s") or [None] * len(v["times_s"])
            for k, (total, moved, work) in enumerate(zip(v["times_s"], transfers, works, strict=True), 1):
                split = f" = transfer {moved:.2f} s + work {work:.3f} s" if moved is not None else ""
                print(f"    image {k}: {total:.2f} s{split}")
            print(
                f"    creep {v.get('creep')}, work creep {v.get('work_creep')}, transfer creep {v.get('transfer_creep')}; "
                f"released before timing: {v.get('released_before_timing', 'none')}"
            )
        if "session_peak_nvml_bytes" in v:
            print(
                f"    session device peak {gib(v['session_peak_nvml_bytes'])} ({v.get('session_peak_nvml_in')}), "
                f"torch reserved {gib(v.get('session_peak_reserved_bytes'))} ({v.get('session_peak_reserved_in')}); "
                f"card {gib(v.get('card_bytes'))}"
            )
        if "peak_host_rss_bytes" in v:
            print(
                f"    scenario peaks: NVML {gib(v.get('peak_nvml_bytes'))}, allocated {gib(v.get('peak_allocated_bytes'))}, "
                f"host RSS {gib(v.get('peak_host_rss_bytes'))}"
            )


if __name__ == "__main__":
    records(Path(sys.argv[1]))
    if len(sys.argv) > 2 and Path(sys.argv[2]).is_file():
        latency_rounds(Path(sys.argv[2]))
