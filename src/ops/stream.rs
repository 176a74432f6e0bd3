//! The streaming machinery shared by `convert`, `cat` and `append`: an output described as a
//! sequence of elements in a memory order, filled block by block in parallel from mapped
//! sources (casting, byte-swapping and re-ordering on the way) and handed to a sink that
//! writes each block at its offset.
//!
//! Blocks come from a [`ChunkPlan`] over the output elements and stream through the engine's
//! skeleton ([`stream_blocks`]: in order from a shared counter, no barrier between windows
//! of about [`WINDOW_BYTES`] of output), so resident memory stays
//! bounded: each thread owns one block buffer, the source pages behind a finished window are
//! released and those of the next asked for. A safe cast that fails reports the failure with
//! the smallest key (the C-order index) over all blocks, so the error is the same whatever
//! the thread count.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::array::NpyFile;
use crate::dtype::DType;
use crate::engine::{ChunkPlan, Paging, WINDOW_BYTES, stream_blocks};
use crate::error::{Error, ErrorKind, Result};
use crate::header::Order;
use crate::ops::cast::{CastMode, cast_bytes};

/// A safe-cast failure inside a block.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    /// Which source (index into the caller's list).
    pub(crate) source: usize,
    /// Flat C-order index in that source.
    pub(crate) index: u64,
    /// Ordering key across blocks: failures with smaller keys win.
    pub(crate) key: (usize, u64),
    /// The value as text.
    pub(crate) value: String,
}

/// Memory layout helpers for an array of `shape` stored in `order`.
fn strides(shape: &[usize], order: Order) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut acc = 1;
    let axes: Vec<usize> = match order {
        Order::C => (0..shape.len()).rev().collect(),
        Order::Fortran => (0..shape.len()).collect(),
    };
    for k in axes {
        strides[k] = acc;
        acc *= shape[k];
    }
    strides
}

/// The multi-index of flat position `flat` in `order`.
fn unravel(mut flat: usize, shape: &[usize], order: Order) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    let axes: Vec<usize> = match order {
        Order::C => (0..shape.len()).rev().collect(),
        Order::Fortran => (0..shape.len()).collect(),
    };
    for k in axes {
        let n = shape[k].max(1);
        index[k] = flat % n;
        flat /= n;
    }
    index
}

/// The C-order flat index of the element at memory position `flat` of a file in `order`.
pub(crate) fn c_index(flat: usize, shape: &[usize], order: Order) -> u64 {
    if order == Order::C {
        return flat as u64;
    }
    let index = unravel(flat, shape, order);
    let c = strides(shape, Order::C);
    index.iter().zip(&c).map(|(i, s)| i * s).sum::<usize>() as u64
}

/// True when elements of `shape` lie in the same sequence in both orders.
pub(crate) fn orders_coincide(shape: &[usize]) -> bool {
    shape.contains(&0) || shape.iter().filter(|&&n| n > 1).count() <= 1
}

