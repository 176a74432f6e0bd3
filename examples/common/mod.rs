//! Shared by the examples: the size flag and a deterministic sample table.

use std::path::Path;

use mmnpy::{NpyArray, Order};
use rayon::prelude::*;

/// Rows to generate: `--rows N` on the command line or `MMNPY_EXAMPLE_ROWS`, else `default`.
pub(crate) fn rows_arg(default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    let from_flag = args
        .iter()
        .position(|a| a == "--rows")
        .and_then(|i| args.get(i + 1))
        .cloned();
    from_flag
        .or_else(|| std::env::var("MMNPY_EXAMPLE_ROWS").ok())
        .map(|v| v.replace('_', "").parse().expect("--rows takes a number"))
        .unwrap_or(default)
}

/// A well-mixed 64-bit hash (splitmix64): the same table on every machine and thread count.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// An approximately normal value for cell (row, col): the sum of four uniforms, centred.
pub(crate) fn normalish(row: usize, col: usize) -> f64 {
    let h = mix((row as u64) << 20 ^ col as u64);
    let u = |k: u32| ((h >> (16 * k)) & 0xFFFF) as f64 / 65536.0;
    (u(0) + u(1) + u(2) + u(3) - 2.0) * 1.7
}

/// Write a `(rows, cols)` float32 file at `path` whose column `c` has mean `c` and scale
/// `1 + c / 4`, filled in parallel.
pub(crate) fn make_table(path: &Path, rows: usize, cols: usize) -> mmnpy::Result<()> {
    let mut a = NpyArray::<f32>::create(path, &[rows, cols], Order::C)?;
    a.as_slice_mut()?
        .par_chunks_mut(cols)
        .enumerate()
        .for_each(|(r, row)| {
            for (c, x) in row.iter_mut().enumerate() {
                *x = (c as f64 + (1.0 + c as f64 / 4.0) * normalish(r, c)) as f32;
            }
        });
    a.persist()
}
