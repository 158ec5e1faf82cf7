#!/usr/bin/env bash
# nvidia-h200, 2026-12-02 call 1: the host's spells as the gate's own probe sees them (512x512 for 150 s,
# 1024x1024 for 40 s, back to back, benchmarks/gpu/spells.py), then the whole synthetic gate from an empty
# folder with the built-in budgets under --qa-require-gpu, timed. Files: spells.{json,log}, gate.log,
# gate-bench.json, gpus.txt.
set -u
. benchmarks/gpu/common.sh
python3 benchmarks/gpu/spells.py "$OUT/spells.json" --plan 512:150,1024:40 > "$OUT/spells.log" 2>&1
mkdir -p /tmp/empty && cd /tmp/empty || exit 1
start=$(stamp)
gate --qa-require-gpu --benchmark-json "$OUT/gate-bench.json" --qa-report /tmp/runs/gate > "$OUT/gate.log" 2>&1
echo "gate exit $? wall $(python3 -c "print(round($(stamp) - $start, 1))") s" >> "$OUT/gate.log"
tail -40 "$OUT/gate.log"