thread_local! {
    /// Source elements gathered into output order (for order changes).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Fill `out` with the elements `range` (flat positions in `order`) of `src`, cast to `to`.
/// `source` is the source's number, for failures.
pub(crate) fn fill(
    src: &NpyFile,
    source: usize,
    range: Range<usize>,
    order: Order,
    to: DType,
    mode: CastMode,
    out: &mut [u8],
) -> std::result::Result<(), Failure> {
    let from = src.dtype();
    let size = from.itemsize();
    let shape = src.shape();
    let same = src.order() == order || orders_coincide(shape);
    let fail = |position: usize, value: String| {
        let index = c_index(range.start + position, shape, order);
        Failure {
            source,
            index,
            key: (source, index),
            value,
        }
    };
    if same {
        let bytes = &src.bytes()[range.start * size..range.end * size];
        return match cast_bytes(bytes, from, out, to, mode) {
            Ok(()) => Ok(()),
            Err(_) if order == Order::Fortran && !orders_coincide(shape) => {
                Err(first_in_c_order(bytes, from, to, |p| {
                    fail(p, String::new())
                }))
            }
            Err(unfit) => Err(fail(unfit.position, unfit.value)),
        };
    }
    SCRATCH.with_borrow_mut(|scratch| {
        scratch.clear();
        gather(src, range.clone(), order, scratch);
        cast_bytes(scratch, from, out, to, mode)
            .map_err(|_| first_in_c_order(scratch, from, to, |p| fail(p, String::new())))
    })
}

/// On the error path of a block not in C order: the failing element with the smallest C
/// index (scanning element by element).
fn first_in_c_order(
    bytes: &[u8],
    from: DType,
    to: DType,
    fail_at: impl Fn(usize) -> Failure,
) -> Failure {
    let size = from.itemsize();
    let mut one = vec![0u8; to.itemsize()];
    let mut best: Option<Failure> = None;
    for (p, element) in bytes.chunks_exact(size).enumerate() {
        if let Err(unfit) = cast_bytes(element, from, &mut one, to, CastMode::Safe) {
            let mut f = fail_at(p);
            if best.as_ref().is_none_or(|b| f.key < b.key) {
                f.value = unfit.value;
                best = Some(f);
            }
        }
    }
    best.expect("a failed block has a failing element")
}

/// Copy the source elements at flat positions `range` of `order` (the source is stored in
/// the other order) into `scratch`, walking the output order with an odometer.
fn gather(src: &NpyFile, range: Range<usize>, order: Order, scratch: &mut Vec<u8>) {
    let size = src.dtype().itemsize();
    let shape = src.shape();
    let bytes = src.bytes();
    let src_strides = strides(shape, src.order());
    // Axes from fastest to slowest in the output order.
    let axes: Vec<usize> = match order {
        Order::C => (0..shape.len()).rev().collect(),
        Order::Fortran => (0..shape.len()).collect(),
    };
    let mut index = unravel(range.start, shape, order);
    let mut offset: usize = index.iter().zip(&src_strides).map(|(i, s)| i * s).sum();
    let fast = axes[0];
    let fast_stride = src_strides[fast] * size;
    let mut left = range.len();
    while left > 0 {
        let run = (shape[fast] - index[fast]).min(left);
        let mut at = offset * size;
        for _ in 0..run {
            scratch.extend_from_slice(&bytes[at..at + size]);
            at += fast_stride;
        }
        left -= run;
        // advance the odometer by `run` along the fast axis, carrying
        offset -= index[fast] * src_strides[fast];
        index[fast] += run;
        offset += index[fast] * src_strides[fast];
        for (n, &k) in axes.iter().enumerate() {
            if index[k] < shape[k] || n + 1 == axes.len() {
                break;
            }
            offset -= index[k] * src_strides[k];
            index[k] = 0;
            let next = axes[n + 1];
            index[next] += 1;
            offset += src_strides[next];
        }
    }
}

thread_local! {
    /// One block of output, aligned for any element type.
    static BLOCK: RefCell<Vec<u128>> = const { RefCell::new(Vec::new()) };
}

/// How a streamed pass is cut, reports and bounds itself.
pub(crate) struct Pass<'a> {
    /// Blocks of output elements.
    pub(crate) plan: ChunkPlan,
    /// Output element size.
    pub(crate) out_itemsize: usize,
    /// True when failure keys grow with the output position, so the first failing block
    /// holds the answer and the blocks after it need not run.
    pub(crate) keys_in_output_order: bool,
    /// The source pages, a window of output blocks at a time.
    pub(crate) paging: &'a dyn Paging,
    /// Called after each block, in order, with the output bytes it produced.
    pub(crate) progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// Blocks of about [`BLOCK_BYTES`](crate::engine::BLOCK_BYTES) of the largest element size
/// involved, over `elements` output elements of `out_itemsize` bytes read from sources of
/// `source_itemsizes`.
pub(crate) fn output_plan(
    elements: usize,
    out_itemsize: usize,
    source_itemsizes: impl Iterator<Item = usize>,
) -> ChunkPlan {
    let max_itemsize = source_itemsizes.chain([out_itemsize]).max().unwrap_or(1);
    ChunkPlan::new(elements, max_itemsize.max(1))
}

/// [`Paging`] by windows of output elements: `release` gets each finished window, `announce`
/// the one after the window being filled.
pub(crate) struct ElementPaging<'a> {
    pub(crate) plan: &'a ChunkPlan,
    pub(crate) release: &'a (dyn Fn(Range<usize>) + Sync),
    pub(crate) announce: &'a (dyn Fn(Range<usize>) + Sync),
}

impl Paging for ElementPaging<'_> {
    fn release(&self, blocks: Range<usize>) {
        (self.release)(self.plan.blocks_units(blocks));
    }

    fn announce(&self, blocks: Range<usize>) {
        (self.announce)(self.plan.blocks_units(blocks));
    }
}

