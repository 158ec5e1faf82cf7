"""CPU pinning: disjoint whole cores per GPU process, on the GPU's NUMA node, from fake sysfs trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from zimage_qa.errors import QAUsageError
from zimage_qa.fleet.affinity import (
    Topology,
    format_cpulist,
    parse_cpulist,
    plan_affinity,
    read_topology,
    thread_environment,
)

BUS = {0: "0000:19:00.0", 1: "0000:9a:00.0"}


def fake_sysfs(root: Path, cpus: int, smt: bool, gpu_nodes: dict[str, tuple[int, str] | None]) -> Path:
    """`cpus` logical CPUs; with `smt`, cpu i and i + cpus/2 are hyperthreads of one core (Linux's
    usual numbering). `gpu_nodes`: bus id -> (NUMA node, local cpulist), or None for no sysfs entry."""
    half = cpus // 2
    for cpu in range(cpus):
        topo = root / f"devices/system/cpu/cpu{cpu}/topology"
        topo.mkdir(parents=True)
        core = cpu % half if smt else cpu
        topo.joinpath("thread_siblings_list").write_text(f"{core},{core + half}\n" if smt else f"{cpu}\n")
    for bus, info in gpu_nodes.items():
        if info is None:
            continue
        device = root / "bus/pci/devices" / bus
        device.mkdir(parents=True)
        device.joinpath("numa_node").write_text(f"{info[0]}\n")
        device.joinpath("local_cpulist").write_text(info[1] + "\n")
    return root


def core_of(cpu: int, half: int) -> int:
    return cpu % half


def test_cpulists_round_trip() -> None:
    assert parse_cpulist("0-3,8,10-11\n") == {0, 1, 2, 3, 8, 10, 11}
    assert parse_cpulist("") == frozenset()
    assert format_cpulist(frozenset({0, 1, 2, 5, 7, 8})) == "0-2,5,7-8"
    with pytest.raises(QAUsageError, match="is not like"):
        parse_cpulist("0-x")


def test_each_gpu_gets_its_own_numa_node(tmp_path: Path) -> None:
    # Two sockets of 8 cores with SMT: node 0 = cores 0-7 (CPUs 0-7, 16-23), node 1 = 8-15 (8-15, 24-31).
    root = fake_sysfs(tmp_path, 32, True, {BUS[0]: (0, "0-7,16-23"), BUS[1]: (1, "8-15,24-31")})
    topology = read_topology(BUS, root, available=frozenset(range(32)))
    assert topology.numa_node == {0: 0, 1: 1}
    plan = plan_affinity(topology, [0, 1])
    assert plan[0] == parse_cpulist("0-7,16-23") and plan[1] == parse_cpulist("8-15,24-31")


def test_two_gpus_on_one_node_split_its_cores_with_hyperthreads_kept_together(tmp_path: Path) -> None:
    root = fake_sysfs(tmp_path, 32, True, {BUS[0]: (0, "0-7,16-23"), BUS[1]: (0, "0-7,16-23")})
    plan = plan_affinity(read_topology(BUS, root, available=frozenset(range(32))), [0, 1])
    assert not plan[0] & plan[1]
    assert plan[0] | plan[1] == parse_cpulist("0-7,16-23")  # both stay on their GPUs' node
    for cpus in plan.values():
        assert len(cpus) == 8
        assert {c % 16 for c in cpus} == {c for c in cpus if c < 16}  # a core's two threads go together


def test_unknown_topology_still_gives_disjoint_even_sets(tmp_path: Path) -> None:
    root = fake_sysfs(tmp_path, 6, False, {BUS[0]: None, BUS[1]: None})
    topology = read_topology(BUS, root, available=frozenset(range(6)))
    assert topology.local == {0: None, 1: None} and topology.numa_node == {0: None, 1: None}
    plan = plan_affinity(topology, [0, 1])
    assert sorted(len(c) for c in plan.values()) == [3, 3] and not plan[0] & plan[1]
    three = plan_affinity(Topology(frozenset(range(7)), (), {}, {}), [4, 5, 6])
    assert [len(c) for c in three.values()] == [2, 2, 2]  # equal shares; the seventh CPU stays free
    assert len(frozenset().union(*three.values())) == 6


def test_a_restricted_process_plans_only_its_own_cpus(tmp_path: Path) -> None:
    root = fake_sysfs(tmp_path, 16, False, {BUS[0]: (0, "0-7"), BUS[1]: (1, "8-15")})
    plan = plan_affinity(read_topology(BUS, root, available=frozenset({2, 3, 4, 9, 10})), [0, 1])
    assert plan[0] <= {2, 3, 4} and plan[1] <= {9, 10}
    assert len(plan[0]) + len(plan[1]) == 5


def test_fewer_cores_than_gpus_is_a_usage_error() -> None:
    with pytest.raises(QAUsageError, match="only 1 physical core"):
        plan_affinity(Topology(frozenset({0, 1}), (frozenset({0, 1}),), {}, {}), [0, 1])


def test_thread_pools_follow_the_share() -> None:
    cpus = frozenset(range(8))
    env = thread_environment(cpus, {"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "64"})
    assert env == {"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "8", "OPENBLAS_NUM_THREADS": "8"}
