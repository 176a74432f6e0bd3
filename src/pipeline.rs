//! Pipelines for Rust users: work over the rows (axis 0) of a mapped array in parallel
//! chunks of `ndarray` views, with no whole-array temporaries and bounded resident memory.
//!
//! - [`RowChunks::fold`] and [`RowChunks::map_filter_reduce`]: one fused parallel pass; each
//!   chunk is reduced on its own and the chunk results are combined **in chunk order**, so the
//!   result does not depend on the thread count (chunk boundaries depend only on
//!   `rows_per_chunk`).
//! - [`RowChunks::map_to_file`]: an out-of-core transform into a new `.npy` file of another
//!   dtype and row shape (standardise, cast, clip, project...), written atomically.
//! - [`NpyArray::par_row_chunks`]: a plain rayon iterator for free-form use.
//!
//! The windowed methods walk the file in windows of about [`WINDOW_BYTES`] and release each
//! window's pages when done (for C-order files, whose rows are contiguous); a Fortran-order
//! file works too, through strided views, but its pages are not released early.
//!
//! ```
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("x.npy");
//! use mmnpy::{NpyArray, Order};
//! use ndarray::Ix2;
//! let mut a = NpyArray::<f32>::create(&path, &[1000, 4], Order::C)?;
//! for (i, x) in a.as_slice_mut()?.iter_mut().enumerate() { *x = (i % 7) as f32; }
//! // Count the rows whose first column is above 3, and sum their second column.
//! let (count, total) = a.row_chunks_as::<Ix2>(128)?.map_filter_reduce(
//!     |_, row| (row[0], row[1]),
//!     |&(first, _)| first > 3.0,
//!     || (0usize, 0f64),
//!     |(n, s), (_, second)| (n + 1, s + f64::from(second)),
//!     |(n1, s1), (n2, s2)| (n1 + n2, s1 + s2),
//! );
//! assert_eq!(count, 1000 * 3 / 7 + 1);
//! # let _ = total;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ops::Range;
use std::path::Path;

use ndarray::{ArrayView, ArrayViewD, ArrayViewMutD, Axis, Dimension, IxDyn, RemoveAxis};
use rayon::prelude::*;

use crate::array::NpyArray;
use crate::dtype::Element;
use crate::engine::WINDOW_BYTES;
use crate::error::{Error, Result};
use crate::header::Order;
use crate::ops::OutputOptions;

/// The rows of an array cut into chunks of `rows_per_chunk` rows, viewed with dimension `D`.
/// Made by [`NpyArray::row_chunks`] or [`NpyArray::row_chunks_as`].
pub struct RowChunks<'a, T: Element, D: Dimension> {
    array: &'a NpyArray<T>,
    view: ArrayView<'a, T, D>,
    rows_per_chunk: usize,
}

impl<T: Element> NpyArray<T> {
    /// Row chunks with dynamic-dimensional views. The array needs at least one dimension.
    pub fn row_chunks(&self, rows_per_chunk: usize) -> Result<RowChunks<'_, T, IxDyn>> {
        self.row_chunks_as::<IxDyn>(rows_per_chunk)
    }

    /// Row chunks with views of a fixed dimensionality (e.g. `Ix2`, whose rows are
    /// `ArrayView1`s).
    pub fn row_chunks_as<D: RemoveAxis>(
        &self,
        rows_per_chunk: usize,
    ) -> Result<RowChunks<'_, T, D>> {
        if self.shape().is_empty() {
            return Err(Error::invalid("a 0-d array has no rows").with_path(self.file().path()));
        }
        Ok(RowChunks {
            array: self,
            view: self.view_as::<D>()?,
            rows_per_chunk: rows_per_chunk.max(1),
        })
    }

    /// A rayon parallel iterator over `(first_row, chunk)` pairs of `rows_per_chunk` rows.
    /// It does not release pages: for bounded memory on huge files use [`RowChunks`].
    pub fn par_row_chunks(
        &self,
        rows_per_chunk: usize,
    ) -> impl IndexedParallelIterator<Item = (usize, ArrayViewD<'_, T>)> + '_ {
        let view = self.view();
        let rows = view.shape().first().copied().unwrap_or(0);
        let step = rows_per_chunk.max(1);
        (0..rows.div_ceil(step)).into_par_iter().map(move |c| {
            let range = c * step..((c + 1) * step).min(rows);
            (range.start, rows_of(&view, range))
        })
    }
}

/// Rows `range` of `view` (axis 0), with the view's own lifetime.
fn rows_of<'a, T, D: Dimension>(
    view: &ArrayView<'a, T, D>,
    range: Range<usize>,
) -> ArrayView<'a, T, D> {
    let mut rows = view.clone();
    rows.slice_axis_inplace(Axis(0), range.into());
    rows
}