/// Run a pass: `fill(range, out)` produces the output elements `range` into `out`,
/// `sink(element_offset, bytes)` writes them. Blocks run in parallel; the first failure by
/// key is returned as an error built by `on_failure`, or else the first write error in
/// block order. After a write error, and after a failure when keys grow with the output
/// position, later blocks are skipped (the blocks before still run: one of them may hold a
/// smaller key).
pub(crate) fn run(
    pass: &Pass<'_>,
    fill: impl Fn(Range<usize>, &mut [u8]) -> std::result::Result<(), Failure> + Sync,
    sink: impl Fn(usize, &[u8]) -> Result<()> + Sync,
    on_failure: impl Fn(Failure) -> Error,
) -> Result<()> {
    let plan = &pass.plan;
    // Blocks after this one are skipped.
    let last_needed = AtomicUsize::new(usize::MAX);
    let mut worst: Option<Failure> = None;
    let mut io: Option<Error> = None;
    stream_blocks(
        plan,
        pass.paging,
        pass.progress,
        |b| (plan.block(b).len() * pass.out_itemsize) as u64,
        |_| (),
        |(), i| {
            if i > last_needed.load(Ordering::Relaxed) {
                return Ok(());
            }
            let range = plan.block(i);
            let len = range.len() * pass.out_itemsize;
            let result = BLOCK.with_borrow_mut(|buf| {
                buf.resize(len.div_ceil(16), 0);
                let out = &mut bytemuck::cast_slice_mut::<u128, u8>(buf)[..len];
                fill(range.clone(), out).map_err(BlockError::Failure)?;
                sink(range.start, out).map_err(BlockError::Io)
            });
            let stop = match &result {
                Err(BlockError::Io(_)) => true,
                Err(BlockError::Failure(_)) => pass.keys_in_output_order,
                Ok(()) => false,
            };
            if stop {
                last_needed.fetch_min(i, Ordering::Relaxed);
            }
            result
        },
        |result| match result {
            Ok(()) => {}
            Err(BlockError::Io(e)) => {
                io.get_or_insert(e);
            }
            Err(BlockError::Failure(f)) => {
                if worst.as_ref().is_none_or(|w| f.key < w.key) {
                    worst = Some(f);
                }
            }
        },
    );
    match (worst, io) {
        (Some(f), _) => Err(on_failure(f)),
        (None, Some(e)) => Err(e),
        (None, None) => Ok(()),
    }
}

enum BlockError {
    Failure(Failure),
    Io(Error),
}

/// The error for a failed safe cast into `target`.
pub(crate) fn cast_error(f: Failure, target: DType, path: &std::path::Path) -> Error {
    Error::new(ErrorKind::Cast {
        index: f.index,
        value: f.value,
        target: target.name(),
    })
    .with_path(path)
}

/// Outputs at least this big are flushed to disk while they are written.
const BACKGROUND_SYNC_BYTES: u64 = 256 << 20;

/// Write an array whose elements `fill` produces: the header (if any) then the data at
/// `base`, into an [`AtomicFile`] committed with `overwrite`. `sources` are released window
/// by window; `contiguous` says the single source is read in its own memory order, so only
/// the finished range needs releasing and the next one can be prefetched.
pub(crate) struct Output<'a> {
    pub(crate) path: &'a std::path::Path,
    pub(crate) header: Option<&'a crate::Header>,
    pub(crate) dtype: DType,
    pub(crate) elements: usize,
    pub(crate) overwrite: crate::Overwrite,
    pub(crate) progress: crate::ops::Progress<'a>,
}

/// See [`Output`]. Returns the bytes written.
pub(crate) fn write_output(
    out: &Output<'_>,
    sources: &[&NpyFile],
    contiguous: bool,
    keys_in_output_order: bool,
    fill: impl Fn(Range<usize>, &mut [u8]) -> std::result::Result<(), Failure> + Sync,
) -> Result<u64> {
    use std::os::unix::fs::FileExt;
    let osize = out.dtype.itemsize();
    let plan = output_plan(
        out.elements,
        osize,
        sources.iter().map(|s| s.dtype().itemsize()),
    );
    // Contiguous sources are read in output order: their pages follow the windows. Others
    // are read all over: released whole after each window.
    let release = |done: Range<usize>| {
        for s in sources {
            if contiguous {
                let size = s.dtype().itemsize();
                s.release(done.start * size, done.len() * size);
            } else {
                s.release(0, s.bytes().len());
            }
        }
    };
    let announce = |ahead: Range<usize>| {
        for s in sources.iter().filter(|_| contiguous) {
            let size = s.dtype().itemsize();
            s.will_need(ahead.start * size, ahead.len() * size);
        }
    };
    let paging = ElementPaging {
        plan: &plan,
        release: &release,
        announce: &announce,
    };
    let pass = Pass {
        plan,
        out_itemsize: osize,
        keys_in_output_order,
        paging: &paging,
        progress: out.progress,
    };
    write_file(out, |handle, base| {
        run(
            &pass,
            &fill,
            |offset, bytes| {
                handle
                    .write_all_at(bytes, base + (offset * osize) as u64)
                    .map_err(|e| Error::io("write", e).with_path(out.path))
            },
            |f| {
                let src = sources.get(f.source).map_or(out.path, |s| s.path());
                cast_error(f, out.dtype, src)
            },
        )
    })
}

