//! The per-column kernel for floats: statistics of every column of a block of whole rows (a
//! C-order `(rows, inner)` slice) in one pass. It is the work behind per-column statistics of
//! an `(N, d)` table along axis 0, the common machine-learning case.
//!
//! The block is read in runs of rows that stay in cache; each run is read once per group of
//! [`GROUP`] columns, whose accumulators live in registers, and meanwhile the groups ask for
//! the next run (prefetch hints, the groups together sweeping it in address order), so memory
//! is read while the run in cache is computed on (the first run of a block is swept once in
//! memory order instead, see [`touch`]). After each run a group folds the run's figures into
//! its per-block lanes ([`Group`], arrays that vectorise):
//! - shifted sums `Σd` and `Σd²` in `f64`, with `d = x - K` and `K` the column's first finite
//!   value in the block; the runs' `Σd` are combined with Neumaier's compensated addition.
//!   Then `m2 = Σd² - (Σd)²/n` in one pass; since `Σd² = m2 + n·(mean-K)²`, the cancellation
//!   is mild as long as `K` lies within a few standard deviations of the mean (and as `K` is
//!   one of the values, `Σd² <= n·m2` always). A guard checks it: when `Σd²` exceeds [`GUARD`]
//!   times `m2` (or anything is not finite), the column of the block is redone with a
//!   compensated sum and a second, centred pass;
//! - min and max in the element type (exact in any precision), one per run, and the run that
//!   brought each; the row of the block's extreme is searched once the block is done, in the
//!   one run that holds its first occurrence (searching each run's new extremes while it was
//!   in L1 cost more: with random data some column of a group has a new extreme in most of a
//!   block's runs);
//! - NaN and non-zero counts in integer lanes. A run is first scanned without testing for NaN
//!   (a NaN turns its column's `Σd` into NaN); only then is it scanned again, skipping and
//!   counting them.
//!
//! On x86-64 CPUs with AVX2 and FMA (chosen at run time) the scan of eight `f32` columns, and
//! of eight `f16` columns widened by F16C, is written by hand ([`Real::simd_column_scan`]) and
//! the other scans are this source compiled for AVX2 and FMA:
//! the same operations in the same order, so the same bits on every machine. `Σd²` adds
//! each square with one fused multiply-add (`mul_add`, correctly rounded everywhere).
//!
//! Everything depends only on the block's elements, never on threads. This module works on
//! slices only; it knows nothing of files, mappings or threads.

use crate::engine::elements::Real;
use crate::engine::kernel::{Extreme, Neumaier, NeumaierLanes, Partial};
use crate::engine::simd;

/// Columns per group: the sums, extremes and counts of eight `f32` columns fit the sixteen
/// AVX2 registers (SSE2 spills one or two, cheaply); a tail of four, then single columns.
const GROUP: usize = 8;

/// Bytes per run of rows: large enough that the fold after each run (a few dozen vector
/// operations per group) is rare beside the scan, small enough that the run and the next one,
/// prefetched meanwhile, stay in L1 and L2 while every group of columns reads the run
/// (32 KiB took about 5% less CPU than 16 or 64 KiB on an `(N, 64)` float32 table).
const RUN_BYTES: usize = 32 << 10;

/// The one-pass variance is kept when `Σd² <= GUARD · m2`: its rounding error is then at most
/// `GUARD` times that of a centred pass over the same block.
const GUARD: f64 = 16.0;

/// Statistics of each column of `xs`, whole rows of `inner` elements, the first row at index
/// `j0` along the reduced axis; without `NONZERO` the non-zero counts are left incomplete
/// (the caller reports none).
pub(crate) fn column_partials<T: Real, const NONZERO: bool>(
    xs: &[T],
    inner: usize,
    j0: u64,
) -> Vec<Partial<T>> {
    let run_rows = (RUN_BYTES / (inner * std::mem::size_of::<T>())).clamp(1, 1 << 16);
    column_partials_in_runs::<T, NONZERO>(xs, inner, j0, run_rows)
}

