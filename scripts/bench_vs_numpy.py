#!/usr/bin/env python3
"""Side-by-side benchmark of mmnpy against numpy, pandas, polars, pyarrow and a C yardstick.

    scripts/bench_env.sh                       # once: target/bench-venv with the peers
    cargo build --release --bin mmnpy --example sample_rows
    target/bench-venv/bin/python scripts/bench_vs_numpy.py --size 4GiB --runs 5 \\
        --markdown docs/benchmarks-table.md

Sections (`--sections a,b,...`, default all), each on the same generated file for every
contender, contenders alternating run by run (their order rotating), median of `--runs`:

  stats         `mmnpy stats F --json` on a 1-D float64 file of --size, against numpy computing
                the same nan-aware figures (count, sum, mean, var, std, min, max, argmin,
                argmax) and the C yardstick ../shared/perf/ref_mmap_sum.c (one OpenMP sum
                over a fresh mapping: the practical ceiling of any one-pass reduction),
                the yardstick in a race of its own before numpy's
  hist          `mmnpy hist F --bins 100 --range -3,3` on the stats file, against numpy's
                `np.histogram(a, bins=100, range=(-3, 3))` on the memmap (the same counts)
  axis          `mmnpy stats T --axis 0` on an (N, 64) float32 table of --size, against
                numpy's `mean(axis=0)` on the memmap
  half          float16 inputs of a quarter of --size: `stats` (against numpy's nan* figures
                with float64 sums), `hist --bins 100` over the data's range (against
                `np.histogram`) and `stats --axis 0` of an (N, 64) table (against `mean(axis=0)`)
  take          1M random rows of the table: the library's in-memory `mmnpy::ops::take` (run by
                `examples/sample_rows.rs`, timed in-process from opening the table like the
                Python peers) against numpy's fancy indexing `a[idx]` on the memmap; and
                `mmnpy take T --indices I -o OUT` (whole process, file written) against
                `a[idx]` alone and against `np.save(out, a[idx])`
  slice         `mmnpy slice T ::7`, against `np.save(out, a[::7])` (no goal: a reference)
  convert-cast  `mmnpy convert F --dtype float32`, against
                `np.save(out, np.load(F, mmap_mode='r').astype(np.float32))`
  csv           `mmnpy convert X.csv -o X.npy` (--csv-rows rows of 8 float64 columns with a
                header, ~600 MB at 4M rows), against pandas (C and pyarrow engines), polars
                and pyarrow, each reading and then `np.save`-ing the table
  parquet       `mmnpy convert X.parquet -o X.npy` (the same table, zstd), against pyarrow
                `read_table` + `np.stack` + `np.save`

How things are timed (conservative for mmnpy): mmnpy is timed as a whole process (start-up,
output file, fsync and atomic rename included); the Python peers are timed inside their own
fresh process around the work only (interpreter start-up and imports excluded); the yardstick
reports its own time for mmap + sum. Every process runs under /usr/bin/time -v for its peak
RSS. Outputs go to --out-dir (default /dev/shm, so mmnpy's fsync is not a disk benchmark) and
are deleted after each run; the first run of a section checks that mmnpy's output equals the
peer's. Inputs are made once in --dir (default target/bench), read once to warm the page cache
before each section, and deleted at the end unless --keep.

On shared machines absolute figures drift by +-30% between minutes: read the ratios, and
re-run a section (`--sections take`) when the load average printed with it is high.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MMNPY = os.path.join(ROOT, "target", "release", "mmnpy")
SAMPLE_ROWS = os.path.join(ROOT, "target", "release", "examples", "sample_rows")
YARDSTICK_SRC = os.path.join(ROOT, "..", "shared", "perf", "ref_mmap_sum.c")
if not os.path.exists(YARDSTICK_SRC):
    YARDSTICK_SRC = "/work/shared/perf/ref_mmap_sum.c"
YARDSTICK = os.path.join(ROOT, "target", "ref_mmap_sum")
PY = sys.executable
SECTIONS = ["stats", "hist", "axis", "half", "take", "slice", "convert-cast", "csv", "parquet"]
TAKE_ROWS = 1_000_000


# ---------------------------------------------------------------------------------------------
# Running and timing


class Run:
    """One finished process: wall seconds (its own report if it gave one) and peak RSS MiB."""

    def __init__(self, seconds, rss_mib, cpu, stdout):
        self.seconds = seconds
        self.rss_mib = rss_mib
        self.cpu = cpu
        self.stdout = stdout


def run(cmd, env=None):
    """Run `cmd` under /usr/bin/time -v. A Python peer prints `{"seconds": ...}` as its last
    stdout line, and that replaces the wall time of the whole process."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *map(str, cmd)], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stdout}\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", p.stderr).group(1)) for k in ("User", "System"))
    lines = p.stdout.strip().splitlines()
    if lines and lines[-1].startswith('{"seconds"'):
        wall = json.loads(lines[-1])["seconds"]
    return Run(wall, rss, cpu, p.stdout)


