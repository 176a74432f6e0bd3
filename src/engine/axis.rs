//! Statistics along one axis of an N-d array, streamed in one parallel, deterministic pass;
//! the result is shaped like numpy's (the shape with the axis removed), in C order.
//!
//! In memory order the array is seen as `(outer, len, inner)`, reduced along the middle:
//! - `inner == 1` (the reduced axis is the contiguous one): each output is a contiguous
//!   segment, reduced with the whole-array kernel;
//! - `inner > 1` (e.g. per-column statistics of a C-order `(N, d)` table along axis 0): blocks
//!   of whole rows. Floats go to the one-pass per-column kernel of
//!   [`columns`](crate::engine::columns); integers and `bool` (exact sums) to [`Columns`]
//!   here, which updates `inner` column accumulators a few dozen rows at a time, then merges
//!   them into per-column partials.
//!
//! A Fortran-order file is the C-order array of the reversed shape, so the same two kernels
//! serve it; only the order of the outputs is permuted at the end.

use crate::engine::columns::column_partials;
use crate::engine::elements::{RUN, Real, for_each_run};
use crate::engine::kernel::{IndexMap, Partial, fortran_to_c};
use crate::engine::source::Source;
use crate::engine::stats::{ComplexPartial, ComplexParts, PassOptions, Stats, partial_of_bytes};
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::header::Order;

/// Statistics along an axis: one [`Stats`] per position of the result, C order of `shape`.
/// `argmin`/`argmax` are indices along the reduced axis, like `np.nanargmin(a, axis=k)`.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisStats {
    /// The result shape: the array's shape without the reduced axis.
    pub shape: Vec<usize>,
    /// The statistics, in C order of `shape`.
    pub stats: Vec<Stats>,
}

/// The most results [`stats_axis`] gives for an array with no elements (see there).
pub(crate) const MAX_RESULTS_WITHOUT_DATA: usize = 1 << 16;

/// Statistics along `axis` (0-based) in one streaming pass. An axis beyond the array's
/// dimensions is an error naming it.
pub fn stats_axis(
    file: &dyn Source,
    axis: usize,
    ddof: u64,
    options: &PassOptions<'_>,
) -> Result<AxisStats> {
    let ndim = file.ndim();
    if axis >= ndim {
        return Err(Error::invalid(format!(
            "axis {axis} is out of bounds for array of dimension {ndim}"
        )))
        .at(file.path());
    }
    // A non-empty array has at least as many elements (in the file) as results. An empty one
    // may declare any number of results — `(0, 4294967295)` along axis 0 — with nothing in the
    // file to back them: refuse to allocate for those beyond a modest count (numpy would try
    // and raise MemoryError; an allocation failure here would abort the process).
    let results = file
        .shape()
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != axis)
        .try_fold(1usize, |n, (_, &d)| n.checked_mul(d))
        .ok_or_else(|| Error::from(ErrorKind::Overflow("number of results")))
        .at(file.path())?;
    if file.is_empty() && results > MAX_RESULTS_WITHOUT_DATA {
        return Err(Error::invalid(format!(
            "reducing the empty axis {axis} would give {results} results with no data \
             (at most {MAX_RESULTS_WITHOUT_DATA})"
        )))
        .at(file.path());
    }
    let mut along = crate::dispatch_scalar!(file.dtype().scalar(), T => {
        <T as crate::engine::reducible::Reducible>::stats_axis(file, axis, ddof, options)
    });
    along.stats = along.stats.into_iter().map(|s| options.report(s)).collect();
    Ok(along)
}

/// The array in memory order as `(outer, len, inner)` reduced along `len`.
#[derive(Clone, Copy, Debug)]
struct Layout {
    outer: usize,
    len: usize,
    inner: usize,
}

