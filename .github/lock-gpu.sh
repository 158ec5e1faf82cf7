#!/usr/bin/env bash
# Writes .github/gpu-requirements.txt: every package the GPU gate installs, pinned and hashed, for the GPU
# runner's Python (ZQA_PYTHON's minor version, default 3.12) on Linux x86_64. The gate installs it with
# `pip install --require-hashes --no-deps`. Run from the repository root with uv on PATH:
#   .github/lock-gpu.sh [PYTHON_VERSION] [EXTRA REQUIREMENT...]
# e.g. `.github/lock-gpu.sh 3.12 torch==2.14.0` (an extra requirement overrides its pin in gpu-requirements.in).
set -euo pipefail
cd "$(dirname "$0")/.."
python_version="${1:-3.12}"
shift || true
overrides="$(mktemp)"
trap 'rm -f "$overrides"' EXIT
printf '%s\n' "$@" > "$overrides"
uv pip compile pyproject.toml .github/gpu-requirements.in \
  --extra onnxruntime --extra plot --extra modelscope \
  --override "$overrides" \
  --python-version "$python_version" --python-platform x86_64-manylinux_2_28 \
  --generate-hashes --no-header --quiet \
  --output-file .github/gpu-requirements.txt.new
{
  echo "# The GPU gate's whole environment, every package pinned and hashed, for Python $python_version on Linux x86_64."
  echo "# Written by .github/lock-gpu.sh from pyproject.toml and .github/gpu-requirements.in; moved only by a"
  echo "# reviewed pull request (Actions > gpu-constraints). Installed with pip install --require-hashes --no-deps."
  cat .github/gpu-requirements.txt.new
} > .github/gpu-requirements.txt
rm .github/gpu-requirements.txt.new
echo "locked $(grep -c '^[A-Za-z0-9]' .github/gpu-requirements.txt) packages into .github/gpu-requirements.txt"