def python_job(body, *argv):
    """A peer as a fresh Python process that times `body` (which sees `argv`) by itself."""
    code = (
        "import sys, time, json\n"
        "argv = sys.argv[1:]\n"
        + "\n".join(l for l in body.splitlines() if l.startswith("import "))
        + "\nt0 = time.perf_counter()\n"
        + "\n".join(l for l in body.splitlines() if not l.startswith("import "))
        + '\nprint(json.dumps({"seconds": time.perf_counter() - t0}))\n'
    )
    return [PY, "-c", code, *argv]


def mmnpy(threads, *args):
    cmd = [MMNPY, "--progress", "never"]
    if threads:
        cmd += ["--threads", threads]
    return cmd + list(args)


def remove(*paths):
    for p in paths:
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)


# Drop each input's cached pages before warming it (--no-fresh-cache keeps them). The page
# cache's state decides the cost of mapping a file: read afresh in order, Linux caches it in
# large folios and a fault maps a whole folio (a pass over 4 GiB spends ~0.02 s in the kernel);
# pages cached piecemeal (random reads, memory pressure) stay in 4 KiB folios and the same pass
# spends 0.2-0.7 s in page faults, for every contender alike. Dropping and re-reading puts every
# run in the same, reproducible state: that of a file just written or copied.
FRESH_CACHE = True


def warm(*paths):
    for path in paths:
        with open(path, "rb") as f:
            if FRESH_CACHE and hasattr(os, "posix_fadvise"):
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            while f.read(64 << 20):
                pass


def load():
    return "%.1f" % os.getloadavg()[0]


class Contender:
    """A named command of a section; `outputs` are deleted after each run."""

    def __init__(self, name, cmd, outputs=(), env=None, seconds=None):
        self.name, self.cmd, self.outputs, self.env = name, cmd, list(outputs), env
        self.seconds = seconds  # reads the time from the output, for the yardstick
        self.runs = []

    def median(self):
        return statistics.median(r.seconds for r in self.runs)

    def cpu(self):
        return statistics.median(r.cpu for r in self.runs)

    def peak_rss(self):
        return max(r.rss_mib for r in self.runs)


def race(contenders, runs, check=None):
    """Run the contenders alternately (rotating who goes first) `runs` times. After the
    first round, `check()` compares the outputs; then every output is deleted."""
    for k in range(runs):
        order = contenders[k % len(contenders):] + contenders[: k % len(contenders)]
        for c in order:
            remove(*c.outputs)
            r = run(c.cmd, c.env)
            if c.seconds:
                r.seconds = c.seconds(r.stdout)
            c.runs.append(r)
        if k == 0 and check:
            check()
        for c in contenders:
            remove(*c.outputs)
    for c in contenders:
        secs = " ".join("%.3f" % r.seconds for r in c.runs)
        print(f"    {c.name:22s} median {c.median():8.3f} s   CPU {c.cpu():7.2f} s   peak RSS {c.peak_rss():7.0f} MiB"
              f"   runs {secs}")


