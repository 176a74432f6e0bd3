//! Gathers: `numpy.take(a, indices, axis)` from a mapped array into a new file
//! ([`take_to_file`]) or into memory ([`take`], numpy's `a[idx]`).
//!
//! Every index is checked (and negative ones wrapped, like numpy) before the output is even
//! created, so a bad index never leaves a file behind. The copy is byte-level (any dtype, byte
//! order kept) and parallel over output rows, with a software prefetch of the rows a few
//! steps ahead: random gathers are bound by memory latency, not bandwidth. A gather from a big
//! file to a file walks the input in source order instead, once per output window, releasing
//! what it has read, so resident memory stays bounded (`RowGather::copy_sorted` says how, and
//! what it costs; `scripts/take_floor.c` measures the least such a gather can cost); a gather
//! into memory walks so only when its rows must come from the disk
//! (`RowGather::pays_to_walk`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{OUT_WINDOW_BYTES, OutputOptions};
use crate::array::{NpyArray, NpyFile};
use crate::dtype::ByteOrder;
use crate::dtype::Element;
use crate::engine::prefetch;
use crate::error::{Error, Result, ResultExt};
use crate::header::Order;

/// An index array for [`take_to_file`]: integer values (negative ones count from the end)
/// and the shape that replaces the gathered axis in the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indices {
    values: Vec<i64>,
    shape: Vec<usize>,
    source: Option<PathBuf>,
}

impl Indices {
    /// A 1-d index array.
    pub fn new(values: Vec<i64>) -> Indices {
        let shape = vec![values.len()];
        Indices {
            values,
            shape,
            source: None,
        }
    }

    /// An index array of the given shape; `values` in C order.
    pub fn with_shape(values: Vec<i64>, shape: &[usize]) -> Result<Indices> {
        if shape.iter().product::<usize>() != values.len() {
            return Err(Error::invalid(format!(
                "{} index values do not fill shape {shape:?}",
                values.len()
            )));
        }
        Ok(Indices {
            values,
            shape: shape.to_vec(),
            source: None,
        })
    }

    /// Read an `.npy` of any integer dtype and byte order, C or Fortran order.
    pub fn read(path: impl AsRef<Path>) -> Result<Indices> {
        let path = path.as_ref();
        let file = NpyFile::open(path)?;
        Indices::from_file(&file).at(path)
    }

    fn from_file(file: &NpyFile) -> Result<Indices> {
        let dtype = file.dtype();
        let scalar = dtype.scalar();
        if !scalar.is_integer() {
            return Err(Error::invalid(format!(
                "an index array must hold integers, not {}",
                scalar.name()
            )));
        }
        let size = scalar.size();
        let signed = scalar.kind_char() == 'i';
        let big = dtype.byte_order() == ByteOrder::Big;
        // Decoded in parallel straight into one vector; the first bad value (in file order)
        // is the one reported, whatever the thread count.
        let bytes = file.bytes();
        let mut memory = vec![0i64; bytes.len() / size];
        let first_bad = memory
            .par_chunks_mut(DECODE_CHUNK)
            .zip(bytes.par_chunks(size * DECODE_CHUNK))
            .enumerate()
            .filter_map(|(chunk, (out, bytes))| {
                decode_indices(bytes, size, signed, big, out).map(|k| chunk * DECODE_CHUNK + k)
            })
            .min();
        if let Some(position) = first_bad {
            let b = &bytes[position * size..(position + 1) * size];
            return Err(Error::invalid(format!(
                "index {} at position {position} is out of bounds for any axis",
                u64_of(b, big)
            )));
        }
        let shape = file.shape().to_vec();
        let values = if file.order() == Order::Fortran && shape.len() > 1 {
            reorder(&memory, &shape, Order::Fortran, Order::C)
        } else {
            memory
        };
        Ok(Indices {
            values,
            shape,
            source: Some(file.path().to_path_buf()),
        })
    }

    /// The values in C order, as given (not yet wrapped).
    pub fn values(&self) -> &[i64] {
        &self.values
    }

    /// The shape of the index array.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of indices.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there are no indices.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Check every index against an axis of `len` entries and wrap negative ones, like
    /// numpy. The first bad index is an error naming it and its (flat, C-order) position.
    /// Indices that need no wrapping (none negative, the common case) are returned as they
    /// are, without a copy.
    pub fn resolve(&self, len: usize, axis: usize) -> Result<Cow<'_, [usize]>> {
        let wrap = |index: i64| -> Option<usize> {
            let wrapped = if index < 0 {
                i128::from(index) + len as i128
            } else {
                i128::from(index)
            };
            (0..len as i128)
                .contains(&wrapped)
                .then_some(wrapped as usize)
        };
        if self.values.par_iter().all(|&i| i >= 0 && wrap(i).is_some()) {
            // Where usize is i64's size, non-negative values are the same bits.
            if let Ok(as_usize) = bytemuck::try_cast_slice::<i64, usize>(&self.values) {
                return Ok(Cow::Borrowed(as_usize));
            }
        }
        // In parallel into one vector; only on failure a sequential scan finds the first bad
        // index.
        let mut resolved = vec![0usize; self.values.len()];
        let all_valid = resolved
            .par_chunks_mut(DECODE_CHUNK)
            .zip(self.values.par_chunks(DECODE_CHUNK))
            .all(|(out, values)| {
                out.iter_mut()
                    .zip(values)
                    .all(|(o, &i)| wrap(i).map(|w| *o = w).is_some())
            });
        if all_valid {
            return Ok(Cow::Owned(resolved));
        }
        let (position, index) = self
            .values
            .iter()
            .copied()
            .enumerate()
            .find(|&(_, i)| wrap(i).is_none())
            .unwrap_or((0, 0));
        let e = Error::invalid(format!(
            "index {index} at position {position} is out of bounds for axis {axis} with size {len}"
        ));
        Err(match &self.source {
            Some(p) => e.with_path(p),
            None => e,
        })
    }
}

/// Index values decoded per parallel task.
const DECODE_CHUNK: usize = 1 << 14;