fn layout(shape: &[usize], order: Order, axis: usize) -> Layout {
    let before: usize = shape[..axis].iter().product();
    let after: usize = shape[axis + 1..].iter().product();
    let len = shape[axis];
    match order {
        Order::C => Layout {
            outer: before,
            len,
            inner: after,
        },
        Order::Fortran => Layout {
            outer: after,
            len,
            inner: before,
        },
    }
}

/// The result shape, and the outputs (in memory order of the file) permuted into C order.
fn into_c_order<P>(
    file: &dyn Source,
    axis: usize,
    mem: Vec<P>,
    finish: impl Fn(&P) -> Stats,
) -> AxisStats {
    let mut shape = file.shape().to_vec();
    shape.remove(axis);
    let stats = if file.order() == Order::Fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        let mut out: Vec<Option<Stats>> = vec![None; mem.len()];
        for (f, p) in mem.iter().enumerate() {
            out[fortran_to_c(f as u64, &shape) as usize] = Some(finish(p));
        }
        out.into_iter().flatten().collect()
    } else {
        mem.iter().map(finish).collect()
    };
    AxisStats { shape, stats }
}

/// Split the elements `range` (memory positions) at output boundaries: `(output, positions)`.
fn segments(
    range: std::ops::Range<usize>,
    len: usize,
) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> {
    let mut pos = range.start;
    std::iter::from_fn(move || {
        if pos >= range.end || len == 0 {
            return None;
        }
        let o = pos / len;
        let end = ((o + 1) * len).min(range.end);
        let seg = pos..end;
        pos = end;
        Some((o, seg))
    })
}

pub(crate) fn axis_real<T: Real>(
    file: &dyn Source,
    axis: usize,
    ddof: u64,
    options: &PassOptions<'_>,
) -> AxisStats {
    let l = layout(file.shape(), file.order(), axis);
    let native = file.dtype().is_native();
    let size = T::SCALAR.size();
    let mut results: Vec<Partial<T>> = vec![Partial::default(); l.outer * l.inner];
    let driver = options.driver(file);
    // The scans with or without the non-zero counts.
    type Scan<T> = fn(&[u8], bool, u64, &IndexMap) -> Partial<T>;
    type ColumnScan<T> = fn(&[T], usize, u64) -> Vec<Partial<T>>;
    let (partial, columns): (Scan<T>, ColumnScan<T>) = match options.counts_nonzero() {
        true => (partial_of_bytes::<T, true>, column_partials::<T, true>),
        false => (partial_of_bytes::<T, false>, column_partials::<T, false>),
    };
    if file.is_empty() {
        // Nothing to read: every output (if any) is the statistics of nothing.
    } else if l.inner == 1 {
        let plan = options.plan(file.len(), size);
        results = driver.fold_blocks(
            &plan,
            |i, bytes| {
                let block = plan.block(i);
                segments(block.clone(), l.len)
                    .map(|(o, seg)| {
                        let b = &bytes
                            [(seg.start - block.start) * size..(seg.end - block.start) * size];
                        let first = (seg.start - o * l.len) as u64;
                        (o, partial(b, native, first, &IndexMap::Identity))
                    })
                    .collect::<Vec<_>>()
            },
            results,
            |mut acc, block| {
                for (o, p) in block {
                    acc[o].merge(&p);
                }
                acc
            },
        );
    } else {
        // Blocks of 4 MiB rather than 1: the per-column kernel's fixed costs per block (the
        // shifts, the index searches, one merge per column) shrink to about 1% of its work.
        let plan = options.plan_of_bytes(l.outer * l.len, l.inner * size, 4 << 20);
        let rows_per_run = (32 * 1024 / (l.inner * size)).clamp(16, RUN);
        results = driver.fold_blocks(
            &plan,
            |i, bytes| {
                let block = plan.block(i);
                let row_bytes = l.inner * size;
                segments(block.clone(), l.len)
                    .map(|(o, rows)| {
                        let b = &bytes[(rows.start - block.start) * row_bytes
                            ..(rows.end - block.start) * row_bytes];
                        let j0 = rows.start - o * l.len;
                        let mut parts = vec![Partial::<T>::default(); l.inner];
                        if T::IS_FLOAT {
                            // The whole segment at once (copied only if swapped or unaligned).
                            let elements = (rows.len() * l.inner).max(1);
                            for_each_run::<T>(b, native, elements, |_, xs| {
                                parts = columns(xs, l.inner, j0 as u64);
                            });
                        } else {
                            let mut scratch = Columns::new(l.inner);
                            for_each_run::<T>(b, native, rows_per_run * l.inner, |k, run| {
                                scratch.push_rows(&mut parts, run, (j0 + k / l.inner) as u64);
                            });
                        }
                        (o, parts)
                    })
                    .collect::<Vec<_>>()
            },
            results,
            |mut acc, block| {
                for (o, parts) in block {
                    for (a, p) in acc[o * l.inner..(o + 1) * l.inner].iter_mut().zip(&parts) {
                        a.merge(p);
                    }
                }
                acc
            },
        );
    }
    into_c_order(file, axis, results, |p| Stats::from_partial(p, ddof))
}