impl<'a, T: Element, D: RemoveAxis> RowChunks<'a, T, D> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.view.len_of(Axis(0))
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.rows().div_ceil(self.rows_per_chunk)
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows() == 0
    }

    /// The rows of chunk `i`.
    pub fn chunk_rows(&self, i: usize) -> Range<usize> {
        i * self.rows_per_chunk..((i + 1) * self.rows_per_chunk).min(self.rows())
    }

    /// Chunk `i` as a view.
    pub fn chunk(&self, i: usize) -> ArrayView<'a, T, D> {
        rows_of(&self.view, self.chunk_rows(i))
    }

    /// Bytes of one row.
    fn row_bytes(&self) -> usize {
        let rows = self.rows().max(1);
        self.array.file().bytes().len() / rows
    }

    /// Chunks per window: about [`WINDOW_BYTES`] of input, at least one chunk.
    fn chunks_per_window(&self) -> usize {
        (WINDOW_BYTES / (self.rows_per_chunk * self.row_bytes()).max(1)).max(1)
    }

    /// Run `f` on every chunk in parallel, window by window, releasing each window's pages
    /// after it (C order), and return the results in chunk order.
    fn map_chunks<R: Send>(&self, f: impl Fn(usize, ArrayView<'a, T, D>) -> R + Sync) -> Vec<R> {
        let n = self.len();
        let per_window = self.chunks_per_window();
        let mut results = Vec::with_capacity(n);
        let mut start = 0;
        while start < n {
            let window = start..(start + per_window).min(n);
            let part: Vec<R> = window
                .clone()
                .into_par_iter()
                .map(|c| f(self.chunk_rows(c).start, self.chunk(c)))
                .collect();
            results.extend(part);
            self.release_rows(
                self.chunk_rows(window.start).start..self.chunk_rows(window.end - 1).end,
            );
            start = window.end;
        }
        results
    }

    fn release_rows(&self, rows: Range<usize>) {
        if self.array.header().order() == Order::C {
            let rb = self.row_bytes();
            self.array.file().release(rows.start * rb, rows.len() * rb);
        }
    }

    /// Fold every chunk from `identity()` with `fold(acc, first_row, chunk)`, in parallel, and
    /// combine the chunk results in chunk order with `combine`: a deterministic reduction.
    pub fn fold<A, F, C>(&self, identity: impl Fn() -> A + Sync, fold: F, combine: C) -> A
    where
        A: Send,
        F: Fn(A, usize, ArrayView<'a, T, D>) -> A + Sync,
        C: FnMut(A, A) -> A,
    {
        self.map_chunks(|first, chunk| fold(identity(), first, chunk))
            .into_iter()
            .reduce(combine)
            .unwrap_or_else(identity)
    }

    /// The fused row pipeline: `map(row_index, row)` each row, keep those for which
    /// `keep(&mapped)` holds, `reduce` them into a per-chunk accumulator started at
    /// `identity()`, and `combine` the chunk accumulators in chunk order. No temporaries
    /// beyond one accumulator per chunk.
    pub fn map_filter_reduce<M, A>(
        &self,
        map: impl Fn(usize, ArrayView<'_, T, D::Smaller>) -> M + Sync,
        keep: impl Fn(&M) -> bool + Sync,
        identity: impl Fn() -> A + Sync,
        reduce: impl Fn(A, M) -> A + Sync,
        combine: impl FnMut(A, A) -> A,
    ) -> A
    where
        A: Send,
    {
        self.fold(
            &identity,
            |mut acc, first, chunk| {
                for (k, row) in chunk.outer_iter().enumerate() {
                    let mapped = map(first + k, row);
                    if keep(&mapped) {
                        acc = reduce(acc, mapped);
                    }
                }
                acc
            },
            combine,
        )
    }

    /// An out-of-core transform into a new C-order file of shape `[rows] + out_row_shape`
    /// and element type `U`: `f(first_row, input_chunk, output_chunk)` fills each output
    /// chunk (shape `[chunk_rows] + out_row_shape`, zero-initialised) from its input chunk.
    /// Chunks run in parallel, window by window, releasing input and output pages behind;
    /// the file appears at `out` only when complete.
    pub fn map_to_file<U: Element>(
        &self,
        out: impl AsRef<Path>,
        out_row_shape: &[usize],
        f: impl Fn(usize, ArrayView<'a, T, D>, ArrayViewMutD<'_, U>) + Sync,
        options: &OutputOptions<'_>,
    ) -> Result<NpyArray<U>> {
        let out = out.as_ref();
        options.check_output(self.array.file(), out)?;
        let rows = self.rows();
        let mut shape = vec![rows];
        shape.extend_from_slice(out_row_shape);
        let mut output = NpyArray::<U>::create(out, &shape, Order::C)?;
        let row_len: usize = out_row_shape.iter().product();
        let out_chunk = self.rows_per_chunk * row_len;
        let per_window = self.chunks_per_window();
        let n = self.len();
        // Rows of zero elements have nothing to write.
        let mut start = if out_chunk == 0 { n } else { 0 };
        while start < n {
            let window = start..(start + per_window).min(n);
            let elements = self.chunk_rows(window.start).start * row_len
                ..self.chunk_rows(window.end - 1).end * row_len;
            let slice = &mut output.as_slice_mut()?[elements.clone()];
            slice
                .par_chunks_mut(out_chunk)
                .enumerate()
                .for_each(|(k, dst)| {
                    let c = window.start + k;
                    let mut chunk_shape = vec![self.chunk_rows(c).len()];
                    chunk_shape.extend_from_slice(out_row_shape);
                    let dst = ArrayViewMutD::from_shape(chunk_shape, dst)
                        .expect("output chunk has the rows of its input chunk");
                    f(self.chunk_rows(c).start, self.chunk(c), dst);
                });
            let size = std::mem::size_of::<U>();
            output
                .file()
                .release(elements.start * size, elements.len() * size);
            self.release_rows(
                self.chunk_rows(window.start).start..self.chunk_rows(window.end - 1).end,
            );
            options.report(elements.len() * size);
            start = window.end;
        }
        let mut file = output.into_file();
        file.persist_with(options.overwrite_mode())?;
        file.into_typed()
    }
}