/// [`column_partials`] with runs of `run_rows` rows (tests use short runs).
fn column_partials_in_runs<T: Real, const NONZERO: bool>(
    xs: &[T],
    inner: usize,
    j0: u64,
    run_rows: usize,
) -> Vec<Partial<T>> {
    debug_assert!(T::IS_FLOAT && inner > 0 && xs.len().is_multiple_of(inner) && run_rows > 0);
    let rows = xs.len() / inner;
    let mut groups = Groups::new(xs, inner);
    let mut next_runs = xs.chunks(run_rows * inner).skip(1);
    for (r, run) in xs.chunks(run_rows * inner).enumerate() {
        if r == 0 {
            touch(run);
        }
        groups.fold_run::<NONZERO>(run, next_runs.next().unwrap_or(&[]), inner, r * run_rows);
    }
    let block = Block {
        xs,
        inner,
        rows,
        run_rows,
        j0,
    };
    groups
        .columns()
        .enumerate()
        .map(|(c, column)| column.finish(&block, c))
        .collect()
}

/// The groups of columns of a block: [`GROUP`] at a time, then a group of half as many,
/// then single columns.
struct Groups<T> {
    full: Vec<Group<T, GROUP>>,
    half: Option<Group<T, { GROUP / 2 }>>,
    single: Vec<Group<T, 1>>,
}

impl<T: Real> Groups<T> {
    fn new(xs: &[T], inner: usize) -> Groups<T> {
        let full = inner / GROUP;
        let half = inner % GROUP >= GROUP / 2;
        let rest = full * GROUP + usize::from(half) * GROUP / 2;
        Groups {
            full: (0..full)
                .map(|g| Group::new(xs, inner, g * GROUP))
                .collect(),
            half: half.then(|| Group::new(xs, inner, full * GROUP)),
            single: (rest..inner).map(|c| Group::new(xs, inner, c)).collect(),
        }
    }

    /// Fold in the run whose first row is row `first` of the block (`next`: the run after
    /// it, to prefetch).
    fn fold_run<const NONZERO: bool>(&mut self, run: &[T], next: &[T], inner: usize, first: usize) {
        for group in &mut self.full {
            simd::column_run::<T, GROUP, NONZERO>(group, run, next, inner, first);
        }
        if let Some(group) = &mut self.half {
            simd::column_run::<T, { GROUP / 2 }, NONZERO>(group, run, next, inner, first);
        }
        for group in &mut self.single {
            simd::column_run::<T, 1, NONZERO>(group, run, next, inner, first);
        }
    }

    /// Every column's accumulators, in column order.
    fn columns(&self) -> impl Iterator<Item = Column<T>> + '_ {
        let full = self.full.iter().flat_map(Group::columns);
        let half = self.half.iter().flat_map(Group::columns);
        full.chain(half)
            .chain(self.single.iter().flat_map(Group::columns))
    }
}

/// Read one byte of every cache line of `run`, in order, before the groups of columns read it
/// in strides: the first run of a block, which no earlier run prefetched. Strided reads
/// stall on memory (the hardware prefetchers stop at each page); a plain sequential sweep of
/// independent loads keeps many misses in flight, and then every group finds the run in L1.
#[inline(never)]
fn touch<T: Real>(run: &[T]) {
    let bytes: &[u8] = bytemuck::cast_slice(run);
    let mut seen = 0u8;
    for line in bytes.chunks(64) {
        seen ^= line[0];
    }
    std::hint::black_box(seen);
}

/// The first finite value of column `c` of `xs` (rows of `inner`), or 0: the column's shift.
fn first_finite<T: Real>(xs: &[T], inner: usize, c: usize) -> f64 {
    xs[c..]
        .iter()
        .step_by(inner)
        .map(|x| x.to_f64())
        .find(|x| x.is_finite())
        .unwrap_or(0.0)
}

/// One column's accumulators over a block.
struct Column<T> {
    /// The shift `K`.
    shift: f64,
    /// `Σd` (compensated across runs, so a block sums as accurately as one run) and `Σd²`
    /// of the non-NaN elements.
    s1: Neumaier,
    s2: f64,
    nan: u64,
    nonzero: u64,
    /// The extremes and the first row of the run that holds the first occurrence of each
    /// (None: no non-NaN value).
    min: Option<(T, usize)>,
    max: Option<(T, usize)>,
}

