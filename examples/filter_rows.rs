//! Count the rows of a (rows, 16) float32 table that match a predicate and sum one column
//! over them, in one fused parallel pass (`map_filter_reduce`) with no temporaries: the
//! out-of-core version of `m = (a[:, 0] > 1) & (a[:, 3] < 3); m.sum(), a[m, 5].sum()`.
//!
//! `cargo run --release --example filter_rows [-- --rows 50000000]`

mod common;

use std::time::Instant;

use mmnpy::NpyArray;
use ndarray::Ix2;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = common::rows_arg(500_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("events.npy");
    common::make_table(&path, rows, 16)?;

    let a = NpyArray::<f32>::open(&path)?;
    let start = Instant::now();
    let (count, total) = a.row_chunks_as::<Ix2>(16_384)?.map_filter_reduce(
        |_, row| (row[0], row[3], row[5]),
        |&(x0, x3, _)| x0 > 1.0 && x3 < 3.0,
        || (0u64, 0f64),
        |(n, s), (_, _, x5)| (n + 1, s + f64::from(x5)),
        |(n1, s1), (n2, s2)| (n1 + n2, s1 + s2),
    );
    let elapsed = start.elapsed();

    // The same answer the obvious sequential way, to show the pipeline is exact.
    let v = a.view_as::<Ix2>()?;
    let (mut n_ref, mut s_ref) = (0u64, 0f64);
    for row in v.outer_iter() {
        if row[0] > 1.0 && row[3] < 3.0 {
            n_ref += 1;
            s_ref += f64::from(row[5]);
        }
    }
    let gb = (rows * 16 * 4) as f64 / 1e9;
    println!(
        "{count} of {rows} rows match; sum of column 5 over them = {total:.6}\n\
         scanned {gb:.2} GB in {:.3} s ({:.2} GB/s)",
        elapsed.as_secs_f64(),
        gb / elapsed.as_secs_f64()
    );
    assert_eq!(count, n_ref);
    assert!(
        (total - s_ref).abs() <= 1e-9 * s_ref.abs().max(1.0),
        "{total} vs {s_ref}"
    );
    Ok(())
}