/// Per-column scratch accumulators of integers (and `bool`) for a few rows at a time
/// (structure of arrays, so the loops over a row's columns vectorise). Integers hold no NaN.
struct Columns<T> {
    hi: Vec<i64>,
    lo: Vec<i64>,
    nonzero: Vec<u32>,
    min: Vec<T>,
    max: Vec<T>,
    m2: Vec<f64>,
}

impl<T: Real> Columns<T> {
    fn new(inner: usize) -> Columns<T> {
        Columns {
            hi: vec![0; inner],
            lo: vec![0; inner],
            nonzero: vec![0; inner],
            min: vec![T::MIN_INIT; inner],
            max: vec![T::MAX_INIT; inner],
            m2: vec![0.0; inner],
        }
    }

    /// Fold whole rows `xs` (at most [`RUN`] of them; the first at index `j0` along the axis)
    /// into the column partials `parts`.
    fn push_rows(&mut self, parts: &mut [Partial<T>], xs: &[T], j0: u64) {
        let inner = parts.len();
        let rows = xs.len() / inner;
        // Columns go [`GROUP`] at a time with their accumulators in registers, each column's
        // rows in order: the same operations in the same order as one column at a time, so
        // the same bits, without a load and store of every accumulator per element.
        let mut c0 = 0;
        while c0 + GROUP <= inner {
            self.scan_group::<GROUP>(xs, inner, c0);
            c0 += GROUP;
        }
        while c0 < inner {
            self.scan_group::<1>(xs, inner, c0);
            c0 += 1;
        }
        for (c, acc) in parts.iter_mut().enumerate() {
            let count = rows as u64;
            let mut run = Partial::<T> {
                count,
                nonzero: self.nonzero[c] as u64,
                m2: self.m2[c],
                ..Partial::default()
            };
            if count > 0 {
                run.isum = ((self.hi[c] as i128) << 32) + self.lo[c] as i128;
                // Positions along the axis grow with the rows, so a tie never wins.
                let column = || xs.iter().skip(c).step_by(inner).enumerate();
                let (min, max) = (self.min[c], self.max[c]);
                if acc.min.is_none_or(|m| min.less(m.value)) {
                    let r = column().find(|&(_, &x)| !x.less(min) && !min.less(x));
                    run.min = r.map(|(r, _)| crate::engine::kernel::Extreme {
                        value: min,
                        index: j0 + r as u64,
                    });
                }
                if acc.max.is_none_or(|m| m.value.less(max)) {
                    let r = column().find(|&(_, &x)| !x.less(max) && !max.less(x));
                    run.max = r.map(|(r, _)| crate::engine::kernel::Extreme {
                        value: max,
                        index: j0 + r as u64,
                    });
                }
            }
            acc.merge(&run);
        }
    }
}

/// Columns per group of the integer row kernel.
const GROUP: usize = 8;

