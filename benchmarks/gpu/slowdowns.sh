#!/usr/bin/env bash
# nvidia-h200, 2026-12-02 call 3: injected slowdowns judged by --qa-baseline and --qa-candidate, on one host.
# A baseline run (1024-simple and 512-simple latency), the same code again against it (identical: must never
# regress), then slowed runs against it: +8 % at 1024x1024 as real tensor-core work (bf16 matrix products,
# 13 ms per DiT call), +10 % at 512x512 as GPU sleep (5.6 ms per call); then A/B in one process
# (--qa-candidate synthetic) with the candidate slowed +10 % at 512. FULL=1 adds the GPU-sleep form at 1024,
# an A/B at 1024 and an identical A/B (left out of the session's call: device time).
# Files: slowdowns.txt (what each run concluded), slowdowns-runs.tgz.
set -u
. benchmarks/gpu/common.sh
mkdir -p /tmp/empty /tmp/sd && cd /tmp/empty || exit 1
BOTH=(--qa-scenarios 1024-simple,512-simple -k "test_latency[")
RUNS_DIR=/tmp/sd RUNS_TXT="$OUT/slowdowns.txt"
run base "${BOTH[@]}" -rA
run same --qa-scenarios 1024-simple -k "test_latency[" -rA --qa-baseline /tmp/sd/base.json
ZQA_SLOW_MS=13 ZQA_SLOW_KIND=matmul run work1024 -p slowdown --qa-scenarios 1024-simple -k "test_latency[" -rA --qa-baseline /tmp/sd/base.json
if [ "${FULL:-0}" = 1 ]; then
  ZQA_SLOW_MS=13 run sleep1024 -p slowdown --qa-scenarios 1024-simple -k "test_latency[" -rA --qa-baseline /tmp/sd/base.json
  ZQA_SLOW_MS=13 ZQA_SLOW_KIND=matmul ZQA_SLOW_WHICH=candidate run ab1024 -p slowdown --qa-candidate synthetic --qa-scenarios 1024-simple -k candidate_latency -rA
  run abSame --qa-candidate synthetic --qa-scenarios 1024-simple,512-simple -k candidate_latency -rA
fi
ZQA_SLOW_MS=5.6 run sleep512 -p slowdown --qa-scenarios 512-simple -k "test_latency[" -rA --qa-baseline /tmp/sd/base.json
ZQA_SLOW_MS=5.6 ZQA_SLOW_WHICH=candidate run ab512 -p slowdown --qa-candidate synthetic --qa-scenarios 512-simple -k candidate_latency -rA
cat "$OUT/slowdowns.txt"
cd /tmp/sd && tar czf "$OUT/slowdowns-runs.tgz" ./*.json ./*.log
