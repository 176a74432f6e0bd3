#!/usr/bin/env python3
"""Side-by-side benchmark: mmnpy against numpy (and the C yardstick) on the same files, in the
same run, alternating contenders, medians of N runs, ratios printed as a Markdown table.

    python3 scripts/bench_vs_numpy.py [--size-gib 4] [--runs 3] [--dir /tmp/mmnpy-bench]

Needs numpy (scripts/bench_env.sh makes a venv with it) and gcc for the yardstick. Big files
are made once in --dir and reused; delete the directory afterwards. Absolute times on shared
machines drift by +-30%: read the ratios.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MMNPY = os.path.join(ROOT, "target", "release", "mmnpy")
YARDSTICK_SRC = os.path.join(ROOT, "..", "shared", "perf", "ref_mmap_sum.c")


def sh(*args, **kw):
    return subprocess.run(list(map(str, args)), check=True, capture_output=True, text=True, **kw)


def warm(path):
    with open(path, "rb") as f:
        while f.read(64 << 20):
            pass


def make_f64(path, n):
    if os.path.exists(path):
        return
    a = np.lib.format.open_memmap(path + ".tmp", mode="w+", dtype=np.float64, shape=(n,))
    rng = np.random.default_rng(1)
    step = 1 << 24
    for i in range(0, n, step):
        a[i : i + step] = rng.standard_normal(min(step, n - i))
    a.flush()
    del a
    os.replace(path + ".tmp", path)


def make_f32_table(path, rows, cols=64):
    if os.path.exists(path):
        return
    a = np.lib.format.open_memmap(path + ".tmp", mode="w+", dtype=np.float32, shape=(rows, cols))
    rng = np.random.default_rng(2)
    step = 1 << 18
    for i in range(0, rows, step):
        m = min(step, rows - i)
        a[i : i + m] = rng.standard_normal((m, cols), dtype=np.float32)
    a.flush()
    del a
    os.replace(path + ".tmp", path)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def peak_rss_mib(cmd):
    """Peak RSS of a command in MiB, from /usr/bin/time -v (None if unavailable)."""
    if not os.path.exists("/usr/bin/time"):
        return None
    r = subprocess.run(["/usr/bin/time", "-v", *map(str, cmd)], capture_output=True, text=True)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    return int(m.group(1)) / 1024 if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-gib", type=float, default=4.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/mmnpy-bench")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()

    if not os.path.exists(MMNPY):
        sh("cargo", "build", "--release", cwd=ROOT)
    os.makedirs(args.dir, exist_ok=True)
    nbytes = int(args.size_gib * (1 << 30))
    f64 = os.path.join(args.dir, "f64.npy")
    tab = os.path.join(args.dir, "table_f32x64.npy")
    idx = os.path.join(args.dir, "idx.npy")
    make_f64(f64, nbytes // 8)
    rows = nbytes // (64 * 4)
    make_f32_table(tab, rows)
    np.save(idx, np.random.default_rng(3).integers(0, rows, 1_000_000, dtype=np.int64))

    ref = os.path.join(args.dir, "ref_mmap_sum")
    have_ref = False
    if shutil.which("gcc") and os.path.exists(YARDSTICK_SRC):
        sh("gcc", "-O3", "-march=native", "-ffast-math", "-fopenmp", YARDSTICK_SRC, "-o", ref)
        have_ref = True

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    out = os.path.join(args.dir, "out.npy")

    def mm(*a):
        return lambda: sh(MMNPY, "--threads", args.threads, "--progress", "never", *a)

    def mm_out(*a):
        def run():
            if os.path.exists(out):
                os.remove(out)
            return sh(MMNPY, "--threads", args.threads, "--progress", "never", *a, "-o", out)
        return run

    def np_stats():
        a = np.load(f64, mmap_mode="r")
        return (np.count_nonzero(~np.isnan(a)), np.nansum(a), np.nanmean(a), np.nanvar(a), np.nanstd(a),
                np.nanmin(a), np.nanmax(a), np.nanargmin(a), np.nanargmax(a))

    def np_colmean():
        return np.load(tab, mmap_mode="r").mean(axis=0)

    def np_take():
        a = np.load(tab, mmap_mode="r")
        return a[np.load(idx)]

    def np_stride():
        np.save(out, np.load(tab, mmap_mode="r")[::7])

    jobs = [
        # (name, input bytes, mmnpy fn, peer name, peer fn, rss cmd)
        ("stats, 1-D float64", os.path.getsize(f64), mm("stats", f64, "--json"), "numpy nan* figures", np_stats,
         [MMNPY, "--threads", args.threads, "stats", f64, "--json"]),
        ("stats --axis 0, (N,64) float32", os.path.getsize(tab), mm("stats", tab, "--axis", "0", "--json"),
         "numpy mean(axis=0)", np_colmean, [MMNPY, "--threads", args.threads, "stats", tab, "--axis", "0", "--json"]),
        ("take 1M random rows, (N,64) float32", 1_000_000 * 256, mm_out("take", tab, "--indices", idx),
         "numpy a[idx]", np_take, None),
        ("slice ::7, (N,64) float32", os.path.getsize(tab) // 7, mm_out("slice", tab, "::7"),
         "numpy save(a[::7])", np_stride, [MMNPY, "--threads", args.threads, "slice", tab, "::7", "-o", out, "--force"]),
    ]

    results = []
    for name, size, ours, peer_name, peer, rss_cmd in jobs:
        for p in (f64, tab):
            warm(p)
        t_ours, t_peer, t_ref = [], [], []
        for _ in range(args.runs):
            t_ours.append(timed(ours)[0])
            t_peer.append(timed(peer)[0])
            if have_ref and name.startswith("stats, 1-D"):
                r = subprocess.run([ref, f64], capture_output=True, text=True, env=env)
                m = re.search(r"([\d.]+) GB/s", r.stdout)
                if m:
                    t_ref.append(os.path.getsize(f64) / (float(m.group(1)) * 1e9))
        mo, mp = statistics.median(t_ours), statistics.median(t_peer)
        row = {
            "job": name,
            "mmnpy GB/s": size / mo / 1e9,
            "peer": peer_name,
            "peer GB/s": size / mp / 1e9,
            "mmnpy / peer": mp / mo,
        }
        if t_ref:
            row["mmnpy / C yardstick"] = statistics.median(t_ref) / mo
        if rss_cmd:
            row["peak RSS MiB"] = peak_rss_mib(rss_cmd)
        results.append(row)
        print(json.dumps(row), file=sys.stderr)

    print(f"\n{os.cpu_count()} cores, {args.threads} threads, {args.size_gib} GiB inputs, warm cache, median of {args.runs}\n")
    print("| job | mmnpy GB/s | peer | peer GB/s | ratio | vs C yardstick | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        yard = f"{r['mmnpy / C yardstick']:.2f}x" if "mmnpy / C yardstick" in r else ""
        rss = f"{r['peak RSS MiB']:.0f} MiB" if r.get("peak RSS MiB") else ""
        print(f"| {r['job']} | {r['mmnpy GB/s']:.2f} | {r['peer']} | {r['peer GB/s']:.2f} | "
              f"{r['mmnpy / peer']:.1f}x | {yard} | {rss} |")


if __name__ == "__main__":
    main()
