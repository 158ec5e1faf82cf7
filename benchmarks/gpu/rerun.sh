#!/usr/bin/env bash
# After variants.sh: the compiled variant's baseline and ~8 % slowdown against it (the sleep now outside the
# compiled graph), and the offloaded variant judged against the runner budgets variants.sh wrote (kept in
# benchmarks/results/h200-runner-golden), in parallel on GPUs 0 and 1; then the sharded gate against one GPU.
set -uo pipefail
. benchmarks/gpu/common.sh
GOLD=(--qa-golden-dir benchmarks/results/h200-runner-golden --qa-scenarios 1024-simple)
(
  export CUDA_VISIBLE_DEVICES=0
  gate --qa-variant compile=wrap "${GOLD[@]}" -k test_latency --benchmark-json /tmp/runs/compile-base.json > /tmp/runs/compile-base.log 2>&1
  ZQA_SLOW_MS="${SLOW_MS_COMPILED:-9}" gate -p slowdown --qa-variant compile=wrap "${GOLD[@]}" -k test_latency \
    --qa-baseline=/tmp/runs/compile-base.json --benchmark-json /tmp/runs/compile-slow.json > /tmp/runs/compile-slow.log 2>&1
) &
(
  export CUDA_VISIBLE_DEVICES=1; t0=$(stamp)
  gate --qa-require-gpu --qa-variant offload=model "${GOLD[@]}" --qa-config benchmarks/gpu/offload.toml --qa-card-memory 16GiB \
    -k "not guard" --qa-report /tmp/runs/offload-report --benchmark-json /tmp/runs/offload-model.json > /tmp/runs/offload-model.log 2>&1
  echo "offload-model: judged gate $(python3 -c "print(round($(stamp)-$t0,1))") s" > /tmp/runs/walls.txt
) &
wait
for f in compile-base compile-slow offload-model; do
  echo "== $f"; grep -E "^(latency|vram|guard|warnings|    )|passed|failed|error|slower|slowdown" "/tmp/runs/$f.log" | tail -14
done | tee "$OUT/rerun-summary.txt"
cat /tmp/runs/walls.txt >> "$OUT/rerun-summary.txt"
python3 benchmarks/gpu/variant_table.py /tmp/runs > "$OUT/rerun-table.txt"
if [ "${FLEET:-1}" = 1 ]; then
  t0=$(stamp)
  CUDA_VISIBLE_DEVICES=0 gate --qa-require-gpu --qa-report /tmp/runs/solo --benchmark-json /tmp/runs/solo-bench.json > /tmp/runs/solo.log 2>&1
  t1=$(stamp)
  python3 -m zimage_qa.cli gate --gpus all --report /tmp/runs/fleet -- --qa-model synthetic --qa-require-gpu -p no:cacheprovider -p zimage_qa.plugin > /tmp/runs/fleet.log 2>&1
  t2=$(stamp)
  python3 benchmarks/gpu/medians.py --walls "$t0,$t1,$t2" /tmp/runs/solo-bench.json /tmp/runs/fleet | tee "$OUT/fleet-medians.txt"
  tail -12 /tmp/runs/fleet.log
fi
cd /tmp/runs && find . -name '*.json' -o -name '*.log' | tar czf "$OUT/rerun-runs.tgz" -T -
