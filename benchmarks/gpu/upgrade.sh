#!/usr/bin/env bash
# Issue 11 on nvidia-h200-x2. GPU 0: a baseline run, then the same with ~8 % of DiT slowdown judged against
# it (--qa-baseline), then the slowed pipeline as --qa-candidate of the plain one (A/B). GPU 1, meanwhile:
# three separate A/B runs of two identical pipelines (no alarm expected).
set -uo pipefail
. benchmarks/gpu/common.sh
ONE=(--qa-scenarios 1024-simple -k "test_latency or cold_start")
(
  export CUDA_VISIBLE_DEVICES=0
  gate "${ONE[@]}" --benchmark-json /tmp/runs/base.json > /tmp/runs/base.log 2>&1
  ZQA_SLOW_MS="${SLOW_MS:-13}" gate -p slowdown "${ONE[@]}" --qa-baseline /tmp/runs/base.json \
    --benchmark-json /tmp/runs/slow.json > /tmp/runs/slow.log 2>&1
  ZQA_SLOW_MS="${SLOW_MS:-13}" ZQA_SLOW_WHICH=candidate gate -p slowdown --qa-candidate synthetic \
    --qa-scenarios 1024-simple -k candidate_latency --benchmark-json /tmp/runs/ab-slow.json > /tmp/runs/ab-slow.log 2>&1
) &
(
  export CUDA_VISIBLE_DEVICES=1
  for i in 1 2 3; do
    gate --qa-candidate synthetic --qa-scenarios 1024-simple -k candidate_latency \
      --benchmark-json "/tmp/runs/ab-same-$i.json" > "/tmp/runs/ab-same-$i.log" 2>&1
  done
) &
wait
for f in base slow ab-slow ab-same-1 ab-same-2 ab-same-3; do
  echo "== $f"; grep -E "^(latency|upgrade|vram|guard):|passed|failed|slower|baseline|candidate|Failed|Error" "/tmp/runs/$f.log" | tail -8
done | tee "$OUT/upgrade-summary.txt"
cd /tmp/runs && find . -name '*.json' -o -name '*.log' | tar czf "$OUT/upgrade-runs.tgz" -T -