/// Decode the integers of `size` bytes in `bytes` into `out` (as many as fit); the position of
/// the first one that is no i64 (a u64 beyond i64::MAX), if any.
fn decode_indices(
    bytes: &[u8],
    size: usize,
    signed: bool,
    big: bool,
    out: &mut [i64],
) -> Option<usize> {
    let items = bytes.chunks_exact(size).zip(out.iter_mut());
    if size == 8 && signed {
        // The common int64 case, without the byte-by-byte assembly of `decode_index`.
        for (b, o) in items {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(b);
            *o = if big {
                i64::from_be_bytes(raw)
            } else {
                i64::from_le_bytes(raw)
            };
        }
        return None;
    }
    for (k, (b, o)) in items.enumerate() {
        match decode_index(b, signed, big) {
            Some(value) => *o = value,
            None => return Some(k),
        }
    }
    None
}

fn u64_of(bytes: &[u8], big: bool) -> u64 {
    let mut value = 0u64;
    if big {
        for &b in bytes {
            value = (value << 8) | u64::from(b);
        }
    } else {
        for &b in bytes.iter().rev() {
            value = (value << 8) | u64::from(b);
        }
    }
    value
}

/// One integer element of `bytes.len()` bytes as i64; `None` for a u64 beyond i64::MAX.
fn decode_index(bytes: &[u8], signed: bool, big: bool) -> Option<i64> {
    let raw = u64_of(bytes, big);
    let bits = 8 * bytes.len() as u32;
    if signed {
        let shift = 64 - bits;
        Some(((raw << shift) as i64) >> shift)
    } else {
        i64::try_from(raw).ok()
    }
}

/// Rearrange `values` of an array of `shape` from one memory order to the other.
fn reorder(values: &[i64], shape: &[usize], from: Order, to: Order) -> Vec<i64> {
    if from == to || shape.len() < 2 {
        return values.to_vec();
    }
    let strides = |order: Order| -> Vec<usize> {
        (0..shape.len())
            .map(|k| match order {
                Order::C => shape[k + 1..].iter().product(),
                Order::Fortran => shape[..k].iter().product(),
            })
            .collect()
    };
    let (from_strides, to_strides) = (strides(from), strides(to));
    let mut out = vec![0; values.len()];
    for (flat, &v) in values.iter().enumerate() {
        // `flat` is the position in `from` order: recover the multi-index axis by axis.
        let mut to_flat = 0;
        for k in 0..shape.len() {
            let i = (flat / from_strides[k]) % shape[k];
            to_flat += i * to_strides[k];
        }
        out[to_flat] = v;
    }
    out
}

/// Write `numpy.take(input, indices, axis)` to a new `.npy` file at `out`: the output's shape is
/// `shape[..axis] + indices.shape() + shape[axis + 1..]`, with the input's dtype, byte order
/// and memory order. All indices are checked before anything is created.
///
/// Memory: the wrapped indices are held in RAM (about 40 bytes each with the bucketed copy).
/// A gather along axis 0 of an input bigger than 256 MiB (not opened copy-on-write) fills the
/// output window by window (at most 128 MiB each): it copies each window's rows from the
/// mapping in source order, releasing the pages behind it, straight into their places in one
/// staging buffer, and writes the window out; so resident memory stays bounded whatever the
/// file size (~185 MiB peak for 1M rows of 4 GiB). Smaller inputs and gathers along other axes
/// copy in output order straight from the mapping.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use mmnpy::{NpyArray, NpyFile, Order};
/// use mmnpy::ops::{Indices, OutputOptions, take_to_file};
/// let mut a = NpyArray::<u16>::create(dir.path().join("a.npy"), &[5, 2], Order::C)?;
/// for (i, x) in a.as_slice_mut()?.iter_mut().enumerate() { *x = i as u16; }
/// a.persist()?;
/// let rows = Indices::new(vec![4, -5, 4]);
/// let out = dir.path().join("rows.npy");
/// take_to_file(a.file(), &rows, 0, &out, &OutputOptions::new())?;
/// let b = NpyArray::<u16>::open(&out)?;
/// assert_eq!(b.as_slice(), &[8, 9, 0, 1, 8, 9]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn take_to_file(
    input: &NpyFile,
    indices: &Indices,
    axis: usize,
    out: impl AsRef<Path>,
    options: &OutputOptions<'_>,
) -> Result<NpyFile> {
    let out = out.as_ref();
    let (resolved, out_shape) = plan(input, indices, axis)?;
    options.check_output(input, out)?;
    let order = input.order();
    let mut output = NpyFile::create(out, input.dtype(), &out_shape, order)?;
    let gather = RowGather::of_file(input, axis, &resolved);
    gather.copy_windowed(input, &mut output, options)?;
    output.persist_with(options.overwrite_mode())?;
    Ok(output)
}

/// `numpy.take(array, indices, axis)` into memory (for axis 0, numpy's fancy indexing
/// `a[idx]`): an owned array shaped `shape[..axis] + indices.shape() + shape[axis + 1..]`, in
/// the input's memory order. All indices are checked before anything is copied.
///
/// The copy is parallel, in blocks of output rows read straight from the mapping with a
/// software prefetch a few rows ahead; like numpy's `a[idx]` on a memmap, the pages it reads
/// stay mapped (page cache shared with every other reader, counted in the resident set)
/// while the array is open. When the rows are not in the page cache, a dense gather (at
/// least one row in 64) along axis 0 of an input bigger than 256 MiB (not opened
/// copy-on-write) walks the mapping in source order instead, so the disk is read in order,
/// each row going straight to its place in the result, and releases the pages behind the
/// walk: resident memory is then the result plus a few MiB of the input.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use mmnpy::{NpyArray, Order};
/// use mmnpy::ops::{Indices, take};
/// let mut a = NpyArray::<f32>::create(dir.path().join("a.npy"), &[5, 2], Order::C)?;
/// for (i, x) in a.as_slice_mut()?.iter_mut().enumerate() { *x = i as f32; }
/// a.persist()?;
/// let rows = take(&a, &Indices::new(vec![4, -5, 4]), 0)?;
/// assert_eq!(rows.shape(), &[3, 2]);
/// assert_eq!(rows.as_slice(), Some(&[8.0, 9.0, 0.0, 1.0, 8.0, 9.0][..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn take<T: Element>(
    array: &NpyArray<T>,
    indices: &Indices,
    axis: usize,
) -> Result<ndarray::ArrayD<T>> {
    take_in_memory(array, indices, axis, None)
}

