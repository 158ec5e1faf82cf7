"""Issue 13: why does a launch-bound generation (512x512) slow down when a sibling gate process works
on the other GPU of the host? Two processes, one per GPU, each with the synthetic pipeline. Process A
times 512x512 generations (wall, its main thread's CPU time, its whole process's CPU time) while process
B does one thing per phase: nothing, 1024x1024 or 512x512 generations, a CPU matrix product (like a
sibling's load or picture work), with torch's intra-op pool at its default size or at one thread, and
with the two main threads pinned to different physical cores. The cycle runs twice, so the spread
between two like phases is the noise floor. Prints one table; the JSON goes to $OUT/contention.json.

    python3 benchmarks/gpu/study_contention.py [--rounds 8] [--cycles 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import time
from pathlib import Path

PROMPT = "A red apple on a table"


def _siblings(cpu: int) -> set[int]:
    try:
        text = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list").read_text().strip()
    except OSError:
        return {cpu}
    out: set[int] = set()
    for part in text.split(","):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def _pipeline(gpu: int):
    os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    import torch

    from zimage_qa.models.synthetic import build_synthetic_pipeline

    started = time.perf_counter()
    pipe = build_synthetic_pipeline("cuda")
    torch.cuda.synchronize()
    return torch, pipe, time.perf_counter() - started


def _generate(torch, pipe, size: int, seed: int = 42) -> None:
    with torch.inference_mode():
        pipe(
            PROMPT,
            height=size,
            width=size,
            num_inference_steps=8,
            guidance_scale=0.0,
            generator=torch.Generator("cuda").manual_seed(seed),
            output_type="pil",
        )
    torch.cuda.synchronize()


class CpuProbe:
    """The probe tried on 2026-11-29 (then in zimage_qa/measure/host_cpu.py): 150 dispatcher calls on a tiny CPU
    tensor and a short Python loop, the fastest of three. In this study it read the host's slow spells
    (about 1000 us against 550-650 us); inside the gate, after each round, it read 0.45-0.55 of its best
    in most rounds whatever the round's time, so it was taken out of the gate."""

    def __init__(self) -> None:
        import torch

        self.tensor, self.best_s = torch.zeros(8), None

    def probe(self) -> float:
        def once() -> float:
            started = time.perf_counter()
            for _ in range(150):
                self.tensor.add_(1.0)
            total = 0
            for k in range(400):
                total += k * k
            return time.perf_counter() - started

        fastest = min(once() for _ in range(3))
        self.best_s = fastest if self.best_s is None else min(self.best_s, fastest)
        return fastest


def _set_threads(torch, threads: int | None, default: int) -> None:
    torch.set_num_threads(threads or default)


def worker_b(commands, ready, stop, done, gpu: int) -> None:
    torch, pipe, _ = _pipeline(gpu)
    default = torch.get_num_threads()
    everything = os.sched_getaffinity(0)
    for size in (512, 1024):
        _generate(torch, pipe, size)
    ready.set()
    while True:
        command = commands.get()
        if command is None:
            return
        activity, threads, pin = command
        _set_threads(torch, threads, default)
        os.sched_setaffinity(0, pin or everything)
        cpu_before, gens = time.process_time(), 0
        began = time.perf_counter()
        ready.set()
        while not stop.is_set():
            if activity == "idle":
                time.sleep(0.01)
            elif activity.startswith("gen"):
                _generate(torch, pipe, int(activity[3:]))
                gens += 1
            elif activity == "cpu":
                a = torch.randn(1024, 1024)
                for _ in range(20):
                    a = (a @ a).tanh_()
        wall = time.perf_counter() - began
        os.sched_setaffinity(0, everything)
        done.put({"gens": gens, "process_cpu_per_wall": (time.process_time() - cpu_before) / wall})