impl<T: Real> Columns<T> {
    /// Columns `c0..c0 + W` of the rows `xs` (rows of `inner` elements): sums, non-zero
    /// counts and extremes in one pass, then the squared deviations from the run's column
    /// means in a second pass over the same (L1-resident) rows.
    #[inline(always)]
    fn scan_group<const W: usize>(&mut self, xs: &[T], inner: usize, c0: usize) {
        let mut hi = [0i64; W];
        let mut lo = [0i64; W];
        let mut nonzero = [0u32; W];
        let mut min = [T::MIN_INIT; W];
        let mut max = [T::MAX_INIT; W];
        let mut rows = 0u32;
        for row in xs.chunks_exact(inner) {
            let x = &row[c0..c0 + W];
            for k in 0..W {
                let (a, b) = x[k].split();
                hi[k] += a;
                lo[k] += b;
                min[k] = if x[k].less(min[k]) { x[k] } else { min[k] };
                max[k] = if max[k].less(x[k]) { x[k] } else { max[k] };
                nonzero[k] += x[k].is_nonzero() as u32;
            }
            rows += 1;
        }
        let mean: [f64; W] = std::array::from_fn(|k| {
            ((((hi[k] as i128) << 32) + lo[k] as i128) as f64) / rows as f64
        });
        let m2 = centred_columns::<T, W>(xs, inner, c0, &mean);
        let columns = c0..c0 + W;
        self.hi[columns.clone()].copy_from_slice(&hi);
        self.lo[columns.clone()].copy_from_slice(&lo);
        self.nonzero[columns.clone()].copy_from_slice(&nonzero);
        self.min[columns.clone()].copy_from_slice(&min);
        self.max[columns.clone()].copy_from_slice(&max);
        self.m2[columns].copy_from_slice(&m2);
    }
}

/// Sum over the rows of the squared deviations of columns `c0..c0 + W` from `mean`.
#[inline(always)]
fn centred_columns<T: Real, const W: usize>(
    xs: &[T],
    inner: usize,
    c0: usize,
    mean: &[f64; W],
) -> [f64; W] {
    let mut m2 = [0.0f64; W];
    for row in xs.chunks_exact(inner) {
        let x = &row[c0..c0 + W];
        for k in 0..W {
            let d = x[k].to_f64() - mean[k];
            m2[k] += d * d;
        }
    }
    m2
}

pub(crate) fn axis_complex<C: ComplexParts>(
    file: &dyn Source,
    axis: usize,
    options: &PassOptions<'_>,
) -> AxisStats {
    let l = layout(file.shape(), file.order(), axis);
    let native = file.dtype().is_native();
    let size = C::SCALAR.size();
    let results = vec![ComplexPartial::default(); l.outer * l.inner];
    let plan = options.plan(file.len(), size);
    // Complex numbers take the simple road: element by element, each to its output.
    let results = options.driver(file).fold_blocks(
        &plan,
        |i, bytes| {
            let block = plan.block(i);
            let mut out: Vec<(usize, ComplexPartial)> = Vec::new();
            let per_output = l.len * l.inner;
            for (o, seg) in segments(block.clone(), per_output) {
                let b = &bytes[(seg.start - block.start) * size..(seg.end - block.start) * size];
                let mut parts = vec![ComplexPartial::default(); l.inner];
                let offset = seg.start - o * per_output;
                for_each_run::<C>(b, native, RUN, |k, run| {
                    for (e, x) in run.iter().enumerate() {
                        parts[(offset + k + e) % l.inner].push(std::slice::from_ref(x));
                    }
                });
                out.extend(
                    parts
                        .into_iter()
                        .enumerate()
                        .map(|(c, p)| (o * l.inner + c, p)),
                );
            }
            out
        },
        results,
        |mut acc, block| {
            for (idx, p) in block {
                acc[idx].merge(&p);
            }
            acc
        },
    );
    into_c_order(file, axis, results, Stats::from_complex)
}