/// [`take`], with the sorted gather in groups of `sorted_group` rows whatever the input size
/// when asked (tests).
fn take_in_memory<T: Element>(
    array: &NpyArray<T>,
    indices: &Indices,
    axis: usize,
    sorted_group: Option<usize>,
) -> Result<ndarray::ArrayD<T>> {
    use ndarray::ShapeBuilder;
    let input = array.file();
    let (resolved, out_shape) = plan(input, indices, axis)?;
    let order = input.order();
    // The result must fit in memory: a size the allocator refuses is an error, not an abort.
    let len = out_shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| Vec::<T>::new().try_reserve_exact(n).is_ok())
        .ok_or_else(|| {
            Error::invalid(format!(
                "a take of shape {out_shape:?} does not fit in memory (use take_to_file)"
            ))
            .with_path(input.path())
        })?;
    // Zeroed by the kernel page by page as the gather first touches them, not here.
    let mut values = vec![T::zeroed(); len];
    crate::map::prefer_huge_pages(bytemuck::cast_slice_mut(&mut values));
    let gather = RowGather::of_file(input, axis, &resolved);
    gather.copy_to_memory(input, bytemuck::cast_slice_mut(&mut values), sorted_group)?;
    let shape = ndarray::IxDyn(&out_shape);
    let shape = match order {
        Order::C => shape.into_shape_with_order(),
        Order::Fortran => shape.f(),
    };
    ndarray::ArrayD::from_shape_vec(shape, values)
        .map_err(|e| Error::invalid(format!("internal error: take's result shape: {e}")))
}

/// The indices of a take, checked and wrapped, in the input's memory order, and the output's
/// shape.
fn plan<'i>(
    input: &NpyFile,
    indices: &'i Indices,
    axis: usize,
) -> Result<(Cow<'i, [usize]>, Vec<usize>)> {
    let shape = input.shape();
    if axis >= shape.len() {
        return Err(Error::invalid(format!(
            "axis {axis} is out of bounds for an array of dimension {}",
            shape.len()
        ))
        .with_path(input.path()));
    }
    let mut resolved = indices.resolve(shape[axis], axis)?;
    if input.order() == Order::Fortran && indices.shape().len() > 1 {
        // The output's memory order walks the index array in Fortran order too.
        let as_i64: Vec<i64> = resolved.iter().map(|&i| i as i64).collect();
        resolved = reorder(&as_i64, indices.shape(), Order::C, Order::Fortran)
            .into_iter()
            .map(|i| i as usize)
            .collect::<Vec<_>>()
            .into();
    }
    let mut out_shape = shape[..axis].to_vec();
    out_shape.extend_from_slice(indices.shape());
    out_shape.extend_from_slice(&shape[axis + 1..]);
    Ok((resolved, out_shape))
}

/// A take seen in the input's memory order: `outer` repetitions of gathering `indices` rows of
/// `row_bytes` bytes from an axis of `axis_len` rows.
struct RowGather<'i> {
    outer: usize,
    axis_len: usize,
    row_bytes: usize,
    indices: &'i [usize],
}

/// How many rows ahead of the copy the prefetch reaches.
const PREFETCH_DISTANCE: usize = 16;

impl<'i> RowGather<'i> {
    /// The gather of `indices` (resolved) along `axis` of `input`.
    fn of_file(input: &NpyFile, axis: usize, indices: &'i [usize]) -> RowGather<'i> {
        let itemsize = input.dtype().itemsize();
        RowGather::new(input.shape(), input.order(), axis, itemsize, indices)
    }

    fn new(
        shape: &[usize],
        order: Order,
        axis: usize,
        itemsize: usize,
        indices: &'i [usize],
    ) -> RowGather<'i> {
        let (before, after) = (&shape[..axis], &shape[axis + 1..]);
        // In Fortran order the axes after `axis` vary slowest.
        let (outer_axes, inner_axes) = match order {
            Order::C => (before, after),
            Order::Fortran => (after, before),
        };
        RowGather {
            outer: outer_axes.iter().product(),
            axis_len: shape[axis],
            row_bytes: inner_axes.iter().product::<usize>() * itemsize,
            indices,
        }
    }

    /// Whether the sorted walk can serve this gather: along the slowest axis (rows whole in
    /// the input), from a mapping whose pages the walk may release behind it (not
    /// copy-on-write, whose private pages hold this process's writes).
    fn can_walk_sorted(&self, input: &NpyFile) -> bool {
        self.outer == 1 && input.mode() != crate::array::Mode::CopyOnWrite
    }

    /// Whether an in-memory gather should walk the input in source order rather than read
    /// its rows at random in output order: only when the input is big, the gather reads a
    /// good part of it, and the rows are not all in the page cache. From the page cache
    /// random reads are cheap (a fault maps a whole large folio) and the direct gather, with
    /// its output written in order, is about twice as fast as the walk (1M rows of a warm
    /// 4 GiB table: 0.055-0.07 s against 0.10 s); from the disk every missing page is a
    /// synchronous read, and the walk's in-order faults let readahead stream the file
    /// instead (cold: 2.0-3.5 s against 3.1-3.9 s). A sample of [`CACHE_SAMPLES`] rows,
    /// evenly spaced in output order, stands for all: one not cached and the walk is taken.
    fn pays_to_walk(&self, input: &NpyFile) -> bool {
        let n = self.indices.len();
        if !is_big(input) || n * DENSE_GATHER < self.axis_len {
            return false;
        }
        let samples = n.min(CACHE_SAMPLES);
        let rows = (0..samples).map(|k| self.indices[k * n / samples] * self.row_bytes);
        input.count_cached(rows) < samples
    }

    fn rows(&self) -> usize {
        self.outer * self.indices.len()
    }

    fn source(&self, row: usize) -> usize {
        let m = self.indices.len();
        (row / m * self.axis_len + self.indices[row % m]) * self.row_bytes
    }

    /// Copy output rows `first..` into `out` (whole rows).
    fn copy_rows(&self, src: &[u8], first: usize, out: &mut [u8]) {
        let rb = self.row_bytes;
        if self.outer == 1 {
            // The common case (gather along the slowest axis): no index arithmetic per row.
            let indices = &self.indices[first..first + out.len() / rb];
            for (k, (dst, &i)) in out.chunks_exact_mut(rb).zip(indices).enumerate() {
                if let Some(&ahead) = indices.get(k + PREFETCH_DISTANCE) {
                    prefetch_row(src, ahead * rb, rb);
                }
                let at = i * rb;
                dst.copy_from_slice(&src[at..at + rb]);
            }
            return;
        }
        let rows = self.rows();
        for (k, dst) in out.chunks_exact_mut(rb).enumerate() {
            let ahead = first + k + PREFETCH_DISTANCE;
            if ahead < rows {
                prefetch_row(src, self.source(ahead), rb);
            }
            let at = self.source(first + k);
            dst.copy_from_slice(&src[at..at + rb]);
        }
    }

