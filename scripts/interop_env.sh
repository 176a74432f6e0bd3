#!/usr/bin/env bash
# Make (or reuse) .venv-interop, the Python environment the interop suite runs in:
# numpy, zarr (v3), dask[array], pandas, pyarrow and pytest from PyPI, at the minimum versions
# in tests/interop/requirements.txt.
#
# Idempotent: when the venv exists and was built from the same requirements file (a stamp
# holds its checksum) and the packages import, it does nothing and exits in well under a second.
# Usage: scripts/interop_env.sh && MMNPY_REQUIRE_INTEROP=1 cargo test --test integration interop
# Override the interpreter with PYTHON=python3.12 scripts/interop_env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-interop
requirements=tests/interop/requirements.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
# find_spec, not import: the check must stay fast (importing dask and pyarrow takes seconds).
check='import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ["numpy", "zarr", "dask", "pandas", "pyarrow", "pytest"]))'

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
  echo "interop env ready: $venv/bin/python"
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -c "import numpy, zarr, dask.array, pandas, pyarrow.parquet, pytest"
echo "$want" > "$stamp"
"$venv/bin/python" - <<'PY'
import importlib.metadata as m
print("interop env ready:", ", ".join(
    f"{p} {m.version(p)}" for p in ["numpy", "zarr", "dask", "pandas", "pyarrow", "pytest"]))
PY
