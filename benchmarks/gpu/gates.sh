#!/usr/bin/env bash
# nvidia-h200, 2026-12-03: the whole synthetic gate after the drift check learnt to outlast a host spell.
# The README's command twice (`--qa-require-gpu`, no saved rounds: the first look after min_rounds), once
# with --benchmark-json (first look after `rounds`, as calls 4 and 7 ran it), then the drift check alone in
# separate processes until the GUARD_S guard. Files: runs.txt (per process: exit, wall, session line, and per
# check its outcome, rounds and host), runs.tgz (logs and results.json), gpus.txt.
set -u
. benchmarks/gpu/common.sh
mkdir -p /tmp/empty /tmp/gates && cd /tmp/empty || exit 1
began=$(stamp)
one() {  # one NAME GATE-ARGS...: a gate process, summarised into runs.txt
  local name=$1; shift
  local start; start=$(stamp)
  gate --qa-require-gpu --qa-report "/tmp/gates/$name" "$@" > "/tmp/gates/$name.log" 2>&1
  echo "== $name: exit $?, wall $(python3 -c "print(round($(stamp) - $start, 1))") s" >> "$OUT/runs.txt"
  grep -E "^session:|^(guard|latency|vram):|passed|failed" "/tmp/gates/$name.log" | tail -5 >> "$OUT/runs.txt"
  python3 - "/tmp/gates/$name/results.json" <<'PY' >> "$OUT/runs.txt"
import json, sys
try:
    for r in json.load(open(sys.argv[1]))["records"]:
        v = r["values"]
        extra = ""
        if "rounds" in v:
            extra = f"rounds {v['rounds']}, looks {v.get('looks')}, stopped {v.get('stopped')}, waited {v.get('host_wait_s')} s"
        if "times_s" in v:
            extra = f"images {len(v['times_s'])}, host slow {len(v.get('host_slow', []))}, waited {v.get('host_wait_s', 0)} s"
        line = f"  {r['outcome']}: {r['test_id'].split('::')[-1]}: {extra}"
        if r["outcome"] != "passed" or "times_s" in v:
            line += f" | {r['message'][:400]}"
        print(line)
except Exception as exc:  # noqa: BLE001
    print(f"  no results.json ({exc})")
PY
}
one plain1
one plain2
one saved --benchmark-json /tmp/gates/saved.json
i=0
while python3 -c "import sys; sys.exit(0 if $(stamp) - $began < ${GUARD_S:-520} else 1)"; do
  i=$((i + 1)); one "drift$i" -k drift
done
cat "$OUT/runs.txt"
cd /tmp/gates && tar czf "$OUT/runs.tgz" ./*.log ./*.json ./*/results.json
