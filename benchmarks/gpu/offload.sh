#!/usr/bin/env bash
# Issue 14 on ONE GPU (nvidia-h200; carry .whl): model CPU offload after the residency fix. First this
# runner's budgets with --qa-update-budgets (test_latency and test_cold_start only, which write budgets; they
# fail by design) into a temporary copy of benchmarks/results/h200-runner-golden, then the gate judged against
# them with --qa-require-gpu --qa-card-memory 16GiB (guards left out, as in variants.sh). Prints each round's
# and back-to-back image's time with its offload transfers, the device peaks (scenario and session-wide),
# host RSS, the verdicts and the walls. About 380 s at 15-20 s per image (update: load, warm-up, 3 rounds and
# the roofline's FLOP count; judged: the same, 3 back-to-back and 2 leak images); each run is cut at
# UPDATE_S / JUDGED_S (SIGINT: pytest still writes its report) so that the whole stays under 480 s.
set -uo pipefail
T0=$(date +%s.%N)
. benchmarks/gpu/common.sh
export CUDA_VISIBLE_DEVICES=${GPU:-0}
GOLD=/tmp/runs/golden
rm -rf "$GOLD" && cp -r benchmarks/results/h200-runner-golden "$GOLD"
# common.sh's gate(), as a command that `timeout` can run
GATE=(python3 -m pytest --pyargs zimage_qa.gate -m gpu -p no:cacheprovider -p zimage_qa.plugin --qa-model synthetic)
OFF=(--qa-require-gpu --qa-variant offload=model --qa-config benchmarks/gpu/offload.toml --qa-golden-dir "$GOLD"
     --qa-scenarios 1024-simple)
t0=$(stamp)
timeout -s INT -k 15 "${UPDATE_S:-170}" "${GATE[@]}" "${OFF[@]}" -k "test_latency and not drift" --qa-update-budgets \
  --qa-report /tmp/runs/offload-update-report --benchmark-json /tmp/runs/offload-update.json > /tmp/runs/offload-update.log 2>&1
echo "update run exit $?" > /tmp/runs/walls.txt
t1=$(stamp)
timeout -s INT -k 15 "${JUDGED_S:-280}" "${GATE[@]}" "${OFF[@]}" --qa-card-memory 16GiB -k "not guard" \
  --qa-report /tmp/runs/offload-report --benchmark-json /tmp/runs/offload-model.json > /tmp/runs/offload-model.log 2>&1
echo "judged run exit $?" >> /tmp/runs/walls.txt
t2=$(stamp)
python3 -c "print(f'walls: update run {$t1-$t0:.1f} s, judged gate {$t2-$t1:.1f} s, script {$t2-$T0:.1f} s')" >> /tmp/runs/walls.txt
{
  echo "== update run (budgets for this runner; failing by design)"
  grep -E "^(latency|vram|warnings|session|FAILED|ERROR)|passed|failed|error" /tmp/runs/offload-update.log | tail -12
  find "$GOLD" -path '*offload*' -name budgets.toml -exec cat {} \;
  python3 benchmarks/gpu/offload_table.py /tmp/runs/offload-update-report/results.json /tmp/runs/offload-update.json
  echo "== judged gate"
  grep -E "^(latency|vram|warnings|session|FAILED|ERROR)|passed|failed|error" /tmp/runs/offload-model.log | tail -14
  python3 benchmarks/gpu/offload_table.py /tmp/runs/offload-report/results.json /tmp/runs/offload-model.json
  cat /tmp/runs/walls.txt
} 2>&1 | tee "$OUT/offload-summary.txt"
cd /tmp/runs && find . -name '*.json' -o -name '*.log' -o -name 'budgets.toml' | tar czf "$OUT/offload-runs.tgz" -T -