    fn copy_windowed(
        &self,
        input: &NpyFile,
        output: &mut NpyFile,
        options: &OutputOptions,
    ) -> Result<()> {
        let rb = self.row_bytes;
        let rows = self.rows();
        if rows == 0 || rb == 0 {
            return Ok(());
        }
        if self.can_walk_sorted(input) {
            let sizes = options.sorted_gather().or_else(|| {
                (options.is_bounded() && is_big(input)).then_some((STAGE_BYTES, GROUP_BYTES))
            });
            if let Some((stage_bytes, group_bytes)) = sizes {
                return self.copy_sorted(input, output, options, stage_bytes, group_bytes);
            }
        }
        let src = input.bytes();
        let window_rows = (OUT_WINDOW_BYTES / rb).max(1);
        let block_rows = ((256 << 10) / rb).max(1);
        let (mut start, mut released) = (0, 0);
        while start < rows {
            let end = (start + window_rows).min(rows);
            // Per-thread buffers written with pwrite: no page faults on the new file.
            (start..end)
                .step_by(block_rows)
                .collect::<Vec<_>>()
                .into_par_iter()
                .try_for_each_init(Vec::new, |buf, first| {
                    let last = (first + block_rows).min(end);
                    buf.resize((last - first) * rb, 0);
                    self.copy_rows(src, first, buf);
                    output.write_at(first * rb, buf)
                })?;
            // Gathers along an inner axis walk the input forwards: release what is behind.
            if self.outer > 1 {
                let behind = self.source(start).min(self.source(end - 1));
                input.release(released, behind.saturating_sub(released));
                released = released.max(behind);
            }
            options.report((end - start) * rb);
            start = end;
        }
        Ok(())
    }

    /// The bounded-memory gather along axis 0 of a big input.
    ///
    /// A random gather through the mapping maps every page it touches (with 1M random rows of
    /// 256 bytes from 4 GiB: nearly all of them) and keeps them resident until the copy ends.
    /// Instead the output is cut into a few equal windows of at most `stage_bytes`; the rows
    /// of each window are bucketed by source (one counting sort, buckets of
    /// [`BUCKET_BYTES`] of the input) and copied from the mapping in that order, in parallel
    /// groups of `group_bytes`, straight into their output places in one staging buffer (in
    /// huge pages); each group releases the pages behind its walk (`MADV_DONTNEED` every
    /// [`RELEASE_BYTES`]), so only a few MiB of the input are mapped at a time. The staging
    /// buffer then goes to the file in one `pwrite`. Work is proportional to the rows taken:
    /// every row is copied twice (mapping to staging, staging to the file), nothing is read
    /// back. Resident memory is the staging buffer, the index arrays and the walked pages.
    ///
    /// Each window walks the input again. With the page cache in large folios (a file read
    /// in order) a walk costs a few thousand faults, less than parking a window's rows in the
    /// output file and reading them back (what the previous version did), but not nothing:
    /// more, smaller windows cost ~0.1 s of CPU per extra walk of a 4 GiB input. Measured on
    /// the project machine (2 cores at load ~1.6, 1M rows of a 4 GiB (N, 64) float32 table
    /// into /dev/shm, 8 alternating runs): 0.31 s wall and 0.42 s CPU against 0.43 s and
    /// 0.72 s for the parking version, 183 MiB peak RSS; the C floor of the same design
    /// (`scripts/take_floor.c --mode stage --writers 1`) took 0.32 s and 0.41 s. About half
    /// of that CPU is the `pwrite`s of fresh tmpfs pages (~0.2 s for 256 MB, serial: tmpfs
    /// writes hold the inode lock, which is why there is one writer and not two). Tried and
    /// dropped: two staging buffers of 88 MiB (three windows) so one window is written while
    /// the next is gathered: 0.39 s wall, 0.68 s CPU and 223 MiB against 0.36 s, 0.54 s and
    /// 183 MiB in the same runs (load ~1.9): the third walk and the bigger staging cost more
    /// than the overlap saved.
    ///
    /// The output does not depend on the grouping or the thread count: every row has one
    /// place, and the order of writes to distinct places does not matter.
    fn copy_sorted(
        &self,
        input: &NpyFile,
        output: &mut NpyFile,
        options: &OutputOptions,
        stage_bytes: usize,
        group_bytes: usize,
    ) -> Result<()> {
        let rb = self.row_bytes;
        let rows = self.indices.len();
        // As few windows as the staging bound allows, of equal size (less to stage).
        let windows = rows.div_ceil((stage_bytes / rb).clamp(1, rows));
        let window_rows = rows.div_ceil(windows);
        let group_rows = (group_bytes / rb).max(1);
        let bucket_rows = bucket_rows(rb, self.axis_len);
        // Each window's (source row, output row within the window), grouped by source
        // bucket; the windows are independent, so they are bucketed in parallel.
        let orders: Vec<Vec<(usize, usize)>> = self
            .indices
            .par_chunks(window_rows)
            .map(|window| bucket_by_source(window, bucket_rows, self.axis_len))
            .collect();
        let mut stage_memory = crate::map::scratch(window_rows * rb)?;
        for (w, order) in orders.iter().enumerate() {
            let stage = &mut stage_memory[..order.len() * rb];
            gather_window(input, order, stage, rb, group_rows, bucket_rows)?;
            output.write_at(w * window_rows * rb, stage)?;
            options.report(stage.len());
        }
        Ok(())
    }

    /// The whole gather into `out` (all output rows, in memory): like [`Self::copy_sorted`]
    /// with one window that is the result itself where [`Self::pays_to_walk`] (or in groups
    /// of `sorted_group` rows when given); else in parallel blocks of output rows straight
    /// from the mapping.
    fn copy_to_memory(
        &self,
        input: &NpyFile,
        out: &mut [u8],
        sorted_group: Option<usize>,
    ) -> Result<()> {
        let rb = self.row_bytes;
        if self.rows() == 0 || rb == 0 {
            return Ok(());
        }
        if self.can_walk_sorted(input) && (sorted_group.is_some() || self.pays_to_walk(input)) {
            let bucket_rows = bucket_rows(rb, self.axis_len);
            let order = bucket_by_source(self.indices, bucket_rows, self.axis_len);
            let group_rows = sorted_group.unwrap_or(GROUP_BYTES / rb).max(1);
            return gather_window(input, &order, out, rb, group_rows, bucket_rows);
        }
        let src = input.bytes();
        let block_rows = ((256 << 10) / rb).max(1);
        out.par_chunks_mut(block_rows * rb)
            .enumerate()
            .for_each(|(b, block)| self.copy_rows(src, b * block_rows, block));
        Ok(())
    }
}

