//! Deterministic sample datasets for the demo, the examples and the benchmarks: a wide float
//! table whose every value is a pure function of (seed, flat index), so it is generated in
//! parallel and is bit-identical whatever the thread count.

use std::path::Path;

use rayon::prelude::*;

use crate::array::NpyArray;
use crate::engine::WINDOW_BYTES;
use crate::error::Result;
use crate::header::Order;

/// Shape of a sample table: `rows` × `cols` float64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleTable {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Seed: the same seed gives the same bits.
    pub seed: u64,
}

impl SampleTable {
    /// A table of about `bytes` bytes of float64 with `cols` columns.
    pub fn with_size(bytes: u64, cols: usize, seed: u64) -> SampleTable {
        let rows = (bytes / (cols.max(1) as u64 * 8)).max(1) as usize;
        SampleTable { rows, cols, seed }
    }

    /// The value at row `i`, column `j`: column `j` is roughly normal with mean `j` and
    /// standard deviation `1 + j / 8`; about one value in a million is NaN (missing data).
    pub fn value(&self, i: usize, j: usize) -> f64 {
        let h = mix(self.seed ^ mix((i * self.cols + j) as u64));
        if h.is_multiple_of(1_000_003) {
            return f64::NAN;
        }
        // Irwin–Hall: the sum of four uniforms is close enough to normal for a demo.
        let u = |k: u32| ((h.rotate_left(16 * k) & 0xffff) as f64 + 0.5) / 65536.0;
        let z = (u(0) + u(1) + u(2) + u(3) - 2.0) * (3.0f64).sqrt();
        j as f64 + (1.0 + j as f64 / 8.0) * z
    }

    /// Write the table to a new `.npy` file (C order), in parallel, atomically. The rows are
    /// filled one window at a time and each finished window's pages are released, so resident
    /// memory stays bounded however big the table.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<NpyArray<f64>> {
        self.write_with_progress(path, &|_| {})
    }

    /// [`SampleTable::write`], calling `progress(bytes)` as windows are finished.
    pub fn write_with_progress(
        &self,
        path: impl AsRef<Path>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<NpyArray<f64>> {
        const CHUNK_ROWS: usize = 4096;
        let mut array = NpyArray::<f64>::create(path, &[self.rows, self.cols], Order::C)?;
        let cols = self.cols.max(1);
        let row_bytes = cols * std::mem::size_of::<f64>();
        let window_rows = (WINDOW_BYTES / row_bytes).max(CHUNK_ROWS) / CHUNK_ROWS * CHUNK_ROWS;
        let mut start = 0;
        while start < self.rows {
            let end = (start + window_rows).min(self.rows);
            array.as_slice_mut()?[start * cols..end * cols]
                .par_chunks_mut(cols * CHUNK_ROWS)
                .enumerate()
                .for_each(|(chunk, values)| {
                    let first_row = start + chunk * CHUNK_ROWS;
                    for (k, v) in values.iter_mut().enumerate() {
                        *v = self.value(first_row + k / cols, k % cols);
                    }
                });
            array
                .file()
                .release(start * row_bytes, (end - start) * row_bytes);
            progress(((end - start) * row_bytes) as u64);
            start = end;
        }
        array.persist()?;
        Ok(array)
    }
}

/// `count` pseudo-random indices in `0..len` (with repeats), a pure function of `seed`: the
/// random gathers of the demo and the benchmarks. Empty when `len` is 0.
pub fn random_indices(count: usize, len: usize, seed: u64) -> Vec<i64> {
    if len == 0 {
        return Vec::new();
    }
    (0..count as u64)
        .map(|k| (mix(seed ^ mix(k)) % len as u64) as i64)
        .collect()
}

/// SplitMix64's finaliser: a fast, well-mixed hash of a 64-bit counter.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_deterministic_and_plausible() {
        let dir = tempfile::tempdir().unwrap();
        let t = SampleTable {
            rows: 5000,
            cols: 4,
            seed: 7,
        };
        let a = t.write(dir.path().join("a.npy")).unwrap();
        let b = t.write(dir.path().join("b.npy")).unwrap();
        assert_eq!(
            bytemuck::cast_slice::<f64, u64>(a.as_slice()),
            bytemuck::cast_slice::<f64, u64>(b.as_slice())
        );
        let col3: Vec<f64> = (0..5000).map(|i| t.value(i, 3)).collect();
        let mean = col3.iter().sum::<f64>() / 5000.0;
        assert!((mean - 3.0).abs() < 0.1, "mean {mean}");
    }
}
