#!/usr/bin/env bash
# Issues 14 and 11 on nvidia-h200-x4, one stream per GPU. Each variant: --qa-update-budgets (this runner's
# budgets; those checks fail by design), then the gate under --qa-require-gpu judged against them.
# GPU 0: compile (wrap), then its ~8 % slowdown against its own baseline. GPU 1: compile in place.
# GPU 2: model CPU offload (fewer back-to-back images, guards left out), small-card question at 16 GiB.
# GPU 3: another attention backend; then eager: a baseline run and ~8 % slowdown against it.
set -uo pipefail
. benchmarks/gpu/common.sh
SUBSET=(--qa-scenarios 1024-simple --qa-golden-dir /tmp/runs/golden)
variant() {  # name, variant spec, extra args...
  local name=$1 spec=$2; shift 2
  local t0 t1; t0=$(stamp)
  gate --qa-require-gpu --qa-variant "$spec" "${SUBSET[@]}" "$@" --qa-update-budgets > "/tmp/runs/$name-update.log" 2>&1
  t1=$(stamp)
  gate --qa-require-gpu --qa-variant "$spec" "${SUBSET[@]}" "$@" --qa-report "/tmp/runs/$name-report" \
    --benchmark-json "/tmp/runs/$name.json" > "/tmp/runs/$name.log" 2>&1
  echo "$name: update run $(python3 -c "print(round($t1-$t0,1))") s, judged gate $(python3 -c "print(round($(stamp)-$t1,1))") s" >> /tmp/runs/walls.txt
}
CFG=(--qa-config benchmarks/gpu/variants.toml)
(
  export CUDA_VISIBLE_DEVICES=0
  variant compile-wrap "compile=wrap" "${CFG[@]}"
  ZQA_SLOW_MS="${SLOW_MS_COMPILED:-9}" gate -p slowdown --qa-variant compile=wrap "${SUBSET[@]}" "${CFG[@]}" -k test_latency \
    --qa-baseline=/tmp/runs/compile-wrap.json --benchmark-json /tmp/runs/compile-slow.json > /tmp/runs/compile-slow.log 2>&1
) &
( export CUDA_VISIBLE_DEVICES=1; variant compile-inplace "compile=inplace" "${CFG[@]}" ) &
( export CUDA_VISIBLE_DEVICES=2; variant offload-model "offload=model" --qa-config benchmarks/gpu/offload.toml --qa-card-memory 16GiB -k "not guard" ) &
(
  export CUDA_VISIBLE_DEVICES=3
  variant attention "attention=${ATTENTION:-_native_efficient}" "${CFG[@]}"
  ONE=(--qa-scenarios 1024-simple -k "test_latency or cold_start")
  gate "${ONE[@]}" --benchmark-json /tmp/runs/eager-base.json > /tmp/runs/eager-base.log 2>&1
  ZQA_SLOW_MS="${SLOW_MS:-13}" gate -p slowdown "${ONE[@]}" --qa-baseline=/tmp/runs/eager-base.json \
    --benchmark-json /tmp/runs/eager-slow.json > /tmp/runs/eager-slow.log 2>&1
) &
wait
cat /tmp/runs/walls.txt | tee "$OUT/variant-walls.txt"
for f in compile-wrap compile-slow compile-inplace offload-model attention eager-base eager-slow; do
  echo "== $f"; grep -E "^(latency|vram|guard|warnings|    )|passed|failed|error|slower" "/tmp/runs/$f.log" | tail -16
done > "$OUT/variant-summary.txt"
python3 benchmarks/gpu/variant_table.py /tmp/runs | tee "$OUT/variant-table.txt"
cd /tmp/runs && find . -name '*.json' -o -name '*.log' -o -name 'budgets.toml' | tar czf "$OUT/variant-runs.tgz" -T -
