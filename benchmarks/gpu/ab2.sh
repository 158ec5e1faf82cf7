#!/usr/bin/env bash
# nvidia-h200, 2026-12-02 session 4, call 3, after the fix of a look that kept no new pair (alpha 0, which
# crashed ab1024 and abSame of call 2): the A/B runs again (+8 % real work at 1024, identical at both sizes,
# +10 % real work at 512), then separate 512x512 gate processes (built-in budgets, --qa-require-gpu) until
# 470 s have passed. Files: ab.txt, ten512.txt, ab-runs.tgz.
set -u
. benchmarks/gpu/common.sh
begin=$(stamp)
mkdir -p /tmp/empty /tmp/ab /tmp/ten && cd /tmp/empty || exit 1
RUNS_DIR=/tmp/ab RUNS_TXT="$OUT/ab.txt"
ZQA_SLOW_MS=13 ZQA_SLOW_KIND=matmul ZQA_SLOW_WHICH=candidate run ab1024 -p slowdown --qa-candidate synthetic \
  --qa-scenarios 1024-simple -k candidate_latency -rA
run abSame --qa-candidate synthetic --qa-scenarios 1024-simple,512-simple -k candidate_latency -rA
ZQA_SLOW_MS=5.6 ZQA_SLOW_KIND=matmul ZQA_SLOW_WHICH=candidate run ab512 -p slowdown --qa-candidate synthetic \
  --qa-scenarios 512-simple -k candidate_latency -rA
cat "$OUT/ab.txt"
i=0
while python3 -c "import sys; sys.exit(0 if $(stamp) - $begin < 470 else 1)"; do
  i=$((i + 1))
  run "ten$i" --qa-require-gpu --qa-scenarios 512-simple -k "512"
  tail -n +1 "$OUT/ab.txt" | grep -A3 "== ten$i:" >> "$OUT/ten512.txt"
done
cat "$OUT/ten512.txt"
cd /tmp/ab && tar czf "$OUT/ab-runs.tgz" ./*.json ./*.log
