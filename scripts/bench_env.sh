#!/usr/bin/env bash
# Make (or reuse) a Python virtual environment with what the benchmark scripts compare against.
# Usage: source <(scripts/bench_env.sh)   or   scripts/bench_env.sh && .venv/bin/python scripts/...
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q numpy pandas polars pyarrow
echo "ready: .venv/bin/python scripts/bench_vs_numpy.py"