impl<T: Real> Column<T> {
    /// The partial statistics of column `c` of `block`.
    fn finish(&self, block: &Block<'_, T>, c: usize) -> Partial<T> {
        let count = block.rows as u64 - self.nan;
        let mut partial = Partial {
            count,
            nan_count: self.nan,
            nonzero: self.nonzero,
            ..Partial::default()
        };
        if count == 0 {
            return partial;
        }
        let n = count as f64;
        let s1 = self.s1.value();
        let m2 = self.s2 - s1 * s1 / n;
        if s1.is_finite() && self.s2.is_finite() && self.s2 <= GUARD * m2 {
            partial.fsum.add(n * self.shift);
            partial.fsum.merge(self.s1);
            partial.m2 = m2;
        } else {
            (partial.fsum, partial.m2) = block.two_pass(c, n);
        }
        let extreme = |(target, run): (T, usize)| {
            let (value, row) = block.first_equal(c, run, target);
            Extreme {
                value,
                index: block.j0 + row as u64,
            }
        };
        partial.min = self.min.map(extreme);
        partial.max = self.max.map(extreme);
        partial
    }
}

/// The block being reduced, for the rare second looks at one column.
struct Block<'a, T> {
    xs: &'a [T],
    inner: usize,
    rows: usize,
    run_rows: usize,
    j0: u64,
}

impl<T: Real> Block<'_, T> {
    /// The elements of column `c` in rows `rows`, with their row numbers in the block.
    fn column(&self, c: usize, rows: std::ops::Range<usize>) -> impl Iterator<Item = (usize, T)> {
        let xs = &self.xs[rows.start * self.inner..rows.end * self.inner];
        xs[c..]
            .iter()
            .step_by(self.inner)
            .enumerate()
            .map(move |(i, &x)| (rows.start + i, x))
    }

    /// The first element of column `c` that is `target` (not NaN; [`Real::same`]) in the run
    /// that starts at row `run`, and its row. For floats that is `==`: `-0.0 == 0.0`, and the
    /// element found is returned, not `target`.
    fn first_equal(&self, c: usize, run: usize, target: T) -> (T, usize) {
        self.column(c, run..(run + self.run_rows).min(self.rows))
            .find(|&(_, x)| x.same(target))
            .map_or((target, run), |(row, x)| (x, row))
    }

    /// Compensated sum and centred sum of squares of column `c` (`n` non-NaN elements), the
    /// careful way: the guard's fallback.
    fn two_pass(&self, c: usize, n: f64) -> (Neumaier, f64) {
        let mut sum = Neumaier::default();
        for (_, x) in self.column(c, 0..self.rows) {
            if !x.is_nan() {
                sum.add(x.to_f64());
            }
        }
        let mean = sum.value() / n;
        let m2 = self
            .column(c, 0..self.rows)
            .filter(|(_, x)| !x.is_nan())
            .map(|(_, x)| (x.to_f64() - mean) * (x.to_f64() - mean))
            .sum();
        (sum, m2)
    }
}

/// The sums of one run over a group of `W` columns.
pub(crate) struct RunSums<T, const W: usize> {
    pub(crate) s1: [f64; W],
    pub(crate) s2: [f64; W],
    pub(crate) nan: [u32; W],
    pub(crate) nonzero: [u32; W],
    pub(crate) min: [T; W],
    pub(crate) max: [T; W],
}

/// No run yet holds a non-NaN value of the column.
const NO_ROW: usize = usize::MAX;

/// The accumulators of columns `c0..c0 + W` over the runs of a block, lane `j` for column
/// `c0 + j`, in arrays: folding in a run is a few vector operations.
#[derive(Clone, Debug)]
pub(crate) struct Group<T, const W: usize> {
    c0: usize,
    /// The shifts `K`.
    shift: [f64; W],
    /// `Σd` (compensated across runs, so a block sums as accurately as one run) and `Σd²`
    /// of the non-NaN elements.
    s1: NeumaierLanes<W>,
    s2: [f64; W],
    nan: [u64; W],
    nonzero: [u64; W],
    /// The extremes so far and the first row of the run that brought each ([`NO_ROW`]: none
    /// yet); the row of the element is searched in that run once the block is done.
    min: [T; W],
    max: [T; W],
    min_run: [usize; W],
    max_run: [usize; W],
}

