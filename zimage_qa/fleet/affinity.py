"""Which CPU cores each gate process may use: disjoint sets, whole physical cores (both hyperthreads of
a core go to one process), taken from the cores local to the process's GPU (its NUMA node) where sysfs
says which those are.

At a launch-bound size the GPU waits on the CPU that launches its kernels; two gate processes whose
threads (torch intra-op pools, OpenMP spinning, the NVML sampler, the Python main thread) share cores
slow each other down. Pinning each to its own cores, and sizing its thread pools to them, removes that
contention; placing them on the GPU's node also keeps host memory traffic off the inter-socket link.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from zimage_qa.errors import QAUsageError

SYSFS = Path("/sys")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def parse_cpulist(text: str) -> frozenset[int]:
    """'0-3,8,10-11' -> {0, 1, 2, 3, 8, 10, 11}; an empty text is the empty set."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise QAUsageError(f"cpu list {text!r} is not like '0-3,8'") from None
        cpus.update(range(low, high + 1))
    return frozenset(cpus)


def format_cpulist(cpus: Sequence[int] | frozenset[int]) -> str:
    """{0, 1, 2, 5} -> '0-2,5'."""
    ordered = sorted(cpus)
    runs: list[list[int]] = []
    for cpu in ordered:
        if runs and cpu == runs[-1][1] + 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)


@dataclass(frozen=True)
class Topology:
    """What the planner needs: the CPUs this process may use, which of them are hyperthreads of one
    physical core, and per GPU (by card index) its NUMA node and local CPUs, None where unknown."""

    available: frozenset[int]
    cores: tuple[frozenset[int], ...]
    numa_node: Mapping[int, int | None]
    local: Mapping[int, frozenset[int] | None]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def read_topology(
    bus_ids: Mapping[int, str], sysfs: Path = SYSFS, available: frozenset[int] | None = None
) -> Topology:
    """The topology from sysfs (`bus_ids`: card index -> '0000:19:00.0'); missing files mean unknown."""
    cpus = available if available is not None else frozenset(os.sched_getaffinity(0))
    siblings: dict[frozenset[int], None] = {}
    for cpu in sorted(cpus):
        text = _read(sysfs / f"devices/system/cpu/cpu{cpu}/topology/thread_siblings_list")
        group = parse_cpulist(text) & cpus if text else frozenset()
        siblings.setdefault(group or frozenset({cpu}), None)
    numa: dict[int, int | None] = {}
    local: dict[int, frozenset[int] | None] = {}
    for index, bus in bus_ids.items():
        device = sysfs / "bus/pci/devices" / bus
        node = _read(device / "numa_node") if bus else None
        numa[index] = (
            int(node) if node is not None and node.lstrip("-").isdigit() and int(node) >= 0 else None
        )
        cpulist = _read(device / "local_cpulist") if bus else None
        local[index] = parse_cpulist(cpulist) if cpulist else None
    return Topology(cpus, tuple(siblings), numa, local)


def plan_affinity(topology: Topology, cards: Sequence[int]) -> dict[int, frozenset[int]]:
    """Disjoint CPU sets per card, whole cores each. Cards whose GPUs share a NUMA node split that
    node's cores evenly (the same share for each, so that --each compares like with like); cards of
    unknown locality split what is left. QAUsageError when a card would get no core."""
    cores = [c for c in topology.cores if c <= topology.available] or [
        frozenset({cpu}) for cpu in sorted(topology.available)
    ]
    free = list(cores)
    plan: dict[int, frozenset[int]] = {}
    groups: dict[frozenset[int], list[int]] = {}
    for card in cards:
        groups.setdefault(topology.local.get(card) or frozenset(), []).append(card)
    for local, members in groups.items():
        if not local:
            continue
        near = [c for c in free if c <= local]
        placed = members[: len(near)]
        plan.update(_split(near, placed))
        taken = frozenset().union(*plan.values())
        free = [c for c in free if not c & taken]
    rest = [card for card in cards if card not in plan]
    if rest:
        if len(free) < len(rest):
            raise QAUsageError(
                f"cannot give {len(cards)} gate processes a core each: only {len(cores)} physical core(s) "
                "are usable here; pass --no-affinity, or fewer --gpus"
            )
        plan.update(_split(free, rest))
    return {card: plan[card] for card in cards}


def _split(cores: Sequence[frozenset[int]], cards: Sequence[int]) -> dict[int, frozenset[int]]:
    """`cores` in equal consecutive runs, one per card; a remainder stays unused (equal shares)."""
    if not cards:
        return {}
    share = len(cores) // len(cards)
    return {card: frozenset().union(*cores[k * share : (k + 1) * share]) for k, card in enumerate(cards)}


def thread_environment(cpus: frozenset[int], environ: Mapping[str, str]) -> dict[str, str]:
    """OMP/MKL/OpenBLAS thread counts sized to `cpus`; a smaller count already set is kept."""
    out: dict[str, str] = {}
    for name in THREAD_VARIABLES:
        current = environ.get(name, "")
        keep = current.isdigit() and 0 < int(current) <= len(cpus)
        out[name] = current if keep else str(len(cpus))
    return out
