#!/usr/bin/env bash
# Issue 14 on nvidia-h200-x2. Each variant: --qa-update-budgets (this runner's budgets, fails by design),
# then the gate under --qa-require-gpu against them. GPU 0: compile (wrap, then in place), then the compiled
# variant's baseline and ~8 % slowdown against it. GPU 1: model CPU offload (fewer back-to-back images), then
# another attention backend.
set -uo pipefail
. benchmarks/gpu/common.sh
SUBSET=(--qa-scenarios 1024-simple --qa-golden-dir /tmp/runs/golden)
variant() {  # name, variant spec, extra args...
  local name=$1 spec=$2; shift 2
  local t0; t0=$(stamp)
  gate --qa-require-gpu --qa-variant "$spec" "${SUBSET[@]}" "$@" --qa-update-budgets > "/tmp/runs/$name-update.log" 2>&1
  local t1; t1=$(stamp)
  gate --qa-require-gpu --qa-variant "$spec" "${SUBSET[@]}" "$@" --qa-report "/tmp/runs/$name-report" \
    --benchmark-json "/tmp/runs/$name.json" > "/tmp/runs/$name.log" 2>&1
  echo "$name: update run $(python3 -c "print(round($t1-$t0,1))") s, gate $(python3 -c "print(round($(stamp)-$t1,1))") s" >> /tmp/runs/walls.txt
}
(
  export CUDA_VISIBLE_DEVICES=0
  variant compile-wrap "compile=wrap"
  variant compile-inplace "compile=inplace"
  ZQA_SLOW_MS="${SLOW_MS_COMPILED:-9}" gate -p slowdown --qa-variant compile=wrap "${SUBSET[@]}" -k "test_latency" \
    --qa-baseline /tmp/runs/compile-wrap.json > /tmp/runs/compile-slow.log 2>&1
) &
(
  export CUDA_VISIBLE_DEVICES=1
  variant offload-model "offload=model" --qa-config benchmarks/gpu/offload.toml --qa-card-memory 16GiB
  variant attention "attention=${ATTENTION:-_native_efficient}"
) &
wait
cat /tmp/runs/walls.txt | tee "$OUT/variant-walls.txt"
for f in compile-wrap compile-inplace compile-slow offload-model attention; do
  echo "== $f"; grep -E "^(latency|vram|guard|warnings|    ):?|passed|failed|Failed|Error|slower" "/tmp/runs/$f.log" | tail -14
done | tee "$OUT/variant-summary.txt"
python3 benchmarks/gpu/variant_table.py /tmp/runs | tee "$OUT/variant-table.txt"
cd /tmp/runs && find . -maxdepth 1 -name '*.json' -o -maxdepth 1 -name '*.log' -o -name 'budgets.toml' | tar czf "$OUT/variant-runs.tgz" -T -