/// Copy the rows of one output window from the mapping of `input` into `stage` (rows of `rb`
/// bytes), walking `order` ((source row, row of the window), grouped by source bucket of
/// `bucket_rows`) in parallel groups of `group_rows` that release the pages behind them.
fn gather_window(
    input: &NpyFile,
    order: &[(usize, usize)],
    stage: &mut [u8],
    rb: usize,
    group_rows: usize,
    bucket_rows: usize,
) -> Result<()> {
    let slots = crate::map::split_rows(stage, rb, order, group_rows)
        .ok_or_else(|| Error::invalid("internal error: a take window names an output row twice"))?;
    slots.into_par_iter().for_each(|mut slots| {
        let sources = slots.entries();
        for_each_mapped_row(
            input,
            sources,
            rb,
            RELEASE_BYTES,
            bucket_rows * rb,
            |k, row| slots.put(k, row),
        );
    });
    Ok(())
}

/// Whether `input` is big enough for the sorted walk to pay (see [`SORTED_MIN_INPUT_BYTES`]).
fn is_big(input: &NpyFile) -> bool {
    input.bytes().len() > SORTED_MIN_INPUT_BYTES
}

/// Rows per source bucket of the sorted gather for rows of `rb` bytes on an axis of
/// `axis_len`: [`BUCKET_BYTES`] of input, more when that would make over [`MAX_BUCKETS`].
fn bucket_rows(rb: usize, axis_len: usize) -> usize {
    (BUCKET_BYTES / rb)
        .max(axis_len.div_ceil(MAX_BUCKETS))
        .max(1)
        .next_power_of_two()
}

/// `(source row, position)` for each of `window`'s source rows (all `< axis_len`), grouped by
/// source bucket of `bucket_rows` rows, a power of two (a counting sort, stable: within a
/// bucket in window order). A bucket spans a small, cache-sized part of the input, so walking
/// the result goes through the input in order, as a full sort would, at a fraction of the
/// cost.
///
/// In parallel: chunks of the window are sorted on their own, then laid out bucket by bucket
/// (chunk after chunk within a bucket, so the result is the same as one sort's), each thread
/// filling a range of buckets. Done serially it was a fifth of an in-memory take of 1M rows
/// (~35 ms, a division per index and a cold 16 MB output).
fn bucket_by_source(window: &[usize], bucket_rows: usize, axis_len: usize) -> Vec<(usize, usize)> {
    let chunk = window
        .len()
        .div_ceil(rayon::current_num_threads())
        .max(BUCKET_CHUNK_MIN);
    bucket_in_chunks(window, bucket_rows, axis_len, chunk)
}

/// [`bucket_by_source`] with chunks of `chunk` indices sorted on their own.
fn bucket_in_chunks(
    window: &[usize],
    bucket_rows: usize,
    axis_len: usize,
    chunk: usize,
) -> Vec<(usize, usize)> {
    debug_assert!(bucket_rows.is_power_of_two() && chunk > 0);
    let shift = bucket_rows.max(1).trailing_zeros();
    let buckets = (axis_len >> shift) + 1;
    // Each chunk: where each bucket starts among its entries, and the entries so grouped.
    type Sorted = (Vec<usize>, Vec<(usize, usize)>);
    let parts: Vec<Sorted> = window
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, part)| {
            let mut start = vec![0usize; buckets + 1];
            for &source in part {
                start[(source >> shift) + 1] += 1;
            }
            for b in 0..buckets {
                start[b + 1] += start[b];
            }
            let mut next = start.clone();
            let mut sorted = vec![(0, 0); part.len()];
            for (k, &source) in part.iter().enumerate() {
                let slot = &mut next[source >> shift];
                sorted[*slot] = (source, c * chunk + k);
                *slot += 1;
            }
            (start, sorted)
        })
        .collect();
    if parts.len() <= 1 {
        return parts.into_iter().next().map(|(_, s)| s).unwrap_or_default();
    }
    let bucket_len = |b: usize| parts.iter().map(|(st, _)| st[b + 1] - st[b]).sum::<usize>();
    // Cut the buckets into ranges of about equal entries, one per task, and the output with
    // them: each task fills its own slice, bucket after bucket.
    let tasks = rayon::current_num_threads().max(1);
    let per_task = window.len().div_ceil(tasks).max(1);
    let mut ranges = Vec::with_capacity(tasks);
    let (mut first, mut filled) = (0, 0);
    for b in 0..buckets {
        filled += bucket_len(b);
        if filled >= per_task || b + 1 == buckets {
            ranges.push((first..b + 1, filled));
            (first, filled) = (b + 1, 0);
        }
    }
    let mut order = vec![(0, 0); window.len()];
    let mut rest = order.as_mut_slice();
    let mut pieces = Vec::with_capacity(ranges.len());
    for (range, len) in ranges {
        let (piece, tail) = rest.split_at_mut(len);
        pieces.push((range, piece));
        rest = tail;
    }
    pieces.into_par_iter().for_each(|(range, piece)| {
        let mut at = 0;
        for b in range {
            for (start, sorted) in &parts {
                let segment = &sorted[start[b]..start[b + 1]];
                piece[at..at + segment.len()].copy_from_slice(segment);
                at += segment.len();
            }
        }
    });
    order
}

