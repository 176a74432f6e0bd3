//! Z-score every column of a (rows, 32) float32 table into a new file, out of core:
//! one fused parallel pass for per-column mean and variance, one `map_to_file` pass that
//! writes `(x - mean) / std`, then a check pass on the output.
//!
//! `cargo run --release --example standardize [-- --rows 20000000]`

mod common;

use std::time::Instant;

use mmnpy::NpyArray;
use mmnpy::ops::OutputOptions;
use ndarray::{Array1, Axis, Ix2, Zip};

const COLS: usize = 32;

/// Per-column count, sum and sum of squared deviations, merged with Chan et al.'s formula so
/// that combining chunk results (in chunk order) stays accurate.
#[derive(Clone)]
struct Moments {
    n: f64,
    mean: Array1<f64>,
    m2: Array1<f64>,
}

impl Moments {
    fn empty() -> Moments {
        Moments {
            n: 0.0,
            mean: Array1::zeros(COLS),
            m2: Array1::zeros(COLS),
        }
    }

    fn of_chunk(chunk: ndarray::ArrayView2<'_, f32>) -> Moments {
        let n = chunk.nrows() as f64;
        let mean = chunk
            .mapv(f64::from)
            .mean_axis(Axis(0))
            .unwrap_or_else(|| Array1::zeros(COLS));
        let mut m2 = Array1::<f64>::zeros(COLS);
        for row in chunk.outer_iter() {
            Zip::from(&mut m2)
                .and(&row)
                .and(&mean)
                .for_each(|m2, &x, &mu| {
                    let d = f64::from(x) - mu;
                    *m2 += d * d;
                });
        }
        Moments { n, mean, m2 }
    }

    fn merge(self, other: Moments) -> Moments {
        if self.n == 0.0 {
            return other;
        }
        if other.n == 0.0 {
            return self;
        }
        let n = self.n + other.n;
        let delta = &other.mean - &self.mean;
        let mean = &self.mean + &(&delta * (other.n / n));
        let m2 = &self.m2 + &other.m2 + &(&delta * &delta * (self.n * other.n / n));
        Moments { n, mean, m2 }
    }

    fn std(&self) -> Array1<f64> {
        self.m2.mapv(|m2| (m2 / self.n).sqrt())
    }
}

fn column_moments(a: &NpyArray<f32>) -> mmnpy::Result<Moments> {
    Ok(a.row_chunks_as::<Ix2>(8192)?.fold(
        Moments::empty,
        |acc, _, chunk| acc.merge(Moments::of_chunk(chunk)),
        Moments::merge,
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = common::rows_arg(200_000);
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("table.npy");
    let output = dir.path().join("table_z.npy");
    common::make_table(&input, rows, COLS)?;

    let start = Instant::now();
    let a = NpyArray::<f32>::open(&input)?;
    let moments = column_moments(&a)?;
    let (mean, std) = (
        moments.mean.mapv(|m| m as f32),
        moments.std().mapv(|s| s as f32),
    );
    let z = a.row_chunks_as::<Ix2>(8192)?.map_to_file::<f32>(
        &output,
        &[COLS],
        |_, chunk, out| {
            let mut out = out
                .into_dimensionality::<Ix2>()
                .expect("rows of COLS values");
            Zip::from(out.rows_mut())
                .and(chunk.rows())
                .for_each(|mut o, x| {
                    Zip::from(&mut o)
                        .and(&x)
                        .and(&mean)
                        .and(&std)
                        .for_each(|o, &x, &m, &s| {
                            *o = (x - m) / s;
                        });
                });
        },
        &OutputOptions::new(),
    )?;
    let elapsed = start.elapsed();
    let gb = (rows * COLS * 4) as f64 / 1e9;
    println!(
        "standardized {rows} x {COLS} float32 ({gb:.2} GB) in {:.3} s: {:.2} GB/s of input over two passes",
        elapsed.as_secs_f64(),
        gb / elapsed.as_secs_f64()
    );
    println!(
        "input  column 0: mean {:.4} std {:.4}; column 31: mean {:.4} std {:.4}",
        moments.mean[0],
        moments.std()[0],
        moments.mean[31],
        moments.std()[31]
    );

    let check = column_moments(&z)?;
    let worst_mean = check.mean.iter().fold(0f64, |m, v| m.max(v.abs()));
    let worst_std = check.std().iter().fold(0f64, |m, v| m.max((v - 1.0).abs()));
    println!(
        "output: every column has |mean| <= {worst_mean:.2e} and |std - 1| <= {worst_std:.2e}"
    );
    assert!(
        worst_mean < 1e-3 && worst_std < 1e-3,
        "standardization is off"
    );
    Ok(())
}