impl<T: Real, const W: usize> Group<T, W> {
    /// The group of columns `c0..c0 + W` of the block `xs` (rows of `inner`), nothing folded.
    pub(crate) fn new(xs: &[T], inner: usize, c0: usize) -> Group<T, W> {
        Group {
            c0,
            shift: std::array::from_fn(|j| first_finite(xs, inner, c0 + j)),
            s1: NeumaierLanes::default(),
            s2: [0.0; W],
            nan: [0; W],
            nonzero: [0; W],
            min: [T::MIN_INIT; W],
            max: [T::MAX_INIT; W],
            min_run: [NO_ROW; W],
            max_run: [NO_ROW; W],
        }
    }

    /// Fold in the rows `run` (its first row is row `first` of the block), and ask for a part
    /// of the rows `next` meanwhile: the groups together prefetch the next run, so it arrives
    /// while this one is computed on, and stays in cache for all the groups.
    #[inline(always)]
    pub(crate) fn fold_run<const NONZERO: bool>(
        &mut self,
        run: &[T],
        next: &[T],
        inner: usize,
        first: usize,
    ) {
        let next_bytes: &[u8] = bytemuck::cast_slice(next);
        let simd = T::simd_column_scan::<W, NONZERO>(run, next_bytes, inner, self.c0, &self.shift);
        let mut sums = simd.unwrap_or_else(|| {
            scan::<T, W, false, NONZERO>(run, next, inner, self.c0, &self.shift)
        });
        if sums.s1.iter().any(|s| s.is_nan()) {
            // A NaN in the run (or inf - inf): again, skipping and counting NaN.
            sums = scan::<T, W, true, NONZERO>(run, &[], inner, self.c0, &self.shift);
        }
        let rows = (run.len() / inner) as u32;
        self.s1.add(&sums.s1);
        for j in 0..W {
            self.s2[j] += sums.s2[j];
            self.nan[j] += u64::from(sums.nan[j]);
            self.nonzero[j] += u64::from(sums.nonzero[j]);
            // Ties keep the earlier run: the first occurrence wins, like numpy.
            let seen = sums.nan[j] < rows;
            let new_min = seen & ((self.min_run[j] == NO_ROW) | sums.min[j].less(self.min[j]));
            let new_max = seen & ((self.max_run[j] == NO_ROW) | self.max[j].less(sums.max[j]));
            self.min[j] = if new_min { sums.min[j] } else { self.min[j] };
            self.max[j] = if new_max { sums.max[j] } else { self.max[j] };
            self.min_run[j] = if new_min { first } else { self.min_run[j] };
            self.max_run[j] = if new_max { first } else { self.max_run[j] };
        }
    }

    /// The accumulators of each column of the group.
    fn columns(&self) -> impl Iterator<Item = Column<T>> + '_ {
        let extreme = |value: T, row: usize| (row != NO_ROW).then_some((value, row));
        (0..W).map(move |j| Column {
            shift: self.shift[j],
            s1: self.s1.lane(j),
            s2: self.s2[j],
            nan: self.nan[j],
            nonzero: self.nonzero[j],
            min: extreme(self.min[j], self.min_run[j]),
            max: extreme(self.max[j], self.max_run[j]),
        })
    }
}

