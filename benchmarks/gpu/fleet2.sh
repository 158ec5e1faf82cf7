#!/usr/bin/env bash
# Issue 13 on nvidia-h200-x2, during the host CPU probe trial (the probe was in the gate then; since
# removed): (1) does the probe see the slow spells of a launch-bound round (study_contention.py --probe);
# (2) the synthetic gate on GPU 0, the sharded gate on both GPUs (zqa gate --gpus all, defaults), the gate
# on GPU 0 again (the solo noise floor).
set -uo pipefail
. benchmarks/gpu/common.sh
[ "${STUDY:-1}" = 1 ] && python3 benchmarks/gpu/study_contention.py --probe --rounds 10 --cycles 3 2>&1 | grep -v Warning | tee "$OUT/contention.txt"
t0=$(stamp)
CUDA_VISIBLE_DEVICES=0 gate --qa-require-gpu --qa-report /tmp/runs/solo --benchmark-json /tmp/runs/solo-bench.json > /tmp/runs/solo.log 2>&1
t1=$(stamp)
python3 -m zimage_qa.cli gate --gpus all --report /tmp/runs/fleet -- --qa-model synthetic --qa-require-gpu -p no:cacheprovider -p zimage_qa.plugin > /tmp/runs/fleet.log 2>&1
t2=$(stamp)
CUDA_VISIBLE_DEVICES=0 gate --qa-require-gpu --qa-report /tmp/runs/solo2 --benchmark-json /tmp/runs/solo2-bench.json > /tmp/runs/solo2.log 2>&1
t3=$(stamp)
python3 benchmarks/gpu/medians.py --walls "$t0,$t1,$t2" --again /tmp/runs/solo2-bench.json /tmp/runs/solo-bench.json /tmp/runs/fleet | tee "$OUT/fleet-medians.txt"
echo "wall solo again: $(python3 -c "print(round($t3-$t2,1))") s" | tee -a "$OUT/fleet-medians.txt"
grep -h "session:\|passed\|failed" /tmp/runs/solo.log /tmp/runs/solo2.log /tmp/runs/fleet/gpu*/pytest.log | tail -12
tail -5 /tmp/runs/fleet.log
cd /tmp/runs && find . -name '*.json' -o -name '*.log' | tar czf "$OUT/fleet2-runs.tgz" -T -
