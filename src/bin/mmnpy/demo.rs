//! `mmnpy demo [--size 1GiB] [--dir D]`: the README's main job. Generates a deterministic
//! wide float table, then runs the engine on it the way a data scientist would (whole-array
//! statistics, per-column statistics, a column slice and its histogram, a random row gather,
//! a determinism check across thread counts) and closes with what it did at how many GB/s.
//!
//! Every step is the library call behind one CLI command, and the demo prints that command,
//! so it doubles as a tour. Without `--dir` the files live in a temporary directory that is
//! removed at the end (also on error); with `--dir` they are kept (`demo_*.npy`, replaced on
//! the next run).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use mmnpy::engine::{PassOptions, Stats, Value, histogram, stats, stats_axis};
use mmnpy::ops::{Indices, OutputOptions, SliceExpr, slice_to_file, take_to_file};
use mmnpy::sample::random_indices;
use mmnpy::{NpyFile, Overwrite, SampleTable};

use crate::{Global, progress};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Size of the generated float64 table: bytes, or with a unit (KiB, MiB, GiB, TiB;
    /// KB, MB, GB, TB; K, M, G, T mean KiB, MiB, GiB, TiB).
    #[arg(long, default_value = "1GiB", value_parser = parse_size)]
    size: u64,
    /// Number of columns of the table.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    cols: u16,
    /// Keep the files in this directory (created if missing) instead of a temporary one.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Parse `1GiB`, `256MiB`, `500MB`, `2G`, `1.5GiB` or plain bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 1GiB, 256MiB or 500MB)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use KiB, MiB, GiB or KB, MB, GB)"
            ));
        }
    };
    let bytes = number * scale;
    if !(bytes >= 1.0 && bytes < 2f64.powi(62)) {
        return Err(format!("{text:?} is not a usable size"));
    }
    Ok(bytes as u64)
}

/// One timed step of the demo, for the closing summary.
struct Step {
    what: &'static str,
    bytes: u64,
    seconds: f64,
}

impl Step {
    fn gb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e9 / self.seconds.max(1e-9)
    }
}

/// Where the demo's files live: a kept directory, or a temporary one removed on drop.
enum Workspace {
    Kept(PathBuf),
    Temporary(tempfile::TempDir),
}

impl Workspace {
    fn new(dir: Option<PathBuf>) -> anyhow::Result<Workspace> {
        match dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("{}: cannot create directory", dir.display()))?;
                Ok(Workspace::Kept(dir))
            }
            None => Ok(Workspace::Temporary(
                tempfile::Builder::new()
                    .prefix("mmnpy-demo-")
                    .tempdir()
                    .context("cannot create a temporary directory")?,
            )),
        }
    }

    fn path(&self) -> &Path {
        match self {
            Workspace::Kept(dir) => dir,
            Workspace::Temporary(dir) => dir.path(),
        }
    }
}

