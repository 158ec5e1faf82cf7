"""Record what the host does to back-to-back images: each image's time and the host probe just before it.

    python3 benchmarks/gpu/spells.py OUT.json [--seconds 150] [--size 512] [--size 1024 --seconds 40]

One process, the synthetic full-size pipeline, the gate's own probe (`zimage_qa.measure.probe.HostProbe`:
2,000 one-element kernel launches timed on the CPU), then images back to back for the given time at each
size, in order. The JSON holds per size the sequence of (probe_ms, image_s), which the decision study
(`benchmarks/decision_study.py`) resamples in blocks to keep the spells, and which gives the probe's
precision and recall against the images' own two speeds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

PROMPT = "A red apple on a table"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--plan", default="512:150,1024:40", help="SIZE:SECONDS,... in order")
    args = parser.parse_args()

    import torch

    from zimage_qa.measure.probe import HostProbe
    from zimage_qa.models.synthetic import build_synthetic_pipeline

    started = time.perf_counter()
    pipe = build_synthetic_pipeline("cuda")
    torch.cuda.synchronize()
    load_s = time.perf_counter() - started
    probe = HostProbe("cuda:0")

    def image(size: int) -> float:
        begin = time.perf_counter()
        with torch.inference_mode():
            pipe(
                PROMPT,
                height=size,
                width=size,
                num_inference_steps=8,
                guidance_scale=0.0,
                generator=torch.Generator("cuda").manual_seed(42),
                output_type="pil",
            )
        torch.cuda.synchronize()
        return time.perf_counter() - begin

    result: dict[str, object] = {"load_s": load_s, "device": torch.cuda.get_device_name(0), "sizes": {}}
    for item in args.plan.split(","):
        size, seconds = (int(v) for v in item.split(":"))
        for _ in range(2):
            image(size)
        rows = []
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            probe_ms = probe.read_ms()
            rows.append(
                {"probe_ms": round(probe_ms, 3), "image_s": round(image(size), 5), "t": time.perf_counter()}
            )
        result["sizes"][str(size)] = rows  # type: ignore[index]
        times = sorted(r["image_s"] for r in rows)
        print(
            f"{size}: {len(rows)} images, median {times[len(times) // 2]:.3f} s, min {times[0]:.3f}, "
            f"max {times[-1]:.3f}",
            flush=True,
        )
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