def phases(cpus: int, short: bool) -> list[tuple[str, dict, tuple]]:
    """(name, A's settings, B's command)."""
    if short:  # the probe's validation: the host CPU's spells under three loads
        return [
            ("B idle", {}, ("idle", None, None)),
            ("B 1024", {}, ("gen1024", None, None)),
            ("B cpu matmul", {}, ("cpu", None, None)),
        ]
    a_core = _siblings(0)
    b_core = _siblings(cpus // 2) - a_core or {cpus - 1}
    return [
        ("B idle", {}, ("idle", None, None)),
        ("B 1024", {}, ("gen1024", None, None)),
        ("B 512", {}, ("gen512", None, None)),
        ("B cpu matmul", {}, ("cpu", None, None)),
        ("B 1024, B 1 thread", {}, ("gen1024", 1, None)),
        ("B 1024, both 1 thread", {"threads": 1}, ("gen1024", 1, None)),
        ("B idle, A 1 thread", {"threads": 1}, ("idle", None, None)),
        ("B 1024, both 1 thread, pinned", {"threads": 1, "pin": a_core}, ("gen1024", 1, b_core)),
        ("B idle, A 1 thread, pinned", {"threads": 1, "pin": a_core}, ("idle", None, None)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--probe", action="store_true", help="the host CPU probe around each round, 3 phases")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    commands, done = ctx.Queue(), ctx.Queue()
    ready, stop = ctx.Event(), ctx.Event()
    b = ctx.Process(target=worker_b, args=(commands, ready, stop, done, 1))
    b.start()
    torch, pipe, load_s = _pipeline(0)
    default = torch.get_num_threads()
    everything = os.sched_getaffinity(0)
    for size in (512, 1024, args.size):
        _generate(torch, pipe, size)
    ready.wait()
    rows = []
    plan = phases(os.cpu_count() or 2, args.probe)
    host = CpuProbe()
    for _ in range(5):
        host.probe()
    cuda_probe_best = [float("inf")]

    def cuda_probe() -> float:
        x = torch.zeros(8, device="cuda")
        best = float("inf")
        for _ in range(3):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(100):
                x.add_(1.0)
            torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
        cuda_probe_best[0] = min(cuda_probe_best[0], best)
        return best

    for cycle in range(args.cycles):
        for name, a_settings, b_command in plan:
            ready.clear()
            stop.clear()
            commands.put(b_command)
            ready.wait()
            if b_command[0] != "idle":
                time.sleep(1.5)  # B in its steady state
            _set_threads(torch, a_settings.get("threads"), default)
            os.sched_setaffinity(0, a_settings.get("pin") or everything)
            _generate(torch, pipe, args.size)
            walls, thread_cpu, process_cpu, probes = [], [], [], []
            for _ in range(args.rounds):
                before = (host.probe(), cuda_probe()) if args.probe else (None, None)
                t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
                _generate(torch, pipe, args.size)
                walls.append(time.perf_counter() - t0)
                thread_cpu.append(time.thread_time() - c0)
                process_cpu.append(time.process_time() - p0)
                after = (host.probe(), cuda_probe()) if args.probe else (None, None)
                probes.append((before, after))
            stop.set()
            b_stats = done.get()
            os.sched_setaffinity(0, everything)
            _set_threads(torch, None, default)
            q = statistics.quantiles(walls, n=4)
            row = {
                "cycle": cycle + 1,
                "phase": name,
                "median_s": statistics.median(walls),
                "rel_iqr": (q[2] - q[0]) / statistics.median(walls),
                "walls": walls,
                "thread_cpu_over_wall": statistics.median(
                    t / w for t, w in zip(thread_cpu, walls, strict=True)
                ),
                "process_cpu_over_wall": statistics.median(
                    p / w for p, w in zip(process_cpu, walls, strict=True)
                ),
                "b": b_stats,
                "probes": probes,
            }
            rows.append(row)
            print(
                f"{cycle + 1} {name:34s} median {row['median_s']:.3f} s  IQR {row['rel_iqr']:6.1%}  "
                f"A thread cpu/wall {row['thread_cpu_over_wall']:.2f}  A process cpu/wall "
                f"{row['process_cpu_over_wall']:5.2f}  B gens {b_stats['gens']:3d} "
                f"B cpu/wall {b_stats['process_cpu_per_wall']:5.2f}",
                flush=True,
            )
    commands.put(None)
    stop.set()
    b.join(timeout=30)
    info = {
        "probe_best_s": host.best_s,
        "cuda_probe_best_s": cuda_probe_best[0],
        "load_s": load_s,
        "torch_threads": default,
        "cpus": os.cpu_count(),
        "siblings_cpu0": sorted(_siblings(0)),
        "rows": rows,
    }
    out = Path(os.environ.get("OUT", "/tmp"))
    (out / "contention.json").write_text(json.dumps(info, indent=1))
    print(
        f"load {load_s:.1f} s, torch threads {default}, cpus {os.cpu_count()}, "
        f"cpu0 siblings {sorted(_siblings(0))}"
    )


if __name__ == "__main__":
    main()