/// `1.00 GiB`, `64.0 MiB` or `12.0 KiB`.
fn gib(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes >= 1 << 30 {
        format!("{:.2} GiB", b / (1u64 << 30) as f64)
    } else if bytes >= 1 << 20 {
        format!("{:.1} MiB", b / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", b / 1024.0)
    }
}

fn show(v: Option<Value>) -> String {
    v.map_or("-".to_string(), |v| format!("{:.4}", v.as_f64()))
}

/// Time `work`, with a progress bar of `bytes` (shown per `--progress`).
fn timed<R>(
    global: &Global,
    what: &'static str,
    bytes: u64,
    steps: &mut Vec<Step>,
    work: impl FnOnce(&(dyn Fn(u64) + Sync)) -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let bar = progress::bytes_bar(global, bytes, what);
    let hook = |n: u64| bar.inc(n);
    let start = Instant::now();
    let result = work(&hook)?;
    let seconds = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    steps.push(Step {
        what,
        bytes,
        seconds,
    });
    Ok(result)
}

fn last_rate(steps: &[Step]) -> String {
    steps.last().map_or(String::new(), |s| {
        format!("{:.2} s, {:.2} GB/s", s.seconds, s.gb_per_s())
    })
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let workspace = Workspace::new(args.dir.clone())?;
    let dir = workspace.path();
    let table = SampleTable::with_size(args.size, args.cols as usize, 42);
    let (rows, cols) = (table.rows, table.cols);
    let nbytes = (rows * cols * 8) as u64;
    let threads = rayon::current_num_threads();
    let mut out = std::io::stdout().lock();
    let mut steps = Vec::new();
    writeln!(
        out,
        "mmnpy demo: a {} float64 table, {rows} rows x {cols} columns, {threads} threads",
        gib(nbytes)
    )?;
    writeln!(out, "  in {}\n", dir.display())?;

    // 1. Generate. Each value is a pure function of its index: same bits on every machine.
    let table_path = dir.join("demo_table.npy");
    remove_previous(&table_path)?;
    timed(global, "generate", nbytes, &mut steps, |hook| {
        Ok(table.write_with_progress(&table_path, hook)?)
    })?;
    writeln!(
        out,
        "1. generated demo_table.npy (column j ~ normal(j, 1 + j/8), one value in a million NaN): {}",
        last_rate(&steps)
    )?;
    let file = NpyFile::open(&table_path)?;

    // 2. Whole-array statistics: one fused pass.
    writeln!(out, "\n2. $ mmnpy stats demo_table.npy")?;
    let all = timed(global, "stats", nbytes, &mut steps, |hook| {
        Ok(stats(
            &file,
            0,
            &PassOptions::new().progress(hook).without_count_nonzero(),
        )?)
    })?;
    writeln!(
        out,
        "   count {}  nan_count {}  mean {}  std {}  min {} (at {})  max {} (at {})",
        all.count,
        all.nan_count,
        show(all.mean),
        all.std.map_or("-".into(), |s| format!("{s:.4}")),
        show(all.min),
        all.argmin.map_or("-".into(), |i| i.to_string()),
        show(all.max),
        all.argmax.map_or("-".into(), |i| i.to_string()),
    )?;
    writeln!(out, "   {}", last_rate(&steps))?;

    // 3. Per-column statistics: the (N, d) axis-0 reduction.
    writeln!(out, "\n3. $ mmnpy stats demo_table.npy --axis 0")?;
    let per_column = timed(global, "stats --axis 0", nbytes, &mut steps, |hook| {
        Ok(stats_axis(&file, 0, 0, &PassOptions::new().progress(hook))?)
    })?;
    writeln!(
        out,
        "   {:>6} {:>10} {:>10} {:>10} {:>10} {:>6}",
        "column", "mean", "std", "min", "max", "nan"
    )?;
    for (j, s) in per_column.stats.iter().enumerate() {
        writeln!(
            out,
            "   {j:>6} {:>10} {:>10} {:>10} {:>10} {:>6}",
            show(s.mean),
            s.std.map_or("-".into(), |x| format!("{x:.4}")),
            show(s.min),
            show(s.max),
            s.nan_count
        )?;
    }
    writeln!(out, "   {}", last_rate(&steps))?;

    // 4. A strided column slice, then its histogram.
    let column = (cols - 1).min(3);
    let expr = format!(":, {column}");
    let column_path = dir.join("demo_column.npy");
    writeln!(
        out,
        "\n4. $ mmnpy slice demo_table.npy \"{expr}\" -o demo_column.npy"
    )?;
    let selection = SliceExpr::parse(&expr)?.resolve(file.shape())?;
    timed(global, "slice", nbytes, &mut steps, |hook| {
        let options = OutputOptions::new()
            .overwrite(Overwrite::Replace)
            .progress(hook);
        Ok(slice_to_file(&file, &selection, &column_path, &options)?)
    })?;
    writeln!(out, "   {} rows copied: {}", rows, last_rate(&steps))?;
    let column_file = NpyFile::open(&column_path)?;
    // The column has NaNs, so numpy's autodetected range would fail (as `hist` without
    // `--range` does): take the range from the per-column statistics instead.
    let range = match &per_column.stats[column] {
        Stats {
            min: Some(lo),
            max: Some(hi),
            ..
        } => (lo.as_f64(), hi.as_f64()),
        _ => (0.0, 1.0),
    };
    writeln!(
        out,
        "   $ mmnpy hist demo_column.npy --bins 16 --range {},{}   (min and max from step 3)",
        range.0, range.1
    )?;
    let hist = timed(
        global,
        "hist",
        column_file.bytes().len() as u64,
        &mut steps,
        |hook| {
            Ok(histogram(
                &column_file,
                16,
                Some(range),
                &PassOptions::new().progress(hook),
            )?)
        },
    )?;
    let peak = hist.counts.iter().copied().max().unwrap_or(0).max(1);
    for (k, &count) in hist.counts.iter().enumerate() {
        let bar = "#".repeat((count * 48 / peak) as usize);
        writeln!(
            out,
            "   [{:>8.3}, {:>8.3}) {count:>10} {bar}",
            hist.edges[k],
            hist.edges[k + 1]
        )?;
    }

    // 5. A random gather of rows.
    let picks = rows.min(1_000_000);
    let rows_path = dir.join("demo_rows.npy");
    writeln!(
        out,
        "\n5. $ mmnpy take demo_table.npy --indices IDX.npy -o demo_rows.npy   ({picks} random rows)"
    )?;
    let indices = Indices::new(random_indices(picks, rows, 7));
    let gathered = (picks * cols * 8) as u64;
    timed(global, "take", gathered, &mut steps, |hook| {
        let options = OutputOptions::new()
            .overwrite(Overwrite::Replace)
            .progress(hook);
        Ok(take_to_file(&file, &indices, 0, &rows_path, &options)?)
    })?;
    writeln!(out, "   {} gathered: {}", gib(gathered), last_rate(&steps))?;

    // 6. Determinism: the same bits with one thread as with all of them.
    writeln!(
        out,
        "\n6. $ mmnpy --threads 1 stats demo_table.npy   (must equal step 2 bit for bit)"
    )?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .context("cannot start a one-thread pool")?;
    let single = timed(global, "stats, 1 thread", nbytes, &mut steps, |hook| {
        Ok(pool.install(|| {
            stats(
                &file,
                0,
                &PassOptions::new().progress(hook).without_count_nonzero(),
            )
        })?)
    })?;
    if !same_bits(&all, &single) {
        anyhow::bail!("stats differ between 1 and {threads} threads: {all:?} vs {single:?}");
    }
    writeln!(
        out,
        "   identical: sum, mean, var, min, max, argmin, argmax (mean bits {:#018x}); {}",
        all.mean.map_or(0, |m| m.as_f64().to_bits()),
        last_rate(&steps)
    )?;

    writeln!(out, "\nSummary ({threads} threads):")?;
    writeln!(
        out,
        "   {:<18} {:>10} {:>9} {:>8}",
        "step", "data", "seconds", "GB/s"
    )?;
    for step in &steps {
        writeln!(
            out,
            "   {:<18} {:>10} {:>9.2} {:>8.2}",
            step.what,
            gib(step.bytes),
            step.seconds,
            step.gb_per_s()
        )?;
    }
    drop(file);
    drop(column_file);
    match &workspace {
        Workspace::Kept(dir) => writeln!(
            out,
            "\nKept demo_table.npy, demo_column.npy and demo_rows.npy in {}",
            dir.display()
        )?,
        Workspace::Temporary(_) => writeln!(out, "\nRemoved the demo files.")?,
    }
    Ok(())
}

/// A previous run's table is replaced: `NpyArray::create` would replace it too, but removing
/// it first keeps two copies from sharing the disk during generation.
fn remove_previous(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("{}: cannot replace", path.display()))
        }
        _ => Ok(()),
    }
}

/// Bit-for-bit equality of two results (`==` would call two NaNs different).
fn same_bits(a: &Stats, b: &Stats) -> bool {
    format!("{a:?}") == format!("{b:?}")
}
