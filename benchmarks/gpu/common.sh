# Sourced by the GPU benchmark scripts: the carried wheels, the repository on the path, the card named.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH="/tmp/site:$PWD:$PWD/benchmarks/gpu" PYTHONUNBUFFERED=1 ZQA_LOCK_DIR=/tmp/zqa-locks
mkdir -p "$OUT" /tmp/zqa-locks /tmp/runs
nvidia-smi --query-gpu=index,name,driver_version,clocks.sm,clocks.max.sm,power.draw --format=csv > "$OUT/gpus.txt"
python3 -c "import torch, diffusers, transformers; print('torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__, 'cpus', __import__('os').cpu_count())" >> "$OUT/gpus.txt"
# -p zimage_qa.plugin: the package is on PYTHONPATH, not installed, so no pytest11 entry point loads the plugin early.
gate() { python3 -m pytest --pyargs zimage_qa.gate -m gpu -p no:cacheprovider -p zimage_qa.plugin --qa-model synthetic "$@"; }
stamp() { date +%s.%N; }
