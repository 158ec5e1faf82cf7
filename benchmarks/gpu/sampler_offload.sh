#!/usr/bin/env bash
# One nvidia-h200 call: (1) does the gate's NVML sampler (5 ms, GIL held through PyDLL) slow a launch-bound
# 512x512 generation (issue 13; sampler_sweep.py, interleaved mirrored rounds); (2) offload.sh (issue 14).
set -uo pipefail
. benchmarks/gpu/common.sh
python3 benchmarks/sampler_sweep.py --workload profile:synthetic --size 512x512 --rounds 16 2>&1 | grep -v Warning | tee "$OUT/sampler-512.txt" | tail -7
UPDATE_S=165 JUDGED_S=275 bash benchmarks/gpu/offload.sh
