"""Side-by-side benchmark of mmnpy's format conversions against pandas, polars and pyarrow.

    cargo build --release --example formats
    /tmp/venv/bin/python scripts/bench_formats.py [--dir /tmp/mmnpy-bench] [--rows 4000000] [--runs 3]

Data lives outside the repository (default /tmp/mmnpy-bench). Every contender is run as its
own process, alternately, on a warm page cache; the median of --runs runs is reported, with
the peak RSS from /usr/bin/time -v, and the ratio of mmnpy's speed to the fastest peer.

Jobs (see ../shared/PERF.md for the yardsticks):
- CSV -> .npy: 8 float64 columns with a header (~600 MB at 4M rows); peers do read + np.save.
- Parquet (zstd) -> .npy: the same table; pyarrow read_table + np.stack + np.save.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "target", "release", "examples", "formats")
PY = sys.executable

PEERS_CSV = {
    "pandas": "import pandas as pd, numpy as np; np.save({out!r}, pd.read_csv({inp!r}, engine='c').to_numpy(dtype=np.float64))",
    "pandas-pyarrow": "import pandas as pd, numpy as np; np.save({out!r}, pd.read_csv({inp!r}, engine='pyarrow').to_numpy(dtype=np.float64))",
    "polars": "import polars as pl, numpy as np; np.save({out!r}, pl.read_csv({inp!r}).to_numpy())",
    "pyarrow": "import pyarrow.csv as pc, numpy as np; t = pc.read_csv({inp!r}); np.save({out!r}, np.stack([c.to_numpy() for c in t.columns], axis=1))",
}
PEERS_PARQUET = {
    "pyarrow": "import pyarrow.parquet as pq, numpy as np; t = pq.read_table({inp!r}); np.save({out!r}, np.stack([c.to_numpy() for c in t.columns], axis=1))",
}


def timed(cmd):
    """Run cmd under /usr/bin/time -v; return (seconds, peak RSS MiB)."""
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", r.stderr)
    h = float(wall.group(1) or 0)
    secs = h * 3600 + float(wall.group(2)) * 60 + float(wall.group(3))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    return secs, rss


def make_data(d, rows):
    csv = os.path.join(d, f"table_{rows}.csv")
    pq_path = os.path.join(d, f"table_{rows}.parquet")
    if not os.path.exists(csv) or not os.path.exists(pq_path):
        import numpy as np
        import pyarrow as pa
        import pyarrow.csv as pc
        import pyarrow.parquet as pq

        rng = np.random.default_rng(7)
        a = rng.standard_normal((rows, 8))
        t = pa.table({f"c{i}": a[:, i] for i in range(8)})
        if not os.path.exists(csv):
            # pyarrow writes floats with shortest round-trip digits, like pandas' to_csv.
            pc.write_csv(t, csv + ".tmp")
            os.rename(csv + ".tmp", csv)
        if not os.path.exists(pq_path):
            pq.write_table(t, pq_path + ".tmp", compression="zstd")
            os.rename(pq_path + ".tmp", pq_path)
    return csv, pq_path


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def bench(name, inp, jobs, runs):
    """jobs: {label: argv}; runs them alternately, prints medians and the ratio."""
    size = os.path.getsize(inp)
    times = {k: [] for k in jobs}
    rss = {k: 0.0 for k in jobs}
    for _ in range(runs):
        for label, cmd in jobs.items():
            warm(inp)
            s, m = timed(cmd)
            times[label].append(s)
            rss[label] = max(rss[label], m)
    print(f"\n{name}: {inp} ({size / 1e6:.0f} MB), median of {runs}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k in jobs:
        print(f"  {k:16s} {med[k]:7.3f} s  {size / med[k] / 1e6:7.0f} MB/s  peak RSS {rss[k]:7.0f} MiB")
    best_peer = min((v, k) for k, v in med.items() if k != "mmnpy")
    print(f"  ratio mmnpy vs fastest peer ({best_peer[1]}): {best_peer[0] / med['mmnpy']:.2f}x")
    return med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/mmnpy-bench")
    ap.add_argument("--rows", type=int, default=4_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=["csv", "parquet"], default=None)
    args = ap.parse_args()
    if not os.path.exists(EXAMPLE):
        raise SystemExit("build first: cargo build --release --example formats")
    os.makedirs(args.dir, exist_ok=True)
    csv, pq_path = make_data(args.dir, args.rows)
    out = os.path.join(args.dir, "out.npy")

    if args.only in (None, "csv"):
        jobs = {"mmnpy": [EXAMPLE, "csv-to-npy", csv, out]}
        for k, code in PEERS_CSV.items():
            jobs[k] = [PY, "-c", code.format(inp=csv, out=out + f".{k}.npy")]
        bench("CSV -> npy", csv, jobs, args.runs)
    if args.only in (None, "parquet"):
        jobs = {"mmnpy": [EXAMPLE, "parquet-to-npy", pq_path, out]}
        for k, code in PEERS_PARQUET.items():
            jobs[k] = [PY, "-c", code.format(inp=pq_path, out=out + f".{k}.npy")]
        bench("Parquet (zstd) -> npy", pq_path, jobs, args.runs)


if __name__ == "__main__":
    main()
