#!/usr/bin/env bash
# nvidia-h200, 2026-12-02 call 2: ten separate gate processes at 512x512 (latency and VRAM peak of
# 512-simple) with the built-in budgets under --qa-require-gpu, one after the other, then the whole synthetic
# gate from an empty folder, timed. Files: ten512.txt (one line per process), gate.log, gate-bench.json,
# ten512-benches.tgz (each process's benchmark JSON), gpus.txt.
set -u
. benchmarks/gpu/common.sh
mkdir -p /tmp/empty /tmp/ten && cd /tmp/empty || exit 1
began=$(stamp)
for i in $(seq 1 10); do
  # Leave the whole gate below room to run inside one 600 s command.
  if python3 -c "import sys; sys.exit(0 if $(stamp) - $began > ${GUARD_S:-440} else 1)"; then
    echo "stopped before run $i: the ${GUARD_S:-440} s guard" >> "$OUT/ten512.txt"; break
  fi
  start=$(stamp)
  gate --qa-require-gpu --qa-scenarios 512-simple -k "512" --benchmark-json "/tmp/ten/run$i.json" \
    --qa-report "/tmp/runs/ten$i" > "/tmp/ten/run$i.log" 2>&1
  code=$?
  wall=$(python3 -c "print(round($(stamp) - $start, 1))")
  python3 - "$i" "$code" "$wall" <<'PY' >> "$OUT/ten512.txt"
import json, statistics, sys
i, code, wall = sys.argv[1:]
line = f"run {i}: exit {code}, wall {wall} s"
try:
    bench = next(b for b in json.load(open(f"/tmp/ten/run{i}.json"))["benchmarks"] if "test_latency" in b["name"])
    info = bench["extra_info"]
    rounds, host = info["rounds_s"], info.get("host", {})
    line += (f"; {len(rounds)} rounds, median {statistics.median(rounds):.3f} s, worst {max(rounds):.3f} s, "
             f"set aside {len(host.get('slow_rounds', []))}, probe normal {host.get('normal_ms')} ms "
             f"({host.get('normal_source')}), probe max {max(p for p in host.get('probe_ms', [0]) if p):.1f} ms")
except Exception as exc:  # noqa: BLE001
    line += f"; no latency record ({exc})"
print(line)
PY
  grep -E "^(latency|vram):|not run:|unstable:|FAILED|failed|Failed" "/tmp/ten/run$i.log" | head -6 >> "$OUT/ten512.txt"
done
cat "$OUT/ten512.txt"
start=$(stamp)
gate --qa-require-gpu --benchmark-json "$OUT/gate-bench.json" --qa-report /tmp/runs/gate > "$OUT/gate.log" 2>&1
echo "gate exit $? wall $(python3 -c "print(round($(stamp) - $start, 1))") s" >> "$OUT/gate.log"
grep -E "^(guard|latency|vram):|session:|passed|failed|gate exit" "$OUT/gate.log"
cd /tmp/ten && tar czf "$OUT/ten512-benches.tgz" ./*.json ./*.log
