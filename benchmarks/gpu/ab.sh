#!/usr/bin/env bash
# nvidia-h200, 2026-12-02 session 4, call 2: injected slowdowns of real work (bf16 4096^3 matrix products
# after every DiT call, ZQA_SLOW_KIND=matmul) judged by --qa-candidate (A/B in one process, interleaved
# pairs) and by --qa-baseline, on one host. A baseline run (1024-simple, 512-simple latency); A/B with the
# candidate +10 % at 512x512 (5.6 ms a call) and +8 % at 1024x1024 (13 ms a call); an identical A/B at both
# sizes (must never regress); the same code against the baseline at 512 (never regress) and +10 % real work
# at 512 against it. Files: ab.txt (what each run concluded), ab-runs.tgz (benchmark JSON and logs).
set -u
. benchmarks/gpu/common.sh
mkdir -p /tmp/empty /tmp/ab && cd /tmp/empty || exit 1
RUNS_DIR=/tmp/ab RUNS_TXT="$OUT/ab.txt"
BOTH=(--qa-scenarios 1024-simple,512-simple)
run base "${BOTH[@]}" -k "test_latency[" -rA
ZQA_SLOW_MS=5.6 ZQA_SLOW_KIND=matmul ZQA_SLOW_WHICH=candidate run ab512 -p slowdown --qa-candidate synthetic \
  --qa-scenarios 512-simple -k candidate_latency -rA
ZQA_SLOW_MS=13 ZQA_SLOW_KIND=matmul ZQA_SLOW_WHICH=candidate run ab1024 -p slowdown --qa-candidate synthetic \
  --qa-scenarios 1024-simple -k candidate_latency -rA
run abSame --qa-candidate synthetic "${BOTH[@]}" -k candidate_latency -rA
run same512 --qa-scenarios 512-simple -k "test_latency[" -rA --qa-baseline /tmp/ab/base.json
ZQA_SLOW_MS=5.6 ZQA_SLOW_KIND=matmul run work512 -p slowdown --qa-scenarios 512-simple -k "test_latency[" -rA \
  --qa-baseline /tmp/ab/base.json
cat "$OUT/ab.txt"
cd /tmp/ab && tar czf "$OUT/ab-runs.tgz" ./*.json ./*.log
