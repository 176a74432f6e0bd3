#!/usr/bin/env bash
# Make (or reuse) the Python virtual environment the benchmark compares against: numpy,
# pandas, polars and pyarrow in target/bench-venv (or $MMNPY_BENCH_VENV), plus the release
# binary and the sample_rows example (the in-memory take the script times). Prints the command that runs the benchmark.
#
#   scripts/bench_env.sh
#   target/bench-venv/bin/python scripts/bench_vs_numpy.py --size 4GiB --markdown table.md
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${MMNPY_BENCH_VENV:-target/bench-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q numpy pandas polars pyarrow
command -v /usr/bin/time >/dev/null || echo "warning: GNU time (/usr/bin/time) is needed for peak RSS" >&2
command -v gcc >/dev/null || echo "warning: gcc is needed to build the C yardstick" >&2
cargo build --release --bin mmnpy --example sample_rows
"$venv/bin/python" -c 'import numpy, pandas, polars, pyarrow; print("numpy", numpy.__version__, "pandas", pandas.__version__, "polars", polars.__version__, "pyarrow", pyarrow.__version__)'
echo "ready: $venv/bin/python scripts/bench_vs_numpy.py --help"