/// Create the output's [`AtomicFile`](crate::AtomicFile), write the header, size the file,
/// let `body(file, data_offset)` write the data (with the file flushed to disk behind it),
/// then commit. Returns the file size.
fn write_file(
    out: &Output<'_>,
    body: impl FnOnce(&std::fs::File, u64) -> Result<()>,
) -> Result<u64> {
    use std::io::Write;
    let mut file = crate::AtomicFile::new(out.path)?;
    let base = match out.header {
        Some(h) => {
            let bytes = h.to_bytes()?;
            file.write_all(&bytes)
                .map_err(|e| Error::io("write header", e).with_path(out.path))?;
            bytes.len() as u64
        }
        None => 0,
    };
    let total = base + (out.elements * out.dtype.itemsize()) as u64;
    file.file()
        .set_len(total)
        .map_err(|e| Error::io("allocate", e).with_path(out.path))?;
    let handle = file.file();
    // The commit must fsync every byte; flushing behind the writers from a helper thread
    // overlaps that disk time with the conversion instead of paying it all at the end.
    let writing = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|scope| {
        if total >= BACKGROUND_SYNC_BYTES {
            scope.spawn(|| {
                while writing.load(std::sync::atomic::Ordering::Relaxed) {
                    // Best effort: the commit's own fsync reports any error.
                    let _ = handle.sync_data();
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            });
        }
        let result = body(handle, base);
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
        result
    })?;
    file.commit(out.overwrite)?;
    Ok(total)
}

/// Copy the tile `rows` x `columns` of the row-major matrix `bytes` (`cols` columns of
/// `size`-byte elements) into `tile` transposed: column after column. Reads go along the
/// source rows; elements move as whole integers when both sides are aligned for them.
fn transpose_tile(
    bytes: &[u8],
    cols: usize,
    rows: Range<usize>,
    columns: Range<usize>,
    size: usize,
    tile: &mut [u8],
) {
    fn typed<T: bytemuck::Pod>(
        bytes: &[u8],
        cols: usize,
        rows: Range<usize>,
        columns: Range<usize>,
        tile: &mut [u8],
    ) -> bool {
        let (Ok(src), Ok(dst)) = (
            bytemuck::try_cast_slice::<u8, T>(bytes),
            bytemuck::try_cast_slice_mut::<u8, T>(tile),
        ) else {
            return false;
        };
        let h = rows.len();
        for (i, r) in rows.enumerate() {
            let line = &src[r * cols + columns.start..r * cols + columns.end];
            for (k, element) in line.iter().enumerate() {
                dst[k * h + i] = *element;
            }
        }
        true
    }
    let (r, c) = (rows.clone(), columns.clone());
    let done = match size {
        1 => typed::<u8>(bytes, cols, r, c, tile),
        2 => typed::<u16>(bytes, cols, r, c, tile),
        4 => typed::<u32>(bytes, cols, r, c, tile),
        8 => typed::<u64>(bytes, cols, r, c, tile),
        _ => typed::<u128>(bytes, cols, r, c, tile),
    };
    if !done {
        let h = rows.len();
        for (i, r) in rows.enumerate() {
            for (k, c) in columns.clone().enumerate() {
                let at = (r * cols + c) * size;
                let to = (k * h + i) * size;
                tile[to..to + size].copy_from_slice(&bytes[at..at + size]);
            }
        }
    }
}

/// Tiles of a 2-D transposed copy: at most this many columns of the source's memory rows.
const TILE_COLUMNS: usize = 256;

/// True when a change of memory order of `shape` is best done by [`write_transposed`]: a
/// matrix with both sides long, where walking the output order would touch every page of
/// the source for each block (unbounded resident memory).
pub(crate) fn wants_tiles(shape: &[usize]) -> bool {
    shape.len() == 2 && shape[0] >= 64 && shape[1] >= 64
}

