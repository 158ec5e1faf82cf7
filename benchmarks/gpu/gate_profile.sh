#!/usr/bin/env bash
# nvidia-h200: where the whole synthetic gate's wall time goes. The README's `pytest -m gpu --qa-require-gpu`
# with --durations=0 (per test: setup and call), then the same run under cProfile (its top functions by
# cumulative time; cProfile slows Python-heavy parts, so read it for shares, not seconds). Files: durations.log,
# profile.txt, gpus.txt.
set -u
. benchmarks/gpu/common.sh
mkdir -p /tmp/empty && cd /tmp/empty || exit 1
start=$(stamp)
gate --qa-require-gpu --durations=0 --qa-report /tmp/runs/dur > "$OUT/durations.log" 2>&1
echo "gate exit $? wall $(python3 -c "print(round($(stamp) - $start, 1))") s" >> "$OUT/durations.log"
python3 -m cProfile -o /tmp/gate.prof -m pytest --pyargs zimage_qa.gate -m gpu -p no:cacheprovider \
  -p zimage_qa.plugin --qa-model synthetic --qa-report /tmp/runs/prof > /tmp/prof.log 2>&1
python3 - <<'PY' > "$OUT/profile.txt"
import pstats
stats = pstats.Stats("/tmp/gate.prof")
stats.sort_stats("cumulative").print_stats(60)
PY
tail -3 /tmp/prof.log >> "$OUT/profile.txt"