# ---------------------------------------------------------------------------------------------
# Data


def parse_size(text):
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?i?B?)\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 4GiB, 512MiB)")
    unit = m.group(2).upper().rstrip("B").rstrip("I")
    return int(float(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[unit])


def make_npy(path, dtype, shape, seed):
    """Standard normal values, written in slabs (bounded memory), renamed into place."""
    import numpy as np

    if os.path.exists(path):
        return
    tmp = path + ".tmp.npy"
    a = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
    rng = np.random.default_rng(seed)
    row_elems = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    step = max(1, (1 << 24) // row_elems)
    for i in range(0, shape[0], step):
        m = min(step, shape[0] - i)
        a[i : i + m] = rng.standard_normal((m, *shape[1:]), dtype=np.float64 if dtype == np.float64 else np.float32)
    a.flush()
    del a
    os.replace(tmp, path)


def make_table(d, rows):
    """The CSV (header, 8 float64 columns, shortest round-trip digits) and the zstd Parquet of
    the same table."""
    csv = os.path.join(d, f"table_{rows}.csv")
    parquet = os.path.join(d, f"table_{rows}.parquet")
    if os.path.exists(csv) and os.path.exists(parquet):
        return csv, parquet
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pc
    import pyarrow.parquet as pq

    a = np.random.default_rng(7).standard_normal((rows, 8))
    t = pa.table({f"c{i}": a[:, i] for i in range(8)})
    pc.write_csv(t, csv + ".tmp")
    os.replace(csv + ".tmp", csv)
    pq.write_table(t, parquet + ".tmp", compression="zstd")
    os.replace(parquet + ".tmp", parquet)
    return csv, parquet


# ---------------------------------------------------------------------------------------------
# Sections: each returns rows for the table


def row(section, job, nbytes, mine, peers, goal=None, extra=None):
    best = min(peers, key=lambda c: c.median())
    ratio = best.median() / mine.median()
    r = {
        "section": section,
        "job": job,
        "mmnpy_gbs": nbytes / mine.median() / 1e9,
        "peer": best.name,
        "peer_gbs": nbytes / best.median() / 1e9,
        "ratio": ratio,
        "goal": goal,
        "met": None if goal is None else ratio >= goal,
        "mmnpy_rss": mine.peak_rss(),
        "mmnpy_cpu": mine.cpu(),
        "peer_cpu": best.cpu(),
        "peer_rss": best.peak_rss(),
        "load": load(),
    }
    if extra:
        r.update(extra)
    return r


def section_stats(ctx):
    f64 = ctx.f64()
    size = os.path.getsize(f64)
    warm(f64)
    yard = []
    if ctx.yardstick:
        env = dict(os.environ, OMP_NUM_THREADS=str(ctx.threads or os.cpu_count()))
        gbs = lambda out: size / float(re.search(r"([\d.]+) GB/s", out).group(1)) / 1e9
        yard = [Contender("C yardstick", [ctx.yardstick, f64], env=env, seconds=gbs)]
    numpy_stats = python_job(
        "import numpy as np\n"
        "a = np.load(argv[0], mmap_mode='r')\n"
        "nan = int(np.count_nonzero(np.isnan(a)))\n"
        "v = np.nanvar(a)\n"
        "r = dict(count=a.size - nan, nan_count=nan, sum=np.nansum(a), mean=np.nanmean(a), var=v,\n"
        "         std=np.sqrt(v), min=np.nanmin(a), max=np.nanmax(a), argmin=np.nanargmin(a),\n"
        "         argmax=np.nanargmax(a))\n"
        "print(json.dumps({k: float(x) for k, x in r.items()}))",
        f64,
    )
    mine = Contender("mmnpy", mmnpy(ctx.threads, "stats", f64, "--json"))
    peer = Contender("numpy nan*", numpy_stats)
    job = f"stats, {fmt_size(size)} float64"
    yard_rows = []
    if yard:
        # The yardstick races mmnpy alone: numpy's nan* functions allocate ~9 GiB of
        # temporaries, and run between the two they leave the machine (free memory, the file's
        # page cache) different for whichever runs next.
        fast = Contender("mmnpy", mine.cmd)
        race([fast] + yard, ctx.runs)
        yard_rows.append(row("stats", job, size, fast, yard, 0.8))
        warm(f64)

    def check():
        ours = json.loads(mine.runs[0].stdout)
        theirs = json.loads(peer.runs[0].stdout.strip().splitlines()[0])
        for k in ("count", "nan_count", "min", "max", "argmin", "argmax"):
            assert float(ours[k]) == theirs[k], (k, ours[k], theirs[k])
        for k in ("sum", "mean", "var", "std"):
            assert abs(float(ours[k]) - theirs[k]) <= 1e-9 * max(1.0, abs(theirs[k])), (k, ours[k], theirs[k])

    race([mine, peer], ctx.runs, check)
    return [row("stats", job, size, mine, [peer], 20)] + yard_rows


def section_hist(ctx):
    f64 = ctx.f64()
    warm(f64)
    mine = Contender("mmnpy", mmnpy(ctx.threads, "hist", f64, "--bins", "100", "--range", "-3,3", "--json"))
    peer = Contender(
        "numpy histogram",
        python_job(
            "import numpy as np\n"
            "c, e = np.histogram(np.load(argv[0], mmap_mode='r'), bins=100, range=(-3.0, 3.0))\n"
            "print(json.dumps(c.tolist()))",
            f64,
        ),
    )

    def check():
        ours = json.loads(mine.runs[0].stdout)["counts"]
        theirs = json.loads(peer.runs[0].stdout.strip().splitlines()[0])
        assert ours == theirs, "histogram counts differ"

    race([mine, peer], ctx.runs, check)
    size = os.path.getsize(f64)
    return [row("hist", f"hist, 100 bins in [-3, 3], {fmt_size(size)} float64", size, mine, [peer])]


def axis_race(ctx, tab, atol):
    """`mmnpy stats --axis 0` against numpy's `mean(axis=0)` on the table `tab`, means within
    `atol` (numpy's float32 axis-0 mean accumulates row by row in float32, and its float16
    mean is rounded to float16: compared loosely)."""
    mine = Contender("mmnpy", mmnpy(ctx.threads, "stats", tab, "--axis", "0", "--json"))
    peer = Contender(
        "numpy mean(axis=0)",
        python_job(
            "import numpy as np\n"
            "m = np.load(argv[0], mmap_mode='r').mean(axis=0)\n"
            "print(json.dumps(m.astype(float).tolist()))",
            tab,
        ),
    )

    def check():
        import numpy as np

        ours = np.array(json.loads(mine.runs[0].stdout)["mean"])
        theirs = np.array(json.loads(peer.runs[0].stdout.strip().splitlines()[0]))
        assert np.allclose(ours, theirs, rtol=0, atol=atol), np.abs(ours - theirs).max()

    race([mine, peer], ctx.runs, check)
    return mine, peer


def section_axis(ctx):
    tab = ctx.table()
    warm(tab)
    mine, peer = axis_race(ctx, tab, 1e-3)
    size = os.path.getsize(tab)
    return [row("axis", f"stats --axis 0, {fmt_size(size)} (N, 64) float32", size, mine, [peer], 1.5)]


def section_half(ctx):
    """float16 at a quarter of --size (numpy's float16 loops are slow): stats, hist, axis 0."""
    vec, tab = ctx.half()
    warm(vec, tab)
    rows = []
    stats_peer = Contender(
        "numpy nan* (in float64)",
        python_job(
            # In float64 throughout: np.nanvar(a, dtype=np.float64) of float16 data still
            # rounds the deviations from the mean to float16 (its relative error was 1e-5).
            "import numpy as np\n"
            "a = np.load(argv[0], mmap_mode='r').astype(np.float64)\n"
            "v = np.nanvar(a)\n"
            "r = dict(sum=np.nansum(a), mean=np.nanmean(a), var=v,\n"
            "         min=np.nanmin(a), max=np.nanmax(a), argmin=np.nanargmin(a), argmax=np.nanargmax(a))\n"
            "print(json.dumps({k: float(x) for k, x in r.items()}))",
            vec,
        ),
    )
    stats_mine = Contender("mmnpy", mmnpy(ctx.threads, "stats", vec, "--json"))

    def check_stats():
        ours = json.loads(stats_mine.runs[0].stdout)
        theirs = json.loads(stats_peer.runs[0].stdout.strip().splitlines()[0])
        for k in ("min", "max", "argmin", "argmax"):
            assert float(ours[k]) == theirs[k], (k, ours[k], theirs[k])
        for k in ("sum", "mean", "var"):
            assert abs(float(ours[k]) - theirs[k]) <= 1e-9 * max(1.0, abs(theirs[k])), (k, ours[k], theirs[k])

    race([stats_mine, stats_peer], ctx.runs, check_stats)
    size = os.path.getsize(vec)
    rows.append(row("half", f"stats, {fmt_size(size)} float16", size, stats_mine, [stats_peer]))

    hist_mine = Contender("mmnpy", mmnpy(ctx.threads, "hist", vec, "--bins", "100", "--json"))
    hist_peer = Contender(
        "numpy histogram",
        python_job(
            "import numpy as np\n"
            "c, e = np.histogram(np.load(argv[0], mmap_mode='r'), bins=100)\n"
            "print(json.dumps(c.tolist()))",
            vec,
        ),
    )

    def check_hist():
        ours = json.loads(hist_mine.runs[0].stdout)["counts"]
        assert ours == json.loads(hist_peer.runs[0].stdout.strip().splitlines()[0]), "counts differ"

    race([hist_mine, hist_peer], ctx.runs, check_hist)
    rows.append(row("half", f"hist, 100 bins, range of the data, {fmt_size(size)} float16", size,
                    hist_mine, [hist_peer]))

    axis_mine, axis_peer = axis_race(ctx, tab, 2e-3)
    size = os.path.getsize(tab)
    rows.append(row("half", f"stats --axis 0, {fmt_size(size)} (N, 64) float16", size, axis_mine, [axis_peer]))
    return rows


def section_take(ctx):
    import numpy as np

    tab, idx = ctx.table(), ctx.indices()
    warm(tab)
    out_m = os.path.join(ctx.out_dir, "take_mmnpy.npy")
    out_n = os.path.join(ctx.out_dir, "take_numpy.npy")
    mine = Contender("mmnpy take", mmnpy(ctx.threads, "take", tab, "--indices", idx, "-o", out_m), [out_m])
    take_job = (
        "import numpy as np\n"
        "a = np.load(argv[0], mmap_mode='r'); i = np.load(argv[1])\n"
        "r = a[i]\n"
        "if argv[2] != '-':\n    np.save(argv[2], r)"
    )
    peer = Contender("numpy a[idx]", python_job(take_job, tab, idx, "-"))
    saving = Contender("np.save(a[idx])", python_job(take_job, tab, idx, out_n), [out_n])
    contenders = [mine, peer, saving]
    library = None
    if os.path.exists(SAMPLE_ROWS):
        env = dict(os.environ, RAYON_NUM_THREADS=str(ctx.threads)) if ctx.threads else None
        library = Contender("mmnpy::ops::take", [SAMPLE_ROWS, "--table", tab, "--indices", idx], env=env)
        contenders.insert(0, library)
    else:
        print("    (no target/release/examples/sample_rows: cargo build --release --example sample_rows)")

    def check():
        r = np.load(tab, mmap_mode="r")[np.load(idx)]
        assert np.array_equal(np.load(out_m), r)

    race(contenders, ctx.runs, check)
    nbytes = TAKE_ROWS * 64 * 4
    what = f"1M random rows of a {fmt_size(os.path.getsize(tab))} (N, 64) float32"
    rows = []
    if library:
        rows.append(row("take", f"take {what} into memory (library)", nbytes, library, [peer], 3))
    rows.append(row("take", f"take {what} to a file (CLI)", nbytes, mine, [peer]))
    rows.append(row("take", f"take {what} to a file (CLI)", nbytes, mine, [saving]))
    return rows


def section_slice(ctx):
    tab = ctx.table()
    warm(tab)
    out_m = os.path.join(ctx.out_dir, "slice_mmnpy.npy")
    out_n = os.path.join(ctx.out_dir, "slice_numpy.npy")
    mine = Contender("mmnpy", mmnpy(ctx.threads, "slice", tab, "::7", "-o", out_m), [out_m])
    peer = Contender(
        "numpy save(a[::7])",
        python_job("import numpy as np\nnp.save(argv[1], np.load(argv[0], mmap_mode='r')[::7])", tab, out_n),
        [out_n],
    )
    race([mine, peer], ctx.runs, lambda: same_npy(out_m, out_n))
    size = os.path.getsize(tab)
    return [row("slice", f"slice ::7 of a {fmt_size(size)} (N, 64) float32 to a file", size // 7, mine, [peer])]


def section_cast(ctx):
    f64 = ctx.f64()
    warm(f64)
    out_m = os.path.join(ctx.out_dir, "cast_mmnpy.npy")
    out_n = os.path.join(ctx.out_dir, "cast_numpy.npy")
    mine = Contender("mmnpy", mmnpy(ctx.threads, "convert", f64, "-o", out_m, "--dtype", "float32"), [out_m])
    peer = Contender(
        "numpy save(astype)",
        python_job(
            "import numpy as np\nnp.save(argv[1], np.load(argv[0], mmap_mode='r').astype(np.float32))", f64, out_n
        ),
        [out_n],
    )
    race([mine, peer], ctx.runs, lambda: same_npy(out_m, out_n))
    size = os.path.getsize(f64)
    return [row("convert-cast", f"npy float64 -> float32, {fmt_size(size)}", size, mine, [peer], 2)]


CSV_PEERS = {
    "pandas": "import pandas as pd\nimport numpy as np\n"
    "np.save(argv[1], pd.read_csv(argv[0], engine='c').to_numpy(dtype=np.float64))",
    "pandas[pyarrow]": "import pandas as pd\nimport numpy as np\n"
    "np.save(argv[1], pd.read_csv(argv[0], engine='pyarrow').to_numpy(dtype=np.float64))",
    "polars": "import polars as pl\nimport numpy as np\nnp.save(argv[1], pl.read_csv(argv[0]).to_numpy())",
    "pyarrow": "import pyarrow.csv as pc\nimport numpy as np\n"
    "t = pc.read_csv(argv[0])\nnp.save(argv[1], np.stack([c.to_numpy() for c in t.columns], axis=1))",
}


def section_csv(ctx):
    csv, _ = ctx.tables()
    warm(csv)
    out_m = os.path.join(ctx.out_dir, "csv_mmnpy.npy")
    mine = Contender("mmnpy", mmnpy(ctx.threads, "convert", csv, "-o", out_m), [out_m])
    peers = []
    for name, body in CSV_PEERS.items():
        out = os.path.join(ctx.out_dir, f"csv_{name}.npy")
        peers.append(Contender(name, python_job(body, csv, out), [out]))
    # pandas' C parser rounds some decimal strings differently; pyarrow and polars are exact.
    race([mine] + peers, ctx.runs, lambda: same_npy(out_m, peers[-1].outputs[0]))
    size = os.path.getsize(csv)
    return [row("csv", f"CSV -> npy, {fmt_size(size)}, 8 float64 columns + header", size, mine, peers, 1.5)]


def section_parquet(ctx):
    _, parquet = ctx.tables()
    warm(parquet)
    out_m = os.path.join(ctx.out_dir, "parquet_mmnpy.npy")
    out_n = os.path.join(ctx.out_dir, "parquet_pyarrow.npy")
    mine = Contender("mmnpy", mmnpy(ctx.threads, "convert", parquet, "-o", out_m), [out_m])
    peer = Contender(
        "pyarrow",
        python_job(
            "import pyarrow.parquet as pq\nimport numpy as np\n"
            "t = pq.read_table(argv[0])\nnp.save(argv[1], np.stack([c.to_numpy() for c in t.columns], axis=1))",
            parquet, out_n,
        ),
        [out_n],
    )
    race([mine, peer], ctx.runs, lambda: same_npy(out_m, out_n))
    # Throughput of the output (the decompressed table), like ../shared/PERF.md quotes it.
    nbytes = ctx.csv_rows * 8 * 8
    return [row("parquet", f"Parquet (zstd) -> npy, {fmt_size(nbytes)} of output", nbytes, mine, [peer], 1)]


def same_npy(a, b):
    import numpy as np

    x, y = np.load(a, mmap_mode="r"), np.load(b, mmap_mode="r")
    assert x.dtype == y.dtype and x.shape == y.shape, (x.dtype, x.shape, y.dtype, y.shape)
    step = 1 << 24
    flat_x, flat_y = x.reshape(-1), y.reshape(-1)
    for i in range(0, flat_x.size, step):
        assert np.array_equal(flat_x[i : i + step], flat_y[i : i + step], equal_nan=True), f"{a} != {b}"


RUNNERS = {
    "stats": section_stats,
    "axis": section_axis,
    "hist": section_hist,
    "half": section_half,
    "take": section_take,
    "slice": section_slice,
    "convert-cast": section_cast,
    "csv": section_csv,
    "parquet": section_parquet,
}


# ---------------------------------------------------------------------------------------------
# Context: lazily made inputs


class Context:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.out_dir = args.out_dir
        self.runs = args.runs
        self.threads = args.threads
        self.size = args.size
        self.csv_rows = args.csv_rows
        self.yardstick = None
        self.made = []

    def _made(self, *paths):
        for p in paths:
            if p not in self.made:
                self.made.append(p)

    def f64(self):
        import numpy as np

        p = os.path.join(self.dir, f"f64_{self.size}.npy")
        make_npy(p, np.float64, (self.size // 8,), 1)
        self._made(p)
        return p

    def table(self):
        import numpy as np

        p = os.path.join(self.dir, f"f32x64_{self.size}.npy")
        make_npy(p, np.float32, (self.size // 256, 64), 2)
        self._made(p)
        return p

    def half(self):
        """A 1-D float16 file and an (N, 64) float16 table, each a quarter of --size."""
        import numpy as np

        size = self.size // 4
        vec = os.path.join(self.dir, f"f16_{size}.npy")
        make_npy(vec, np.float16, (size // 2,), 4)
        tab = os.path.join(self.dir, f"f16x64_{size}.npy")
        make_npy(tab, np.float16, (size // 128, 64), 5)
        self._made(vec, tab)
        return vec, tab

    def indices(self):
        import numpy as np

        rows = self.size // 256
        p = os.path.join(self.dir, f"idx_{rows}.npy")
        if not os.path.exists(p):
            np.save(p, np.random.default_rng(3).integers(0, rows, TAKE_ROWS, dtype=np.int64))
        self._made(p)
        return p

    def tables(self):
        csv, parquet = make_table(self.dir, self.csv_rows)
        self._made(csv, parquet)
        return csv, parquet


def fmt_size(n):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    versions = []
    for mod in ("numpy", "pandas", "polars", "pyarrow"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            pass
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}, " + ", ".join(versions))


def markdown(rows, args, cmdline):
    lines = [
        f"Machine: {machine()}.",
        "",
        f"Command: `{cmdline}`",
        "",
        f"Warm page cache; median of {args.runs} alternating runs; ratio = peer time / mmnpy time "
        "(above 1: mmnpy is faster). mmnpy is timed as a whole process, the Python peers around "
        "the work only (imports excluded); CPU (user + sys, whole process, medians) and peak RSS "
        "from `/usr/bin/time -v`.",
        "",
        "| job | mmnpy | compared with | peer | ratio | goal | CPU s mmnpy / peer | peak RSS mmnpy / peer |",
        "| --- | ---: | --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in rows:
        goal = "" if r["goal"] is None else f">= {r['goal']}x {'(met)' if r['met'] else '(MISSED)'}"
        lines.append(
            f"| {r['job']} | {r['mmnpy_gbs']:.2f} GB/s | {r['peer']} | {r['peer_gbs']:.2f} GB/s | "
            f"{r['ratio']:.2f}x | {goal} | {r['mmnpy_cpu']:.2f} / {r['peer_cpu']:.2f} | "
            f"{r['mmnpy_rss']:.0f} / {r['peer_rss']:.0f} MiB |"
        )
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=parse_size("4GiB"),
                    help="size of the big inputs (stats, axis, take, slice, convert-cast); default 4GiB")
    ap.add_argument("--csv-rows", type=int, default=4_000_000, help="rows of the CSV/Parquet table (default 4M)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated: " + ",".join(SECTIONS))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="mmnpy --threads and OMP_NUM_THREADS")
    ap.add_argument("--dir", default=os.path.join(ROOT, "target", "bench"), help="inputs (default target/bench)")
    ap.add_argument("--out-dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="outputs (default /dev/shm, else --dir)")
    ap.add_argument("--mmnpy", default=None,
                    help="the mmnpy binary to time (default target/release/mmnpy of this checkout)")
    ap.add_argument("--markdown", help="write the result table (Markdown) to this file")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs for the next run")
    ap.add_argument("--no-fresh-cache", action="store_true",
                    help="warm the inputs as they are cached, without dropping their pages first")
    args = ap.parse_args()
    global FRESH_CACHE, MMNPY
    FRESH_CACHE = not args.no_fresh_cache
    if args.mmnpy:
        MMNPY = os.path.abspath(args.mmnpy)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    for s in sections:
        if s not in RUNNERS:
            ap.error(f"unknown section {s!r}; known: {', '.join(SECTIONS)}")
    if not os.path.exists(MMNPY):
        sys.exit("build first: cargo build --release --bin mmnpy")
    if not os.path.exists("/usr/bin/time"):
        sys.exit("needs /usr/bin/time (GNU time) for peak RSS")
    os.makedirs(args.dir, exist_ok=True)
    args.out_dir = args.out_dir or args.dir
    os.makedirs(args.out_dir, exist_ok=True)

    ctx = Context(args)
    if "stats" in sections and shutil.which("gcc") and os.path.exists(YARDSTICK_SRC):
        # The flags of the yardstick's own header (-ffast-math lets gcc vectorise the sum).
        subprocess.run(["gcc", "-O3", "-march=native", "-ffast-math", "-fopenmp", YARDSTICK_SRC, "-o", YARDSTICK],
                       check=True)
        ctx.yardstick = YARDSTICK
    cmdline = "python scripts/bench_vs_numpy.py " + " ".join(sys.argv[1:])
    rows = []
    try:
        for s in sections:
            print(f"== {s} (load average {load()})", flush=True)
            new = RUNNERS[s](ctx)
            for r in new:
                goal = "" if r["goal"] is None else f"  goal >= {r['goal']}x: {'met' if r['met'] else 'MISSED'}"
                print(f"  {r['job']}: mmnpy {r['mmnpy_gbs']:.2f} GB/s, {r['peer']} {r['peer_gbs']:.2f} GB/s, "
                      f"ratio {r['ratio']:.2f}x{goal}; peak RSS mmnpy {r['mmnpy_rss']:.0f} MiB "
                      f"(load average {r['load']})", flush=True)
            rows += new
    finally:
        if not args.keep:
            remove(*ctx.made)
    table = markdown(rows, args, cmdline)
    print()
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
