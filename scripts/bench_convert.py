"""Side-by-side conversion benchmarks: mmnpy against numpy on the same file, in one run.

    cargo build --release
    /tmp/venv/bin/python scripts/bench_convert.py [--gib 4] [--dir /tmp] [--runs 3]

Section "npy casts": npy float64 -> float32 with `mmnpy convert --dtype float32` versus
`np.save(p2, np.load(p, mmap_mode='r').astype(np.float32))`, median of the runs, warm cache
(the input is read once first), plus the peak RSS of each from /usr/bin/time -v.
Files are created in --dir and deleted at the end; nothing is written to the repository.
mmnpy's output is durable (fsynced before its atomic rename); np.save's is not, so on a slow
disk the comparison is bounded by the disk: `--out-dir /dev/shm` shows the conversion itself.
Other conversion sections (CSV, Parquet) live in their own sections/scripts.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MMNPY = os.path.join(ROOT, "target", "release", "mmnpy")


def make_input(path, gib):
    n = int(gib * (1 << 30)) // 8 // 8
    a = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, 8))
    step = 1 << 22
    rng = np.random.default_rng(1)
    block = rng.normal(size=(step, 8)) * 1e3
    for i in range(0, n, step):
        m = min(step, n - i)
        a[i:i + m] = block[:m]
    a.flush()
    del a


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def timed(cmd):
    """Wall time and peak RSS (KiB) of a command, via /usr/bin/time -v."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", p.stderr).group(1))
              for k in ("User", "System"))
    return dt, rss, cpu


def npy_casts(args):
    src = os.path.join(args.dir, "bench_convert_f8.npy")
    out_dir = args.out_dir or args.dir
    out_m = os.path.join(out_dir, "bench_convert_mmnpy_f4.npy")
    out_n = os.path.join(out_dir, "bench_convert_numpy_f4.npy")
    print(f"== npy casts: {args.gib} GiB float64 -> float32, output in {out_dir} ==")
    make_input(src, args.gib)
    os.sync()  # or the input's writeback competes with the contenders' writes
    warm(src)
    size = os.path.getsize(src)
    numpy_cmd = [sys.executable, "-c",
                 "import numpy as np, sys; "
                 "np.save(sys.argv[2], np.load(sys.argv[1], mmap_mode='r').astype(np.float32))",
                 src, out_n]
    mmnpy_cmd = [MMNPY, "convert", src, "-o", out_m, "--dtype", "float32", "--force"]
    times = {"mmnpy": [], "numpy": []}
    rss = {"mmnpy": 0, "numpy": 0}
    cpu = {"mmnpy": [], "numpy": []}
    try:
        for _ in range(args.runs):
            for name, cmd in (("mmnpy", mmnpy_cmd), ("numpy", numpy_cmd)):
                dt, peak, used = timed(cmd)
                times[name].append(dt)
                cpu[name].append(used)
                rss[name] = max(rss[name], peak)
        with open(out_m, "rb") as f1, open(out_n, "rb") as f2:
            same = f1.read() == f2.read()
        for name in ("mmnpy", "numpy"):
            med = statistics.median(times[name])
            print(f"{name:6s} median {med:6.2f} s  {size / med / 1e9:5.2f} GB/s of input  "
                  f"CPU {statistics.median(cpu[name]):5.2f} s  peak RSS {rss[name] / 1024:7.0f} MiB  "
                  f"runs {['%.2f' % t for t in times[name]]}")
        ratio = statistics.median(times["numpy"]) / statistics.median(times["mmnpy"])
        print(f"ratio mmnpy/numpy throughput: {ratio:.2f}x (goal >= 2x); outputs identical: {same}")
    finally:
        for p in (src, out_m, out_n):
            if os.path.exists(p):
                os.remove(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=4.0)
    ap.add_argument("--dir", default="/tmp")
    ap.add_argument("--out-dir", default=None,
                    help="where outputs go (default --dir); /dev/shm takes the disk out: "
                         "mmnpy fsyncs its output before the rename, np.save does not")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(MMNPY):
        sys.exit("build first: cargo build --release")
    npy_casts(args)


if __name__ == "__main__":
    main()
