#!/usr/bin/env bash
# Issue 13 on nvidia-h200-x2: what slows a launch-bound generation while the sibling GPU's process works.
set -uo pipefail
. benchmarks/gpu/common.sh
lscpu | grep -E "^(Model name|Thread|Core|Socket|CPU\(s\)|NUMA)" >> "$OUT/gpus.txt"
python3 benchmarks/gpu/study_contention.py --rounds 8 --cycles 2 2>&1 | grep -v Warning | tee "$OUT/contention.txt"