/// Write the 2-D `src` into `out` in the other memory order, cast to `out.dtype`: bands of
/// the source's memory rows (about one window each, released when done), cut into tiles of
/// about one block that run in parallel; each tile is gathered transposed, cast, and written
/// as one `pwrite` per tile column.
pub(crate) fn write_transposed(
    out: &Output<'_>,
    src: &NpyFile,
    order: Order,
    mode: CastMode,
) -> Result<u64> {
    use std::os::unix::fs::FileExt;
    let from = src.dtype();
    let to = out.dtype;
    let (isz, osz) = (from.itemsize(), to.itemsize());
    let shape = src.shape();
    // The source as a row-major matrix of memory rows.
    let (rows, cols) = match src.order() {
        Order::C => (shape[0], shape[1]),
        Order::Fortran => (shape[1], shape[0]),
    };
    let width = cols.min(TILE_COLUMNS);
    let height = (crate::engine::BLOCK_BYTES / (width * isz.max(osz))).max(1);
    let band = (height * (WINDOW_BYTES / (height * cols * isz).max(1)).max(1)).min(rows);
    let bytes = src.bytes();
    write_file(out, |handle, base| {
        let mut worst: Option<Failure> = None;
        let mut r0 = 0;
        while r0 < rows {
            let r1 = (r0 + band).min(rows);
            let tiles: Vec<(usize, usize)> = (r0..r1)
                .step_by(height)
                .flat_map(|r| (0..cols).step_by(width).map(move |c| (r, c)))
                .collect();
            let results: Vec<std::result::Result<(), BlockError>> = tiles
                .into_par_iter()
                .map(|(ra, ca)| {
                    let (rb, cb) = ((ra + height).min(r1), (ca + width).min(cols));
                    let h = rb - ra;
                    SCRATCH.with_borrow_mut(|scratch| {
                        scratch.clear();
                        scratch.resize(h * (cb - ca) * isz, 0);
                        transpose_tile(bytes, cols, ra..rb, ca..cb, isz, scratch);
                        BLOCK.with_borrow_mut(|buf| {
                            let len = h * (cb - ca) * osz;
                            buf.resize(len.div_ceil(16), 0);
                            let outb = &mut bytemuck::cast_slice_mut::<u128, u8>(buf)[..len];
                            let position = |p: usize| (ca + p / h) * rows + ra + p % h;
                            cast_bytes(scratch, from, outb, to, mode).map_err(|_| {
                                BlockError::Failure(first_in_c_order(scratch, from, to, |p| {
                                    let index = c_index(position(p), shape, order);
                                    Failure {
                                        source: 0,
                                        index,
                                        key: (0, index),
                                        value: String::new(),
                                    }
                                }))
                            })?;
                            for (k, column) in outb.chunks(h * osz).enumerate() {
                                let at = base + (((ca + k) * rows + ra) * osz) as u64;
                                handle.write_all_at(column, at).map_err(|e| {
                                    BlockError::Io(Error::io("write", e).with_path(out.path))
                                })?;
                            }
                            Ok(())
                        })
                    })
                })
                .collect();
            for r in results {
                match r {
                    Ok(()) => {}
                    Err(BlockError::Io(e)) => return Err(e),
                    Err(BlockError::Failure(f)) => {
                        if worst.as_ref().is_none_or(|w| f.key < w.key) {
                            worst = Some(f);
                        }
                    }
                }
            }
            src.release(r0 * cols * isz, (r1 - r0) * cols * isz);
            src.will_need(r1 * cols * isz, (r1 - r0) * cols * isz);
            if let Some(progress) = out.progress {
                progress(((r1 - r0) * cols * osz) as u64);
            }
            r0 = r1;
        }
        match worst {
            Some(f) => Err(cast_error(f, to, src.path())),
            None => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_index_of_fortran_positions() {
        // shape (2, 3) in F: memory order is (0,0) (1,0) (0,1) (1,1) (0,2) (1,2)
        let got: Vec<u64> = (0..6)
            .map(|p| c_index(p, &[2, 3], Order::Fortran))
            .collect();
        assert_eq!(got, [0, 3, 1, 4, 2, 5]);
        assert_eq!(unravel(4, &[2, 3], Order::C), [1, 1]);
        assert_eq!(strides(&[2, 3, 4], Order::Fortran), [1, 2, 6]);
    }
}