/// Hand each row of `sources` ((source row, tag), in source order up to `slack_bytes`: a
/// row never comes more than that before one handed out earlier) of `rb` bytes to
/// `put(k, bytes)`, `k` its position in `sources`, straight from the mapping of `input`, and
/// release the pages behind the walk every `release_bytes` ([`RELEASE_BYTES`]) so they never
/// pile up in the resident set.
fn for_each_mapped_row(
    input: &NpyFile,
    sources: &[(usize, usize)],
    rb: usize,
    release_bytes: usize,
    slack_bytes: usize,
    mut put: impl FnMut(usize, &[u8]),
) {
    let Some(&(first, _)) = sources.first() else {
        return;
    };
    let src = input.bytes();
    let align = |at: usize| at / RELEASE_ALIGN * RELEASE_ALIGN;
    let mut released = align((first * rb).saturating_sub(slack_bytes));
    let mut end = 0;
    for (k, &(source, _)) in sources.iter().enumerate() {
        if let Some(&(ahead, _)) = sources.get(k + PREFETCH_DISTANCE) {
            prefetch_row(src, ahead * rb, rb);
        }
        let at = source * rb;
        if at >= released + release_bytes + slack_bytes + RELEASE_ALIGN {
            // Rows still to come may lie up to `slack_bytes` before this one.
            let behind = align(at - slack_bytes);
            input.release(released, behind - released);
            released = behind;
        }
        end = end.max(at + rb);
        put(k, &src[at..at + rb]);
    }
    input.release(released, end - released);
}

/// Prefetch the row of `rb` bytes at `at` of `src`: each of its 64-byte lines up to
/// [`PREFETCH_LINES`], not only the first (the others would be demand misses).
#[inline(always)]
fn prefetch_row(src: &[u8], at: usize, rb: usize) {
    let lines = rb.div_ceil(64).min(PREFETCH_LINES);
    for line in 0..lines {
        prefetch(src, at + line * 64);
    }
}

/// Rows sampled for whether a gather's input is in the page cache ([`RowGather::pays_to_walk`]):
/// one `mincore` call each, ~0.4 ms in all.
const CACHE_SAMPLES: usize = 256;

/// A gather of fewer than one row in this many reads too little of its input for the walk
/// in source order to stream it: it faults the same scattered pages as a random gather.
/// Measured from a cold 4 GiB table (random rows, 2 runs each, walk against direct): one row
/// in 1024 3.9-4.2 s against 3.0-3.4 s, one in 256 and one in 64 within the disk's noise of
/// each other (3.6-4.1 s), one in 16 2.0-3.5 s against 3.1-3.9 s.
const DENSE_GATHER: usize = 64;

/// The least indices per chunk of the parallel bucketing: below that one thread sorts them.
const BUCKET_CHUNK_MIN: usize = 1 << 16;

/// How far the sorted gather walks the mapping before releasing the pages behind it.
const RELEASE_BYTES: usize = 8 << 20;
/// Release boundaries are rounded down to this: the size of the page cache's largest folios
/// (a PMD), so a release never splits a huge mapping the walk is still reading.
const RELEASE_ALIGN: usize = 2 << 20;
/// How many 64-byte lines of a row ahead the gathers prefetch (a 256-byte row is 4).
const PREFETCH_LINES: usize = 4;
/// The part of the input one bucket of the sorted gather spans: rows within it are copied in
/// window order, which costs nothing while the bucket is small enough for the L2 cache.
const BUCKET_BYTES: usize = 1 << 20;
/// At most this many buckets per window (for huge inputs the buckets grow instead).
const MAX_BUCKETS: usize = 1 << 16;

