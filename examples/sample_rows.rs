//! Draw a random sample of rows of a (rows, 64) float32 table into memory, the out-of-core
//! version of `a = np.load(path, mmap_mode='r'); sample = a[idx]`, and use it (column means
//! of the sample against those of the whole table). `mmnpy::ops::take` gathers in parallel,
//! straight from the page cache when the rows are there; from a big file on disk it walks the
//! file in source order instead, releasing what it has read, so only the sample stays
//! resident.
//!
//! `cargo run --release --example sample_rows [-- --rows 2000000]`
//!
//! With `--table T.npy --indices I.npy` it gathers those rows of an existing float32 table
//! instead and prints the seconds from opening the table to having the sample, as JSON on its
//! last line (what `scripts/bench_vs_numpy.py` reads to compare with numpy's `a[idx]`).

mod common;

use std::path::PathBuf;
use std::time::Instant;

use mmnpy::NpyArray;
use mmnpy::ops::{Indices, take};
use ndarray::{Axis, Ix2};

const COLS: usize = 64;

fn path_arg(name: &str) -> Option<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).map(PathBuf::from)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let (Some(table), Some(indices)) = (path_arg("--table"), path_arg("--indices")) {
        let start = Instant::now();
        let a = NpyArray::<f32>::open(&table)?;
        let indices = Indices::read(&indices)?;
        let sample = take(&a, &indices, 0)?;
        let seconds = start.elapsed().as_secs_f64();
        eprintln!("gathered {:?} from {}", sample.shape(), table.display());
        println!("{{\"seconds\": {seconds}}}");
        return Ok(());
    }

    let rows = common::rows_arg(1_000_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("table.npy");
    common::make_table(&path, rows, COLS)?;
    let a = NpyArray::<f32>::open(&path)?;

    // One row in 16, drawn with replacement by a fixed hash: the same sample every run.
    let picks = (rows / 16).max(1);
    let draws = (0..picks as u64)
        .map(|k| (common::mix(k) % rows as u64) as i64)
        .collect();
    let start = Instant::now();
    let sample = take(&a, &Indices::new(draws), 0)?.into_dimensionality::<Ix2>()?;
    let elapsed = start.elapsed();
    println!(
        "sampled {} of {rows} rows ({:.1} MB) in {:.3} s",
        sample.nrows(),
        sample.len() as f64 * 4.0 / 1e6,
        elapsed.as_secs_f64()
    );

    // The sample's column means estimate the table's (column c has mean c by construction).
    let means = sample
        .mapv(f64::from)
        .mean_axis(Axis(0))
        .ok_or("empty sample")?;
    let worst = means
        .iter()
        .enumerate()
        .map(|(c, m)| (m - c as f64).abs() / (1.0 + c as f64 / 4.0))
        .fold(0.0, f64::max);
    println!("column means of the sample: within {worst:.3} standard deviations of the table's");
    Ok(())
}
