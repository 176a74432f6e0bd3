#!/usr/bin/env python3
"""Side-by-side: `mmnpy take` / `mmnpy slice` against numpy on the same file, same run.

  /tmp/venv/bin/python scripts/bench_ops_vs_numpy.py BIG.npy IDX.npy [OUT_DIR [MMNPY_BINARY]]

BIG.npy is an (N, 64) float32 file (2-4 GiB), IDX.npy 1M random row indices. Each contender
runs in a fresh process (fresh mapping, warm page cache), alternately, 3 times; medians and
ratios are printed. numpy is timed inside its process around the operation only (the array
stays in memory: `a[idx]`, `a[::7].copy()`), and also with `np.save` of the result; mmnpy is
timed as the whole command (start-up, output file, fsync and rename included), which on a
slow disk is mostly the fsync: give OUT_DIR on a tmpfs (/dev/shm) to compare the work itself. Peak RSS of
each mmnpy run comes from /usr/bin/time -v.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

PY = sys.executable
NUMPY_JOB = r"""
import sys, time, numpy as np
big, idx, job, out = sys.argv[1:5]
a = np.load(big, mmap_mode='r')
i = np.load(idx) if job.startswith('take') else None
t = time.perf_counter()
r = a[i] if job.startswith('take') else a[::7].copy()
if job.endswith('save'):
    np.save(out, r)
print(time.perf_counter() - t)
"""


def numpy_run(big, idx, job, out):
    res = subprocess.run([PY, "-c", NUMPY_JOB, big, idx, job, out], check=True,
                         capture_output=True, text=True)
    return float(res.stdout.strip())


def mmnpy_run(binary, args):
    t = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-v", binary, "--quiet", *args, "--force"],
                         check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    rss = next(int(l.split()[-1]) for l in res.stderr.splitlines() if "Maximum resident" in l)
    faults = next(int(l.split()[-1]) for l in res.stderr.splitlines() if "Minor" in l)
    return elapsed, rss // 1024, faults


def main():
    big, idx = sys.argv[1], sys.argv[2]
    out_dir = sys.argv[3] if len(sys.argv) > 3 else os.path.dirname(os.path.abspath(big))
    binary = sys.argv[4] if len(sys.argv) > 4 else "target/release/mmnpy"
    subprocess.run(f"cat {big} > /dev/null", shell=True, check=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as d:
        out = os.path.join(d, "out.npy")
        results = {}
        for _ in range(3):
            for name, fn in [
                ("numpy a[idx]", lambda: numpy_run(big, idx, "take", out)),
                ("numpy save(a[idx])", lambda: numpy_run(big, idx, "take_save", out)),
                ("mmnpy take", lambda: mmnpy_run(binary, ["take", big, "--indices", idx, "-o", out])),
                ("mmnpy take unbounded", lambda: mmnpy_run(
                    binary, ["take", big, "--indices", idx, "-o", out, "--unbounded-memory"])),
                ("numpy a[::7].copy()", lambda: numpy_run(big, idx, "slice", out)),
                ("numpy save(a[::7])", lambda: numpy_run(big, idx, "slice_save", out)),
                ("mmnpy slice ::7", lambda: mmnpy_run(binary, ["slice", big, "::7", "-o", out])),
            ]:
                results.setdefault(name, []).append(fn())
    med = {}
    for name, runs in results.items():
        secs = [r if isinstance(r, float) else r[0] for r in runs]
        med[name] = statistics.median(secs)
        extra = ""
        if not isinstance(runs[0], float):
            extra = f"  peak RSS {max(r[1] for r in runs)} MiB, minor faults {runs[0][2]}"
        print(f"{name:22s} median {med[name]:.3f} s  runs {[round(s, 3) for s in secs]}{extra}")
    print(f"take: mmnpy is {med['numpy a[idx]'] / med['mmnpy take']:.2f}x numpy a[idx], "
          f"{med['numpy save(a[idx])'] / med['mmnpy take']:.2f}x numpy save(a[idx])")
    print(f"take --unbounded-memory: {med['numpy a[idx]'] / med['mmnpy take unbounded']:.2f}x numpy a[idx]")
    print(f"slice ::7: mmnpy is {med['numpy a[::7].copy()'] / med['mmnpy slice ::7']:.2f}x numpy copy, "
          f"{med['numpy save(a[::7])'] / med['mmnpy slice ::7']:.2f}x numpy save")


if __name__ == "__main__":
    main()