/// Inputs above this size take the sorted, bounded-memory gather along axis 0.
const SORTED_MIN_INPUT_BYTES: usize = 4 * crate::engine::WINDOW_BYTES;
/// Output bytes staged in RAM at once by the sorted gather (its one big buffer, in huge pages
/// where the kernel allows). 1M rows of 256 bytes take two windows of 122 MiB: peak RSS
/// stays under 256 MiB with the index arrays and walked pages.
const STAGE_BYTES: usize = 128 << 20;
/// Gathered bytes per parallel group of the sorted gather.
const GROUP_BYTES: usize = 4 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_every_integer_width_and_order() {
        assert_eq!(decode_index(&[0xff], true, false), Some(-1));
        assert_eq!(decode_index(&[0xff], false, false), Some(255));
        assert_eq!(decode_index(&[0xff, 0xfe], true, true), Some(-2));
        assert_eq!(decode_index(&[0xfe, 0xff], true, false), Some(-2));
        assert_eq!(decode_index(&[0, 0, 1, 0], false, true), Some(256));
        assert_eq!(decode_index(&[0xff; 8], false, false), None);
        assert_eq!(decode_index(&[0xff; 8], true, false), Some(-1));
    }

    #[test]
    fn a_result_too_big_for_memory_is_an_error_naming_the_file() {
        // Two rows of 1 TiB (a sparse file): 256 of them are more than any address space.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.npy");
        let mut wide = NpyArray::<u8>::create(&path, &[2, 1 << 40], Order::C).unwrap();
        wide.persist().unwrap();
        let e = take(&wide, &Indices::new(vec![1; 256]), 0).unwrap_err();
        assert!(e.to_string().contains("does not fit in memory"), "{e}");
        assert!(e.to_string().contains("wide.npy"), "{e}");
    }

    #[test]
    #[cfg(target_os = "linux")] // where `mincore` tells what is cached
    fn a_dense_gather_walks_only_rows_that_are_not_cached() {
        // A sparse input past the size where walking may pay: its holes are in no cache.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.npy");
        let rows = (SORTED_MIN_INPUT_BYTES >> 12) + 1;
        let mut big = NpyArray::<u8>::create(&path, &[rows, 4096], Order::C).unwrap();
        big.persist().unwrap();
        drop(big);
        let input = NpyFile::open(&path).unwrap();
        let dense: Vec<usize> = (0..rows).step_by(DENSE_GATHER / 2).collect();
        let sparse: Vec<usize> = (0..rows).step_by(DENSE_GATHER * 2).collect();
        let gather = |indices| RowGather::of_file(&input, 0, indices);
        assert!(gather(&dense).pays_to_walk(&input));
        assert!(!gather(&sparse).pays_to_walk(&input), "too sparse to walk");
        // Reading the first half of the rows brings them into the page cache: a gather of
        // those reads at random, one of every row still walks.
        let first_half: Vec<usize> = dense.iter().copied().filter(|&r| r < rows / 2).collect();
        let read: u64 = first_half
            .iter()
            .map(|&r| u64::from(input.bytes()[r * 4096]))
            .sum();
        assert_eq!(read, 0);
        let twice = [&first_half[..], &first_half[..]].concat();
        assert!(!gather(&twice).pays_to_walk(&input));
        assert!(gather(&dense).pays_to_walk(&input));
    }

    #[test]
    fn bad_index_names_value_position_and_axis() {
        let e = Indices::new(vec![0, -3, 5, 2]).resolve(5, 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "index 5 at position 2 is out of bounds for axis 1 with size 5"
        );
        assert_eq!(*Indices::new(vec![-5, 4]).resolve(5, 0).unwrap(), [0, 4]);
        assert_eq!(*Indices::new(vec![4, 0]).resolve(5, 0).unwrap(), [4, 0]);
    }

    /// The naive twin: numpy.take on a C-order array of `shape`, element by element.
    fn naive_take(src: &[u8], shape: &[usize], isz: usize, axis: usize, idx: &[usize]) -> Vec<u8> {
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis + 1..].iter().product();
        let mut out = Vec::new();
        for o in 0..outer {
            for &i in idx {
                for e in 0..inner {
                    let flat = (o * shape[axis] + i) * inner + e;
                    out.extend_from_slice(&src[flat * isz..(flat + 1) * isz]);
                }
            }
        }
        out
    }

    #[test]
    fn mapped_walk_reads_every_row_across_releases() {
        let dir = tempfile::tempdir().unwrap();
        let cols = RELEASE_ALIGN / 4 / 3 + 5; // rows straddle the release boundaries
        let shape = [40, cols];
        let rb = cols * 4;
        let dtype = crate::DType::parse("<u4").unwrap();
        let mut input =
            NpyFile::create(dir.path().join("in.npy"), dtype, &shape, Order::C).unwrap();
        for (i, b) in input.bytes_mut().unwrap().iter_mut().enumerate() {
            *b = (i % 253) as u8;
        }
        input.persist().unwrap();
        // Sorted, and sorted by buckets of 4 rows only (rows go back up to 3 rows).
        let sorted = [0, 0, 1, 5, 6, 6, 20, 21, 39];
        let bucketed = [3, 0, 2, 1, 1, 7, 4, 9, 8, 11, 23, 20, 21, 36, 39, 37];
        for (rows, slack) in [(&sorted[..], 0), (&bucketed[..], 3 * rb)] {
            let sources: Vec<(usize, usize)> = rows
                .iter()
                .enumerate()
                .map(|(tag, &row)| (row, tag))
                .collect();
            for step in [RELEASE_ALIGN, 2 * RELEASE_ALIGN, RELEASE_BYTES] {
                let mut seen = Vec::new();
                for_each_mapped_row(&input, &sources, rb, step, slack, |k, row| {
                    seen.push((sources[k].1, row.to_vec()));
                });
                let expected: Vec<(usize, Vec<u8>)> = sources
                    .iter()
                    .map(|&(row, tag)| (tag, input.bytes()[row * rb..(row + 1) * rb].to_vec()))
                    .collect();
                assert_eq!(seen, expected, "release step {step}, slack {slack}");
            }
        }
    }

    #[test]
    fn buckets_group_by_source_and_keep_window_order_within() {
        let window = [9, 0, 5, 9, 1, 4, 8, 0];
        // Buckets of 4 rows of an axis of 10: [0, 4), [4, 8), [8, 10).
        assert_eq!(
            bucket_by_source(&window, 4, 10),
            vec![
                (0, 1),
                (1, 4),
                (0, 7),
                (5, 2),
                (4, 5),
                (9, 0),
                (9, 3),
                (8, 6)
            ]
        );
        assert!(bucket_by_source(&[], 4, 10).is_empty());
        // 1 MiB of input per bucket, unless that makes too many buckets.
        assert_eq!(bucket_rows(256, 1 << 24), 4096);
        assert_eq!(bucket_rows(256, 1 << 40), (1 << 40) / MAX_BUCKETS);
        assert_eq!(bucket_rows(4 << 20, 10), 1);
    }

    /// The axis `axis_pick` picks of `shape`, its length, and valid indices along it made from
    /// `raw` (negatives included: numpy wraps them), as values and as an index array of shape
    /// `(2, n / 2)` when `two_d` and the count is even, else 1-d.
    fn valid_indices(
        shape: &[usize],
        axis_pick: usize,
        raw: &[i64],
        two_d: bool,
    ) -> (usize, i64, Vec<i64>, Indices) {
        let axis = axis_pick % shape.len();
        let len = shape[axis] as i64;
        let values: Vec<i64> = raw.iter().map(|r| r.rem_euclid(2 * len) - len).collect();
        let indices = if two_d && values.len().is_multiple_of(2) {
            Indices::with_shape(values.clone(), &[2, values.len() / 2]).unwrap()
        } else {
            Indices::new(values.clone())
        };
        (axis, len, values, indices)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn chunked_bucketing_equals_one_stable_sort(
            axis_len in 1usize..100,
            raw in proptest::collection::vec(0usize..100, 0..300),
            log_rows in 0u32..4,
            chunk in 1usize..40,
        ) {
            let window: Vec<usize> = raw.iter().map(|r| r % axis_len).collect();
            let bucket_rows = 1 << log_rows;
            let mut want: Vec<(usize, usize)> = window.iter().copied().zip(0..).collect();
            want.sort_by_key(|&(source, _)| source / bucket_rows);
            prop_assert_eq!(bucket_in_chunks(&window, bucket_rows, axis_len, chunk), want);
        }

        #[test]
        fn row_gather_equals_naive_take(
            shape in proptest::collection::vec(1usize..5, 1..4),
            axis_pick in 0usize..3,
            isz in prop_oneof![Just(1usize), Just(4), Just(8)],
            raw in proptest::collection::vec(0usize..100, 0..12),
            block in 1usize..5,
        ) {
            let axis = axis_pick % shape.len();
            let idx: Vec<usize> = raw.iter().map(|r| r % shape[axis]).collect();
            let total: usize = shape.iter().product();
            let src: Vec<u8> = (0..total * isz).map(|i| (i % 253) as u8).collect();
            let g = RowGather::new(&shape, Order::C, axis, isz, &idx);
            let mut out = vec![0u8; g.rows() * g.row_bytes];
            if g.row_bytes > 0 {
                for (b, chunk) in out.chunks_mut(block * g.row_bytes).enumerate() {
                    g.copy_rows(&src, b * block, chunk);
                }
            }
            prop_assert_eq!(out, naive_take(&src, &shape, isz, axis, &idx));
        }

        #[test]
        fn sorted_gather_equals_naive_take(
            rows in 1usize..60,
            cols in 1usize..4,
            raw in proptest::collection::vec(0usize..1000, 0..80),
            window in 1usize..20,
            group in 1usize..20,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let shape = [rows, cols];
            let mut input = NpyFile::create(dir.path().join("in.npy"), crate::DType::parse("<u4").unwrap(), &shape, Order::C).unwrap();
            for (i, b) in input.bytes_mut().unwrap().iter_mut().enumerate() {
                *b = (i % 251) as u8;
            }
            input.persist().unwrap();
            let idx: Vec<usize> = raw.iter().map(|r| r % rows).collect();
            let g = RowGather::new(&shape, Order::C, 0, 4, &idx);
            let mut out = NpyFile::create(dir.path().join("out.npy"), crate::DType::parse("<u4").unwrap(), &[idx.len(), cols], Order::C).unwrap();
            if !idx.is_empty() {
                g.copy_sorted(&input, &mut out, &OutputOptions::new(), window * g.row_bytes, group * g.row_bytes).unwrap();
            }
            prop_assert_eq!(out.bytes().to_vec(), naive_take(input.bytes(), &shape, 4, 0, &idx));
        }

        #[test]
        fn forced_sorted_take_to_file_equals_mapped_take(
            shape in proptest::collection::vec(1usize..6, 1..4),
            axis_pick in 0usize..3,
            fortran in any::<bool>(),
            descr in prop_oneof![Just("<u2"), Just(">i4"), Just("<f8"), Just("|u1")],
            raw in proptest::collection::vec(-40i64..40, 0..30),
            two_d in any::<bool>(),
            stage in 1usize..12,
            group in 1usize..12,
        ) {
            let (axis, len, values, indices) = valid_indices(&shape, axis_pick, &raw, two_d);
            let dir = tempfile::tempdir().unwrap();
            let order = if fortran { Order::Fortran } else { Order::C };
            let dtype = crate::DType::parse(descr).unwrap();
            let mut input = NpyFile::create(dir.path().join("in.npy"), dtype, &shape, order).unwrap();
            for (i, b) in input.bytes_mut().unwrap().iter_mut().enumerate() {
                *b = (i * 7 % 251) as u8;
            }
            input.persist().unwrap();
            let row_bytes = RowGather::new(&shape, order, axis, dtype.itemsize(), &[]).row_bytes;
            let mapped = dir.path().join("mapped.npy");
            let sorted = dir.path().join("sorted.npy");
            take_to_file(&input, &indices, axis, &mapped, &OutputOptions::new()).unwrap();
            let forced = OutputOptions::new().force_sorted_gather(stage * row_bytes, group * row_bytes);
            take_to_file(&input, &indices, axis, &sorted, &forced).unwrap();
            prop_assert_eq!(std::fs::read(&sorted).unwrap(), std::fs::read(&mapped).unwrap());
            if order == Order::C {
                let idx: Vec<usize> = values.iter().map(|&v| v.rem_euclid(len) as usize).collect();
                let out = NpyFile::open(&sorted).unwrap();
                prop_assert_eq!(
                    out.bytes().to_vec(),
                    naive_take(input.bytes(), &shape, dtype.itemsize(), axis, &idx)
                );
            }
        }

        #[test]
        fn take_in_memory_equals_the_file_and_ndarray_select(
            shape in proptest::collection::vec(1usize..6, 1..4),
            axis_pick in 0usize..3,
            fortran in any::<bool>(),
            raw in proptest::collection::vec(-40i64..40, 0..30),
            two_d in any::<bool>(),
            group in 1usize..12,
        ) {
            let (axis, len, values, indices) = valid_indices(&shape, axis_pick, &raw, two_d);
            let dir = tempfile::tempdir().unwrap();
            let order = if fortran { Order::Fortran } else { Order::C };
            let mut input = NpyArray::<f32>::create(dir.path().join("in.npy"), &shape, order).unwrap();
            for (i, x) in input.as_slice_mut().unwrap().iter_mut().enumerate() {
                *x = i as f32 - 7.5;
            }
            input.persist().unwrap();
            let file = dir.path().join("taken.npy");
            take_to_file(input.file(), &indices, axis, &file, &OutputOptions::new()).unwrap();
            let from_file = NpyArray::<f32>::open(&file).unwrap().view().to_owned();
            let mapped = take(&input, &indices, axis).unwrap();
            let sorted = take_in_memory(&input, &indices, axis, Some(group)).unwrap();
            // Same values, shape and memory order as the file take.
            prop_assert_eq!(&mapped, &from_file);
            prop_assert_eq!(&sorted, &from_file);
            // (A 1-d input is C order whatever was asked, like numpy's headers.)
            let memory_order = match input.file().order() {
                Order::C => mapped.is_standard_layout(),
                Order::Fortran => mapped.t().is_standard_layout(),
            };
            prop_assert!(memory_order, "strides {:?}", mapped.strides());
            if indices.shape().len() == 1 {
                let wrapped: Vec<usize> = values.iter().map(|&v| v.rem_euclid(len) as usize).collect();
                prop_assert_eq!(&mapped, &input.view().select(ndarray::Axis(axis), &wrapped));
            }
        }

        #[test]
        fn decode_indices_equals_element_by_element(
            raw in proptest::collection::vec(any::<u8>(), 0..200),
            size in prop_oneof![Just(1usize), Just(2), Just(4), Just(8)],
            signed in any::<bool>(),
            big in any::<bool>(),
        ) {
            let n = raw.len() / size;
            let mut out = vec![0i64; n];
            let bad = decode_indices(&raw, size, signed, big, &mut out);
            let naive: Vec<Option<i64>> =
                raw.chunks_exact(size).map(|b| decode_index(b, signed, big)).collect();
            let first_bad = naive.iter().position(Option::is_none);
            prop_assert_eq!(bad, first_bad);
            let upto = first_bad.unwrap_or(n);
            let expected: Vec<i64> = naive[..upto].iter().map(|v| v.unwrap_or(0)).collect();
            prop_assert_eq!(&out[..upto], &expected[..]);
        }

        #[test]
        fn reorder_round_trips(shape in proptest::collection::vec(1usize..4, 0..4)) {
            let n: usize = shape.iter().product();
            let v: Vec<i64> = (0..n as i64).collect();
            let f = reorder(&v, &shape, Order::C, Order::Fortran);
            prop_assert_eq!(reorder(&f, &shape, Order::Fortran, Order::C), v);
        }
    }
}