/// The sums of columns `c0..c0 + W` over the rows `run`, prefetching a part of the rows
/// `next`. `SKIP_NAN = false` neither tests nor counts NaN: a NaN then shows as a NaN
/// `s1`. `NONZERO = false` leaves the non-zero counts out (0).
#[inline(always)]
fn scan<T: Real, const W: usize, const SKIP_NAN: bool, const NONZERO: bool>(
    run: &[T],
    next: &[T],
    inner: usize,
    c0: usize,
    shift: &[f64; W],
) -> RunSums<T, W> {
    let mut s = RunSums {
        s1: [0.0; W],
        s2: [0.0; W],
        nan: [0; W],
        nonzero: [0; W],
        min: [T::MIN_INIT; W],
        max: [T::MAX_INIT; W],
    };
    // The groups sweep the next run together in address order, a line per row each (group
    // `k` the lines `k·rows..(k + 1)·rows`): ascending addresses, each line asked for once,
    // which keeps the run's lines arriving in time better than each group asking for its
    // own columns row by row (about 10% less CPU time on a (N, 64) float32 table).
    let next_bytes: &[u8] = bytemuck::cast_slice(next);
    let rows = run.len() / inner;
    for (i, row) in run.chunks_exact(inner).enumerate() {
        simd::prefetch_to_l2(next_bytes, ((c0 / W) * rows + i) * 64);
        let x = &row[c0..c0 + W];
        for j in 0..W {
            let v = x[j];
            let mut d = v.to_f64() - shift[j];
            if SKIP_NAN {
                let nan = v.is_nan();
                d = if nan { 0.0 } else { d };
                s.nan[j] += nan as u32;
            }
            s.s1[j] += d;
            s.s2[j] = d.mul_add(d, s.s2[j]);
            s.min[j] = if v.less(s.min[j]) { v } else { s.min[j] };
            s.max[j] = if s.max[j].less(v) { v } else { s.max[j] };
            if NONZERO {
                s.nonzero[j] += v.is_nonzero() as u32;
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use half::f16;

    use super::*;
    use crate::engine::naive::{self, Elem};
    use crate::engine::stats::Stats;

    /// Fast and naive agree: counts, extremes (to the bit) and their indices exactly; sums,
    /// means and variances to a few rounding errors of their magnitudes; infinities and NaN
    /// exactly.
    fn agree(fast: &Stats, slow: &Stats, column: &[f64]) -> std::result::Result<(), String> {
        let abs: f64 = column
            .iter()
            .filter(|x| x.is_finite())
            .map(|x| x.abs())
            .sum();
        let n = column.len() as f64;
        let near = |a: f64, b: f64, scale: f64| {
            if a.is_finite() && b.is_finite() {
                (a - b).abs() <= 4.0 * n * f64::EPSILON * scale
            } else {
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
            }
        };
        let bits = |v: Option<crate::engine::Value>| v.map(|v| v.as_f64().to_bits());
        let value = |v: Option<crate::engine::Value>| v.map_or(0.0, |v| v.as_f64());
        let var_scale = slow.var.unwrap_or(0.0)
            + column
                .iter()
                .filter(|x| x.is_finite())
                .map(|x| (x - value(slow.mean)).powi(2))
                .fold(0.0, f64::max);
        let same = fast.count == slow.count
            && fast.nan_count == slow.nan_count
            && fast.count_nonzero == slow.count_nonzero
            && (fast.argmin, fast.argmax) == (slow.argmin, slow.argmax)
            && (bits(fast.min), bits(fast.max)) == (bits(slow.min), bits(slow.max))
            && near(fast.sum.as_f64(), slow.sum.as_f64(), abs)
            && near(value(fast.mean), value(slow.mean), abs / n)
            && fast.var.is_some() == slow.var.is_some()
            && near(fast.var.unwrap_or(0.0), slow.var.unwrap_or(0.0), var_scale);
        if same {
            Ok(())
        } else {
            Err(format!("fast {fast:?}\nnaive {slow:?}"))
        }
    }

    /// A column of one of three kinds: mixed values with NaN, infinities and ties; a huge
    /// offset with a tiny spread (where a one-pass variance without shift would cancel), its
    /// first value sometimes an outlier; or NaN only.
    fn column(rows: usize) -> impl Strategy<Value = Vec<f64>> {
        let mixed = prop::collection::vec(
            prop_oneof![
                6 => -1e3..1e3f64,
                3 => (-3i32..3).prop_map(f64::from),
                1 => Just(f64::NAN),
                1 => Just(f64::INFINITY),
                1 => Just(f64::NEG_INFINITY),
                1 => Just(-0.0),
            ],
            rows,
        );
        let offset =
            (prop::collection::vec(-40i32..40, rows), any::<bool>()).prop_map(|(k, outlier)| {
                let mut xs: Vec<f64> = k.iter().map(|&k| 1e6 + f64::from(k) / 16.0).collect();
                if outlier {
                    xs[0] = -1e6;
                }
                xs
            });
        prop_oneof![
            4 => mixed,
            2 => offset,
            1 => Just(vec![f64::NAN; rows]),
        ]
    }

    fn table() -> impl Strategy<Value = (usize, Vec<Vec<f64>>, usize, u64)> {
        (1usize..40, 1usize..14).prop_flat_map(|(rows, cols)| {
            (
                Just(rows),
                prop::collection::vec(column(rows), cols),
                1usize..9,
                0u64..1000,
            )
        })
    }

    fn check<T: Real>(
        rows: usize,
        columns: &[Vec<f64>],
        run_rows: usize,
        j0: u64,
        of: impl Fn(f64) -> T,
    ) -> std::result::Result<(), TestCaseError> {
        let inner = columns.len();
        let xs: Vec<T> = (0..rows * inner)
            .map(|i| of(columns[i % inner][i / inner]))
            .collect();
        let fast = column_partials_in_runs::<T, true>(&xs, inner, j0, run_rows);
        // Without the non-zero counts: the same partials but for the counts.
        let uncounted = column_partials_in_runs::<T, false>(&xs, inner, j0, run_rows);
        for (counted, uncounted) in fast.iter().zip(&uncounted) {
            let rest = |p: &Partial<T>| {
                format!(
                    "{:?}",
                    Partial {
                        nonzero: 0,
                        ..p.clone()
                    }
                )
            };
            prop_assert_eq!(rest(counted), rest(uncounted));
        }
        for (c, partial) in fast.iter().enumerate() {
            let column: Vec<f64> = (0..rows).map(|r| xs[r * inner + c].to_f64()).collect();
            let elems: Vec<Elem> = column.iter().map(|&x| Elem::Float(x)).collect();
            let mut slow = naive::stats(&elems, 0);
            slow.argmin = slow.argmin.map(|i| i + j0);
            slow.argmax = slow.argmax.map(|i| i + j0);
            agree(&Stats::from_partial(partial, 0), &slow, &column)
                .map_err(|e| TestCaseError::fail(format!("column {c}: {e}")))?;
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn column_kernel_matches_the_naive_reference(
            (rows, columns, run_rows, j0) in table(),
        ) {
            check::<f64>(rows, &columns, run_rows, j0, |x| x)?;
            check::<f32>(rows, &columns, run_rows, j0, |x| x as f32)?;
        }

        /// The groups the compiler builds twice (baseline and AVX2): every group of `f64`
        /// columns, and the narrower groups of `f32` columns.
        #[test]
        fn avx2_and_baseline_scans_give_the_same_bits(
            values in prop::collection::vec(prop_oneof![-1e3..1e3f32, Just(f32::NAN), Just(0.0)], 8..400),
        ) {
            same_bits_both_ways::<f64, 8>(&values.iter().map(|&x| f64::from(x)).collect::<Vec<_>>())?;
            same_bits_both_ways::<f32, 4>(&values)?;
        }

        /// The hand-written scan of eight `f32` columns gives the portable scan's bits, for
        /// any row width, group, number of rows (odd and even: rows go in pairs) and rows to
        /// prefetch.
        #[test]
        fn hand_written_f32_scan_gives_the_portable_bits(
            (inner, c0, rows) in (1usize..10).prop_flat_map(|groups| (Just(8 * groups), (0..groups).prop_map(|g| 8 * g), 0usize..41)),
            values in prop::collection::vec(prop_oneof![
                6 => -1e30..1e30f32,
                2 => (-3i32..3).prop_map(|k| k as f32),
                1 => Just(f32::NAN),
                1 => Just(f32::INFINITY),
                1 => Just(f32::NEG_INFINITY),
                1 => Just(-0.0f32),
            ], 360),
            next_rows in 0usize..8,
            shift in prop::array::uniform8(-1e3..1e3f64),
        ) {
            let run: Vec<f32> = values.iter().copied().cycle().take(rows * inner).collect();
            let next: Vec<u8> = vec![0; next_rows * inner * 4];
            let Some(fast) = f32::simd_column_scan::<8, true>(&run, &next, inner, c0, &shift) else {
                return Ok(()); // no hand-written scan on this machine
            };
            let slow = scan::<f32, 8, false, true>(&run, &[], inner, c0, &shift);
            let uncounted = f32::simd_column_scan::<8, false>(&run, &next, inner, c0, &shift);
            prop_assert_eq!(uncounted.map(|u| (u.nonzero, u.s2.map(f64::to_bits))), Some(([0; 8], fast.s2.map(f64::to_bits))));
            // NaN sums only say "rescan this run", whatever their payload.
            let sum_bits = |s: &[f64; 8]| s.map(|x| if x.is_nan() { f64::NAN.to_bits() } else { x.to_bits() });
            prop_assert_eq!(sum_bits(&fast.s1), sum_bits(&slow.s1));
            prop_assert_eq!(sum_bits(&fast.s2), sum_bits(&slow.s2));
            prop_assert_eq!(fast.nan, slow.nan);
            prop_assert_eq!(fast.nonzero, slow.nonzero);
            prop_assert_eq!(fast.min.map(f32::to_bits), slow.min.map(f32::to_bits));
            prop_assert_eq!(fast.max.map(f32::to_bits), slow.max.map(f32::to_bits));
        }
    }

    proptest! {
        /// The hand-written scan of eight `f16` columns gives the portable scan's bits.
        #[test]
        fn hand_written_f16_scan_gives_the_portable_bits(
            (inner, c0, rows) in (1usize..6).prop_flat_map(|groups| (Just(8 * groups), (0..groups).prop_map(|g| 8 * g), 0usize..41)),
            values in prop::collection::vec(prop_oneof![
                6 => -6e4..6e4f32,
                2 => (-3i32..3).prop_map(|k| k as f32),
                1 => Just(f32::NAN),
                1 => Just(f32::INFINITY),
                1 => Just(-0.0f32),
                1 => Just(6e-8f32),
            ], 240),
            shift in prop::array::uniform8(-1e3..1e3f64),
        ) {
            let run: Vec<f16> = values.iter().map(|&x| f16::from_f32(x)).cycle().take(rows * inner).collect();
            let next: Vec<u8> = vec![0; 3 * inner * 2];
            let Some(fast) = f16::simd_column_scan::<8, true>(&run, &next, inner, c0, &shift) else {
                return Ok(()); // no hand-written scan on this machine
            };
            let slow = scan::<f16, 8, false, true>(&run, &[], inner, c0, &shift);
            let uncounted = f16::simd_column_scan::<8, false>(&run, &next, inner, c0, &shift);
            prop_assert_eq!(uncounted.map(|u| (u.nonzero, u.s2.map(f64::to_bits))), Some(([0; 8], fast.s2.map(f64::to_bits))));
            let sum_bits = |s: &[f64; 8]| s.map(|x| if x.is_nan() { f64::NAN.to_bits() } else { x.to_bits() });
            prop_assert_eq!(sum_bits(&fast.s1), sum_bits(&slow.s1));
            prop_assert_eq!(sum_bits(&fast.s2), sum_bits(&slow.s2));
            prop_assert_eq!(fast.nonzero, slow.nonzero);
            prop_assert_eq!(fast.min.map(f16::to_bits), slow.min.map(f16::to_bits));
            prop_assert_eq!(fast.max.map(f16::to_bits), slow.max.map(f16::to_bits));
        }
    }

    /// Folds the rows `values` (whole rows of `W` columns) in runs of 7 rows, each prefetching
    /// the next, with the baseline build of the fold and with the one chosen for this CPU, and
    /// compares every accumulator's bits.
    fn same_bits_both_ways<T: Real, const W: usize>(
        values: &[T],
    ) -> std::result::Result<(), TestCaseError> {
        let rows = values.len() / W;
        let xs = &values[..rows * W];
        let mut base = Group::<T, W>::new(xs, W, 0);
        let mut fast = base.clone();
        let runs: Vec<&[T]> = xs.chunks(7 * W).collect();
        for (r, run) in runs.iter().enumerate() {
            let next = runs.get(r + 1).copied().unwrap_or(&[]);
            simd::column_run_baseline::<T, W, true>(&mut base, run, next, W, r * 7);
            simd::column_run::<T, W, true>(&mut fast, run, next, W, r * 7);
        }
        let key = |g: &Group<T, W>| {
            let lanes: Vec<_> = (0..W).map(|j| g.s1.lane(j)).collect();
            let bits = |xs: &[T; W]| xs.map(|x| x.to_f64().to_bits());
            format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                lanes,
                g.s2.map(f64::to_bits),
                g.nan,
                g.nonzero,
                bits(&g.min),
                bits(&g.max),
                g.min_run,
                g.max_run
            )
        };
        prop_assert_eq!(key(&base), key(&fast));
        Ok(())
    }

    #[test]
    fn an_infinity_keeps_the_sum_infinite() {
        let mut s = Neumaier::default();
        for x in [1.0, f64::INFINITY, 2.0] {
            s.add(x);
        }
        assert_eq!(s.value(), f64::INFINITY);
        s.add(f64::NEG_INFINITY);
        assert!(s.value().is_nan());
    }
}
