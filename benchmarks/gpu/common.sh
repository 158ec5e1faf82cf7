# Sourced by the GPU benchmark scripts: the carried wheels, the repository on the path, the card named.
# The wheels are byte-compiled at install, as pip does for a user: the gate's first import of diffusers no longer
# compiles it inside the timed run (it did until 2026-12-03: a few seconds in every wall time before).
python3 -m pip install -q --no-index --no-deps --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH="/tmp/site:$PWD:$PWD/benchmarks/gpu" PYTHONUNBUFFERED=1 ZQA_LOCK_DIR=/tmp/zqa-locks
mkdir -p "$OUT" /tmp/zqa-locks /tmp/runs
nvidia-smi --query-gpu=index,name,driver_version,clocks.sm,clocks.max.sm,power.draw --format=csv > "$OUT/gpus.txt"
python3 -c "import torch, diffusers, transformers; print('torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__, 'cpus', __import__('os').cpu_count())" >> "$OUT/gpus.txt"
# -p zimage_qa.plugin: the package is on PYTHONPATH, not installed, so no pytest11 entry point loads the plugin early.
gate() { python3 -m pytest --pyargs zimage_qa.gate -m gpu -p no:cacheprovider -p zimage_qa.plugin --qa-model synthetic "$@"; }
stamp() { date +%s.%N; }
# run NAME GATE-ARGS...: one gate process, its benchmark JSON and log under $RUNS_DIR, what each check
# concluded appended to $RUNS_TXT (both set by the script).
run() {
  local name=$1; shift
  local start; start=$(stamp)
  gate "$@" --qa-report "/tmp/runs/$name" --benchmark-json "$RUNS_DIR/$name.json" > "$RUNS_DIR/$name.log" 2>&1
  echo "== $name: exit $?, wall $(python3 -c "print(round($(stamp) - $start, 1))") s" >> "$RUNS_TXT"
  grep -E "slowdown:" "$RUNS_DIR/$name.log" | head -2 >> "$RUNS_TXT"
  python3 - "/tmp/runs/$name/results.json" <<'PY' >> "$RUNS_TXT"
import json, sys
try:
    for r in json.load(open(sys.argv[1]))["records"]:
        print(f"  {r['outcome']}: {r['test_id'].split('::')[-1]}: {r['message'][:600]}")
except Exception as exc:  # noqa: BLE001
    print(f"  no results.json ({exc})")
PY
}
