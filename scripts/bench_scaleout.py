"""Throughput of `mmnpy convert X.npy -o X.zarr` against zarr-python writing the same array
with the same chunks and codecs (and npy-stack against dask.array.to_npy_stack). Prints
ratios only (machine-independent enough to quote); absolute times go to stderr.

    cargo build --release
    /tmp/venv/bin/python scripts/bench_scaleout.py [--rows 2000000 --cols 64]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dask.array as da
import numpy as np
import zarr

ROOT = Path(__file__).resolve().parent.parent
MMNPY = ROOT / "target" / "release" / "mmnpy"


def best_of(n, f):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--cols", type=int, default=32)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT / "target") as tmp:
        tmp = Path(tmp)
        src = tmp / "x.npy"
        a = np.random.default_rng(0).standard_normal((args.rows, args.cols))
        np.save(src, a)
        chunk_rows = max(1, (96 << 20) // (args.cols * 8))
        results = {}
        for compress in ["none", "zstd"]:
            out = tmp / f"m-{compress}.zarr"

            def mm():
                subprocess.run(
                    [MMNPY, "convert", src, "-o", out, "--compress", compress, "--force"],
                    check=True,
                )

            def zp():
                shutil.rmtree(tmp / "z.zarr", ignore_errors=True)
                m = np.load(src, mmap_mode="r")
                z = zarr.create_array(
                    str(tmp / "z.zarr"), shape=m.shape, dtype=m.dtype,
                    chunks=(chunk_rows, args.cols),
                    compressors=None if compress == "none" else zarr.codecs.ZstdCodec(level=3),
                )
                z[:] = m

            results[f"zarr {compress}"] = (best_of(args.repeat, mm), best_of(args.repeat, zp))
        stack = tmp / "stack"

        def mm_stack():
            subprocess.run(
                [MMNPY, "convert", src, "-o", stack, "--format", "npy-stack",
                 "--chunk-rows", str(chunk_rows), "--force"],
                check=True,
            )

        def dask_stack():
            shutil.rmtree(tmp / "dstack", ignore_errors=True)
            m = np.load(src, mmap_mode="r")
            da.to_npy_stack(str(tmp / "dstack"), da.from_array(m, chunks=(chunk_rows, -1)))

        results["npy-stack"] = (best_of(args.repeat, mm_stack), best_of(args.repeat, dask_stack))
        mb = a.nbytes / 1e6
        for name, (m, p) in results.items():
            print(f"{name:10}  mmnpy is {p / m:.2f}x the speed of the Python library")
            print(f"  {name}: mmnpy {mb / m:.0f} MB/s, python {mb / p:.0f} MB/s", file=sys.stderr)


if __name__ == "__main__":
    main()
