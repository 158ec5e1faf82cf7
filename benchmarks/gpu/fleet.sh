#!/usr/bin/env bash
# Issue 13 on nvidia-h200-x2: the synthetic gate on one GPU, then sharded over both GPUs (zqa gate --gpus all)
# with core affinity and the launch-bound scenarios solo, then without them (what the interference is).
set -uo pipefail
. benchmarks/gpu/common.sh
for n in /sys/bus/pci/devices/*; do [ -f "$n/class" ] && grep -q 0x0302 "$n/class" && echo "$n numa $(cat "$n/numa_node") cpus $(cat "$n/local_cpulist")"; done >> "$OUT/gpus.txt"
t0=$(stamp)
CUDA_VISIBLE_DEVICES=0 gate --qa-require-gpu --qa-report /tmp/runs/solo --benchmark-json /tmp/runs/solo-bench.json > /tmp/runs/solo.log 2>&1
t1=$(stamp)
python3 -m zimage_qa.cli gate --gpus all --report /tmp/runs/fleet -- --qa-model synthetic --qa-require-gpu -p no:cacheprovider > /tmp/runs/fleet.log 2>&1
t2=$(stamp)
python3 -m zimage_qa.cli gate --gpus all --solo none --no-affinity --report /tmp/runs/fleet-plain -- --qa-model synthetic --qa-require-gpu -p no:cacheprovider > /tmp/runs/fleet-plain.log 2>&1
t3=$(stamp)
python3 benchmarks/gpu/medians.py --walls "$t0,$t1,$t2,$t3" /tmp/runs/solo-bench.json /tmp/runs/fleet /tmp/runs/fleet-plain | tee "$OUT/medians.txt"
tail -25 /tmp/runs/solo.log; tail -30 /tmp/runs/fleet.log; tail -8 /tmp/runs/fleet-plain.log
cd /tmp/runs && find . -name '*.json' -o -name '*.log' | tar czf "$OUT/fleet-runs.tgz" -T -
