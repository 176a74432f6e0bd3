//! The fused one-pass statistics kernel: partial results ([`Partial`]) of count, NaN count,
//! non-zero count, sum, centred sum of squares, min and max with their indices, computed over
//! runs of elements and merged in a fixed order.
//!
//! Accuracy: float runs are summed pairwise exactly like numpy (8 accumulators over leaves of
//! 128, halves split at multiples of 8), and run sums are combined with Neumaier's compensated
//! addition, so the error never exceeds numpy's pairwise bound. Integer sums are exact
//! (`i64` per run, `i128` across runs). Float runs are read once: the same scan sums the
//! deviations from a shift and their squares, on the same pairwise tree, and the centred sum
//! of squares follows by exact algebra, guarded against cancellation (see [`push_run`]);
//! integer runs, and float runs the guard refuses, take a second, two-pass scan of the run
//! (in L1). Runs are merged with Chan et al.'s pairwise update.
//!
//! Speed: over `f64` and `f32` a whole run is scanned by one explicit SIMD call
//! ([`simd`](crate::engine::simd)) and shorter runs leaf by leaf, with the same bits as the
//! portable pairwise scan here; it is what `mmnpy stats` spends its time in. The search for
//! the index of a new extreme tests 16 elements at a time.
//!
//! This module works on slices only; it knows nothing of files, mappings or threads.

use crate::engine::elements::{RUN, Real};
use crate::engine::simd::{LeafLanes, tree};

/// Neumaier's compensated sum: `sum + comp` carries about twice the working precision.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Neumaier {
    sum: f64,
    comp: f64,
}

impl Neumaier {
    /// Add one term.
    #[inline]
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if !t.is_finite() {
            // An infinity or NaN: the plain sum is the answer (the compensation would turn
            // `inf` into NaN), so leave the compensation as it was.
        } else if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// Add another compensated sum.
    pub(crate) fn merge(&mut self, other: Neumaier) {
        self.add(other.sum);
        self.add(other.comp);
    }

    /// The sum, rounded once.
    pub(crate) fn value(self) -> f64 {
        self.sum + self.comp
    }
}

/// `W` Neumaier sums side by side, their parts in separate arrays: [`NeumaierLanes::add`]
/// selects instead of branching, so a loop of it vectorises, and gives each lane exactly the
/// bits of [`Neumaier::add`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct NeumaierLanes<const W: usize> {
    sum: [f64; W],
    comp: [f64; W],
}

impl<const W: usize> Default for NeumaierLanes<W> {
    fn default() -> Self {
        NeumaierLanes {
            sum: [0.0; W],
            comp: [0.0; W],
        }
    }
}

impl<const W: usize> NeumaierLanes<W> {
    /// Add `xs[j]` to lane `j`, like [`Neumaier::add`] on each.
    #[inline(always)]
    pub(crate) fn add(&mut self, xs: &[f64; W]) {
        // Written as selects of operands rather than of results, so that the loop compiles
        // to full-width vector operations (the same additions, so the same bits).
        for (j, &x) in xs.iter().enumerate() {
            let s = self.sum[j];
            let t = s + x;
            let s_is_big = s.abs() >= x.abs();
            let big = if s_is_big { s } else { x };
            let small = if s_is_big { x } else { s };
            let comp = self.comp[j] + ((big - t) + small);
            self.comp[j] = if t.is_finite() { comp } else { self.comp[j] };
            self.sum[j] = t;
        }
    }

    /// Lane `j`.
    pub(crate) fn lane(&self, j: usize) -> Neumaier {
        Neumaier {
            sum: self.sum[j],
            comp: self.comp[j],
        }
    }
}

/// How a position in memory maps to the index reported by argmin/argmax.
#[derive(Clone, Debug)]
pub(crate) enum IndexMap {
    /// Reported index = memory position (C order, or positions along an axis).
    Identity,
    /// Memory is Fortran order of this shape; report the C-order flat index. Not monotone, so
    /// ties must be resolved by the smallest reported index, not the first seen.
    FortranToC(Vec<usize>),
}

impl IndexMap {
    fn map(&self, position: u64) -> u64 {
        match self {
            IndexMap::Identity => position,
            IndexMap::FortranToC(shape) => fortran_to_c(position, shape),
        }
    }

    fn monotone(&self) -> bool {
        matches!(self, IndexMap::Identity)
    }
}

/// The C-order flat index of the element at Fortran-order flat position `f` of `shape`.
pub(crate) fn fortran_to_c(mut f: u64, shape: &[usize]) -> u64 {
    let mut multi = [0u64; 64];
    for (k, &d) in shape.iter().enumerate() {
        let d = d.max(1) as u64;
        multi[k] = f % d;
        f /= d;
    }
    shape
        .iter()
        .enumerate()
        .fold(0u64, |c, (k, &d)| c * d as u64 + multi[k])
}

/// A value and the index it was found at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Extreme<T> {
    pub(crate) value: T,
    pub(crate) index: u64,
}

/// Partial statistics of some elements of type `T`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Partial<T> {
    pub(crate) count: u64,
    pub(crate) nan_count: u64,
    pub(crate) nonzero: u64,
    pub(crate) fsum: Neumaier,
    pub(crate) isum: i128,
    pub(crate) m2: f64,
    pub(crate) min: Option<Extreme<T>>,
    pub(crate) max: Option<Extreme<T>>,
}

impl<T: Real> Default for Partial<T> {
    fn default() -> Self {
        Partial {
            count: 0,
            nan_count: 0,
            nonzero: 0,
            fsum: Neumaier::default(),
            isum: 0,
            m2: 0.0,
            min: None,
            max: None,
        }
    }
}

impl<T: Real> Partial<T> {
    /// The sum as `f64` (exact integer sums are rounded once).
    pub(crate) fn sum_f64(&self) -> f64 {
        if T::IS_FLOAT {
            self.fsum.value()
        } else {
            self.isum as f64
        }
    }

    /// Mean of the non-NaN elements (NaN when there are none).
    pub(crate) fn mean(&self) -> f64 {
        self.sum_f64() / self.count as f64
    }

    /// Merge the statistics of other elements into these. Deterministic: the same two
    /// partials always give the same bits. Ties of min/max keep the smaller index.
    pub(crate) fn merge(&mut self, other: &Partial<T>) {
        if other.count > 0 {
            if self.count == 0 {
                self.m2 = other.m2;
            } else {
                let (na, nb) = (self.count as f64, other.count as f64);
                let delta = other.mean() - self.mean();
                self.m2 += other.m2 + delta * delta * (na * nb / (na + nb));
            }
        }
        self.count += other.count;
        self.nan_count += other.nan_count;
        self.nonzero += other.nonzero;
        self.fsum.merge(other.fsum);
        self.isum += other.isum;
        self.min = pick(self.min, other.min, |a, b| a.less(b));
        self.max = pick(self.max, other.max, |a, b| b.less(a));
    }
}

/// The better of two extremes: `better(a, b)` says a beats b; equal values keep the smaller
/// index.
fn pick<T: Real>(
    a: Option<Extreme<T>>,
    b: Option<Extreme<T>>,
    better: impl Fn(T, T) -> bool,
) -> Option<Extreme<T>> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => {
            if better(b.value, a.value) || (!better(a.value, b.value) && b.index < a.index) {
                Some(b)
            } else {
                Some(a)
            }
        }
    }
}

/// Per-lane NaN counts, non-zero counts and extremes, updated by the scan over a run (the
/// portable leaf updates them element by element, the SIMD leaf once per leaf). Four lanes:
/// enough to break the dependency chains of the element-by-element updates.
struct Lanes<T> {
    nan: [u32; 4],
    nonzero: [u32; 4],
    lo: [T; 4],
    hi: [T; 4],
}

impl<T: Real> Lanes<T> {
    fn new() -> Lanes<T> {
        Lanes {
            nan: [0; 4],
            nonzero: [0; 4],
            lo: [T::MIN_INIT; 4],
            hi: [T::MAX_INIT; 4],
        }
    }

    /// Fold `x` into lane `k & 3`. `COUNT_NAN = false` when the run is known to hold no NaN.
    #[inline(always)]
    fn update<const COUNT_NAN: bool>(&mut self, k: usize, x: T) {
        let k = k & 3;
        if COUNT_NAN {
            self.nan[k] += x.is_nan() as u32;
        }
        self.nonzero[k] += x.is_nonzero() as u32;
        self.update_extremes(k, x, x);
    }

    /// Fold in the non-zero count and extremes of a leaf.
    fn absorb(&mut self, leaf: &LeafLanes<T>) {
        self.nonzero[0] += leaf.nonzero as u32;
        self.update_extremes(0, leaf.lo, leaf.hi);
    }

    #[inline(always)]
    fn update_extremes(&mut self, k: usize, lo: T, hi: T) {
        self.lo[k] = if lo.less(self.lo[k]) { lo } else { self.lo[k] };
        self.hi[k] = if self.hi[k].less(hi) { hi } else { self.hi[k] };
    }

    /// `(nan_count, nonzero_count, min, max)` over all lanes.
    fn finish(&self) -> (u64, u64, T, T) {
        let mut min = T::MIN_INIT;
        let mut max = T::MAX_INIT;
        for k in 0..4 {
            min = if self.lo[k].less(min) {
                self.lo[k]
            } else {
                min
            };
            max = if max.less(self.hi[k]) {
                self.hi[k]
            } else {
                max
            };
        }
        let total = |c: &[u32; 4]| c.iter().map(|&c| c as u64).sum();
        (total(&self.nan), total(&self.nonzero), min, max)
    }
}

/// The three sums of the one-pass scan: the plain sum of the values, and the sums of the
/// deviations `d = x - shift` and of their squares. NaN contributes nothing to any of them
/// when it is skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Sums {
    sum: f64,
    shifted: f64,
    squares: f64,
}

impl std::ops::Add for Sums {
    type Output = Sums;
    fn add(self, other: Sums) -> Sums {
        Sums {
            sum: self.sum + other.sum,
            shifted: self.shifted + other.shifted,
            squares: self.squares + other.squares,
        }
    }
}

impl Sums {
    /// Add one element sequentially (the short tails of numpy's pairwise sum).
    #[inline(always)]
    fn push<T: Real, const SKIP_NAN: bool>(&mut self, x: T, shift: f64) {
        let (v, d) = kept::<T, SKIP_NAN>(x, shift);
        self.sum += v;
        self.shifted += d;
        self.squares += d * d;
    }
}

/// `x` as a summand and its deviation from `shift`: NaN counts as 0 for both when
/// `SKIP_NAN`. Without NaN in the run both give the same bits.
#[inline(always)]
fn kept<T: Real, const SKIP_NAN: bool>(x: T, shift: f64) -> (f64, f64) {
    if SKIP_NAN && x.is_nan() {
        (0.0, 0.0)
    } else {
        let v = x.to_f64();
        (v, v - shift)
    }
}

/// numpy's pairwise summation (`pairwise_sum` in `loops_utils.h`) in `f64`, skipping NaN,
/// fused with the shifted sums (the same tree: 8 lanes over leaves of at most 128, so their
/// rounding error grows like the sum's), the NaN and non-zero counts and the min/max lanes,
/// so a run is read once for all of them.
///
/// `SKIP_NAN = false` is the fast scan of a run without NaN: it neither tests nor counts
/// them. Its sum is NaN if the run held one (NaN propagates through every addition), and
/// then the caller scans again with `SKIP_NAN = true`; otherwise every `kept` was the value
/// itself, so both scans give the same bits.
fn pairwise_scan<T: Real, const SKIP_NAN: bool>(
    xs: &[T],
    shift: f64,
    lanes: &mut Lanes<T>,
) -> Sums {
    if xs.len() < 8 {
        let mut s = Sums::default();
        for &x in xs {
            lanes.update::<SKIP_NAN>(0, x);
            s.push::<T, SKIP_NAN>(x, shift);
        }
        s
    } else if xs.len() <= 128 {
        let (whole, tail) = xs.split_at(xs.len() / 8 * 8);
        let leaf = match SKIP_NAN {
            false => T::simd_leaf(whole, shift),
            true => None,
        }
        .unwrap_or_else(|| portable_leaf::<T, SKIP_NAN>(whole, shift, lanes));
        lanes.absorb(&leaf);
        let mut s = Sums {
            sum: leaf.sum,
            shifted: leaf.shifted,
            squares: leaf.squares,
        };
        for &x in tail {
            lanes.update::<SKIP_NAN>(0, x);
            s.push::<T, SKIP_NAN>(x, shift);
        }
        s
    } else {
        let half = xs.len() / 2 / 8 * 8;
        pairwise_scan::<T, SKIP_NAN>(&xs[..half], shift, lanes)
            + pairwise_scan::<T, SKIP_NAN>(&xs[half..], shift, lanes)
    }
}

/// The leaf of [`pairwise_scan`] over whole 8-element chunks, in portable code: lane `k` of
/// each sum adds the elements at `k, k + 8, ...` in turn (what numpy's 8 accumulators do).
/// NaN counts and extremes go straight into `lanes`; the returned extremes are neutral.
#[inline(always)]
fn portable_leaf<T: Real, const SKIP_NAN: bool>(
    xs: &[T],
    shift: f64,
    lanes: &mut Lanes<T>,
) -> LeafLanes<T> {
    let (mut sum, mut shifted, mut squares) = ([0.0f64; 8], [0.0f64; 8], [0.0f64; 8]);
    for chunk in xs.chunks_exact(8) {
        for k in 0..8 {
            let (v, d) = kept::<T, SKIP_NAN>(chunk[k], shift);
            sum[k] += v;
            shifted[k] += d;
            squares[k] += d * d;
            lanes.update::<SKIP_NAN>(k, chunk[k]);
        }
    }
    LeafLanes {
        sum: tree(&sum),
        shifted: tree(&shifted),
        squares: tree(&squares),
        nonzero: 0,
        lo: T::MIN_INIT,
        hi: T::MAX_INIT,
    }
}

/// Exact sum of a run of at most [`RUN`] integers (via `(hi, lo)` halves), fused with the
/// min/max lanes.
///
/// Each of the 8 lanes keeps its own extremes and non-zero count through the run (integers
/// have no NaN and no signed zero, so the order does not matter), folded into `lanes` at the
/// end: independent lanes compile to vector compares and selects.
#[inline(always)]
fn split_sum_scan<T: Real>(xs: &[T], lanes: &mut Lanes<T>) -> i128 {
    let mut hi = [0i64; 8];
    let mut lo = [0i64; 8];
    let (mut min, mut max) = ([T::MIN_INIT; 8], [T::MAX_INIT; 8]);
    let mut nonzero = [0u32; 8];
    let mut chunks = xs.chunks_exact(8);
    for chunk in &mut chunks {
        for k in 0..8 {
            let x = chunk[k];
            let (h, l) = x.split();
            hi[k] += h;
            lo[k] += l;
            min[k] = if x.less(min[k]) { x } else { min[k] };
            max[k] = if max[k].less(x) { x } else { max[k] };
            nonzero[k] += x.is_nonzero() as u32;
        }
    }
    for k in 0..8 {
        lanes.update_extremes(k & 3, min[k], max[k]);
        lanes.nonzero[k & 3] += nonzero[k];
    }
    let (mut h, mut l): (i64, i64) = (hi.iter().sum(), lo.iter().sum());
    for &x in chunks.remainder() {
        let (a, b) = x.split();
        h += a;
        l += b;
        lanes.update::<false>(0, x);
    }
    ((h as i128) << 32) + l as i128
}

/// Sum of squared deviations from `mean` of the non-NaN elements: the exact two-pass
/// formula, for integer runs and for float runs the one-pass shift did not suit.
/// `SKIP_NAN = false` when the run holds no NaN (the same bits, without the test).
#[inline(always)]
fn centred_squares<T: Real, const SKIP_NAN: bool>(xs: &[T], mean: f64) -> f64 {
    let mut lanes = [0.0f64; 8];
    let mut chunks = xs.chunks_exact(8);
    for chunk in &mut chunks {
        for k in 0..8 {
            let x = chunk[k];
            let d = x.to_f64() - mean;
            lanes[k] += if SKIP_NAN && x.is_nan() { 0.0 } else { d * d };
        }
    }
    let mut s = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
        + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for &x in chunks.remainder() {
        let d = x.to_f64() - mean;
        s += if SKIP_NAN && x.is_nan() { 0.0 } else { d * d };
    }
    s
}

/// The one-pass variance is used only when the correction `(Σd)²/n` is at most this
/// fraction of the result `Σd² - (Σd)²/n`: then the cancellation costs at most a few percent
/// of the result's accuracy, far less than the shorter summation tree gains over the old
/// two-pass lanes (see [`push_run`]). Otherwise the run falls back to the exact two-pass.
const MAX_CORRECTION: f64 = 1.0 / 64.0;

/// The centred sum of squares of `count` values from their shifted sums, or `None` when the
/// shift was too far from their mean for the subtraction to be accurate (or a sum is not
/// finite: infinities, where the two-pass gives numpy's NaN).
fn shifted_m2(sums: Sums, count: u64) -> Option<f64> {
    let correction = sums.shifted * (sums.shifted / count as f64);
    let m2 = sums.squares - correction;
    (m2.is_finite() && correction <= m2 * MAX_CORRECTION).then_some(m2)
}

fn equal<T: Real>(a: T, b: T) -> bool {
    !a.less(b) && !b.less(a)
}

/// Where `target` occurs in `xs` (whose first element sits at memory position `first`): the
/// extreme as found there, with its reported index (the first occurrence if `index` is
/// monotone, else the smallest mapped one). The value comes from the element itself, so the
/// sign of a zero extreme does not depend on the order in which lanes met `0.0` and `-0.0`.
fn locate<T: Real>(xs: &[T], target: T, first: u64, index: &IndexMap) -> Extreme<T> {
    if index.monotone() {
        // `target` is never NaN (no NaN is an extreme), so `same` is `equal` without NaN.
        return match first_equal(xs, target) {
            Some(i) => Extreme {
                value: xs[i],
                index: first + i as u64,
            },
            None => Extreme {
                value: target,
                index: u64::MAX,
            },
        };
    }
    let hits = xs
        .iter()
        .enumerate()
        .filter(|&(_, &x)| !x.is_nan() && equal(x, target))
        .map(|(i, &x)| Extreme {
            value: x,
            index: index.map(first + i as u64),
        });
    hits.min_by_key(|e| e.index).unwrap_or(Extreme {
        value: target,
        index: u64::MAX,
    })
}

/// The position of the first element of `xs` that is `target` (not NaN; [`Real::same`]).
/// Chunks of 16 are tested with an OR of comparisons, which compiles to a few vector compares
/// per chunk, and only the chunk with the hit is searched element by element: a search of a
/// run that holds a new extreme costs a fraction of the element-by-element one's time.
fn first_equal<T: Real>(xs: &[T], target: T) -> Option<usize> {
    const CHUNK: usize = 16;
    let mut chunks = xs.chunks_exact(CHUNK);
    for (c, chunk) in chunks.by_ref().enumerate() {
        if chunk.iter().fold(false, |any, &x| any | x.same(target)) {
            return chunk
                .iter()
                .position(|&x| x.same(target))
                .map(|i| c * CHUNK + i);
        }
    }
    let done = xs.len() / CHUNK * CHUNK;
    chunks
        .remainder()
        .iter()
        .position(|&x| x.same(target))
        .map(|i| done + i)
}

/// Fold one run `xs` (at most [`RUN`] elements, the first at memory position `first`) into
/// `acc`, which holds the statistics of everything before it.
///
/// Floats are read once: the sum, the NaN and non-zero counts, the extremes and the sums of
/// `d = x - shift` and `d²` in one scan, with `shift` the mean of the elements before (in this
/// partial, so it depends on the chunk plan only) or the run's first element. Then
/// `m2 = Σd² - (Σd)²/n` is exact algebra and, when `(Σd)²/n` is small next to `m2`
/// (`MAX_CORRECTION`), as accurate as the centred two-pass; when it is not (a first run whose
/// first element is far from its mean, sorted data, infinities) the run is scanned again with
/// the exact two-pass formula around its own mean.
///
/// Without `NONZERO` the non-zero count of `acc` is left incomplete: the whole-run SIMD scans,
/// where the time goes, skip its compares (the caller reports no count).
#[inline(always)]
pub(crate) fn push_run<T: Real, const NONZERO: bool>(
    acc: &mut Partial<T>,
    xs: &[T],
    first: u64,
    index: &IndexMap,
) {
    debug_assert!(xs.len() <= RUN);
    let mut lanes = Lanes::new();
    let mut run = Partial::<T>::default();
    let mut shifted = None;
    if T::IS_FLOAT {
        let shift = if acc.count > 0 {
            acc.mean()
        } else {
            xs.first().map_or(0.0, |x| x.to_f64())
        };
        let shift = if shift.is_finite() { shift } else { 0.0 };
        let whole_run = (xs.len() == RUN)
            .then(|| T::simd_run::<NONZERO>(xs, shift))
            .flatten();
        let mut sums = match whole_run {
            Some(run) => {
                lanes.absorb(&run);
                Sums {
                    sum: run.sum,
                    shifted: run.shifted,
                    squares: run.squares,
                }
            }
            None => pairwise_scan::<T, false>(xs, shift, &mut lanes),
        };
        if sums.sum.is_nan() {
            // A NaN in the run (or inf - inf): the careful scan, which skips and counts NaN.
            lanes = Lanes::new();
            sums = pairwise_scan::<T, true>(xs, shift, &mut lanes);
        }
        run.fsum.add(sums.sum);
        shifted = Some(sums);
    } else {
        run.isum = split_sum_scan(xs, &mut lanes);
    }
    let (nan, nonzero, min, max) = lanes.finish();
    run.nan_count = nan;
    run.nonzero = nonzero;
    run.count = xs.len() as u64 - nan;
    if run.count > 0 {
        run.m2 = match shifted.and_then(|sums| shifted_m2(sums, run.count)) {
            Some(m2) => m2,
            None if nan == 0 => centred_squares::<T, false>(xs, run.mean()),
            None => centred_squares::<T, true>(xs, run.mean()),
        };
        // Only a run that can change the answer holds a candidate: it beats the running
        // extreme, or ties it and the index order is not monotone. Where the order is
        // monotone the candidate's index is the run's first position until the caller's
        // `settle_extremes` searches the one run that holds the final extreme: of the ten or
        // so candidates in a block of random data only the winner is searched (the searches
        // took 6% of `mmnpy stats --threads 1`). Ties between such candidates go to the
        // earlier run, which holds the earlier index.
        let monotone = index.monotone();
        let wins = |cand: T, held: Option<Extreme<T>>, better: &dyn Fn(T, T) -> bool| match held {
            None => true,
            Some(h) => better(cand, h.value) || (!monotone && equal(cand, h.value)),
        };
        let candidate = |target: T| match monotone {
            true => Extreme {
                value: target,
                index: first,
            },
            false => locate(xs, target, first, index),
        };
        if wins(min, acc.min, &|a, b| a.less(b)) {
            run.min = Some(candidate(min));
        }
        if wins(max, acc.max, &|a, b| b.less(a)) {
            run.max = Some(candidate(max));
        }
    }
    acc.merge(&run);
}

/// Turn the candidates [`push_run`] left in `acc` (for a monotone `index`: each extreme at
/// the first position of the run holding it) into the extremes with their indices, after the
/// last run: `with_run(start, f)` calls `f` on the run that starts at memory position `start`,
/// as it was handed to `push_run`.
pub(crate) fn settle_extremes<T: Real>(
    acc: &mut Partial<T>,
    index: &IndexMap,
    mut with_run: impl FnMut(u64, &mut dyn FnMut(&[T])),
) {
    if !index.monotone() {
        return;
    }
    for extreme in [&mut acc.min, &mut acc.max] {
        if let Some(candidate) = *extreme {
            with_run(candidate.index, &mut |run| {
                *extreme = Some(locate(run, candidate.value, candidate.index, index));
            });
        }
    }
}

/// Statistics of a slice of elements at memory positions `first..`, run by run.
#[cfg(test)]
pub(crate) fn partial_of<T: Real>(xs: &[T], first: u64, index: &IndexMap) -> Partial<T> {
    let mut acc = Partial::default();
    for (k, run) in xs.chunks(RUN).enumerate() {
        push_run::<T, true>(&mut acc, run, first + (k * RUN) as u64, index);
    }
    settle_extremes(&mut acc, index, |start, f| {
        let at = (start - first) as usize;
        f(&xs[at..(at + RUN).min(xs.len())]);
    });
    acc
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What the portable pairwise scan gives for a run: the sums' bits, the non-zero count and
    /// the extremes.
    fn portable_scan<T: Real>(xs: &[T], shift: f64) -> ([u64; 3], u64, T, T) {
        let mut lanes = Lanes::new();
        let sums = pairwise_scan::<T, false>(xs, shift, &mut lanes);
        let (_, nonzero, lo, hi) = lanes.finish();
        let bits = [sums.sum, sums.shifted, sums.squares].map(f64::to_bits);
        (bits, nonzero, lo, hi)
    }

    fn whole_run_scan<T: Real, const NONZERO: bool>(
        xs: &[T],
        shift: f64,
    ) -> Option<([u64; 3], u64, T, T)> {
        let run = T::simd_run::<NONZERO>(xs, shift)?;
        let bits = [run.sum, run.shifted, run.squares].map(f64::to_bits);
        Some((bits, run.nonzero, run.lo, run.hi))
    }

    /// The whole-run scan of `xs` against the portable scan: the same bits, extremes and
    /// non-zero count, or the same without the count (0) when asked to leave it out.
    fn check_whole_run<T: Real>(xs: &[T], shift: f64) -> std::result::Result<(), TestCaseError> {
        let want = portable_scan(xs, shift);
        if let Some(got) = whole_run_scan::<T, true>(xs, shift) {
            prop_assert_eq!(got, want);
        }
        if let Some(got) = whole_run_scan::<T, false>(xs, shift) {
            prop_assert_eq!(got, (want.0, 0, want.2, want.3));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn the_whole_run_scans_give_the_pairwise_scans_bits(
            values in prop::collection::vec(
                prop_oneof![
                    6 => -1e6..1e6f64,
                    1 => Just(0.0),
                    1 => Just(-0.0),
                    1 => (-3i32..3).prop_map(|i| i as f64 * 1e30),
                ],
                RUN..=RUN,
            ),
            shift in -1e3..1e3f64,
        ) {
            check_whole_run(&values, shift)?;
            let narrow: Vec<f32> = values.iter().map(|&x| x as f32).collect();
            check_whole_run(&narrow, shift)?;
            let half: Vec<half::f16> = values.iter().map(|&x| half::f16::from_f64(x)).collect();
            check_whole_run(&half, shift)?;
        }
    }

    #[test]
    fn neumaier_lanes_give_the_bits_of_neumaier() {
        let terms = [
            1e16,
            1.0,
            -1e16,
            3.5,
            1e-3,
            f64::INFINITY,
            2.0,
            f64::NEG_INFINITY,
            0.1,
        ];
        let mut lanes = NeumaierLanes::<3>::default();
        let mut one = [Neumaier::default(); 3];
        for (k, &x) in terms.iter().enumerate() {
            // Lane 0 sees every term, lane 1 only the finite ones, lane 2 them scaled.
            let xs = [x, if x.is_finite() { x } else { 0.0 }, x * 1e-7 + k as f64];
            lanes.add(&xs);
            for (n, &x) in one.iter_mut().zip(&xs) {
                n.add(x);
            }
        }
        for (j, n) in one.iter().enumerate() {
            let lane = lanes.lane(j);
            assert_eq!(
                (lane.sum.to_bits(), lane.comp.to_bits()),
                (n.sum.to_bits(), n.comp.to_bits()),
                "lane {j}"
            );
        }
        assert!(lanes.lane(0).value().is_nan());
        assert!(lanes.lane(1).value().is_finite());
    }

    #[test]
    fn fortran_positions_map_to_c_indices() {
        // shape (2, 3): Fortran memory order visits (0,0) (1,0) (0,1) (1,1) (0,2) (1,2).
        let c: Vec<u64> = (0..6).map(|f| fortran_to_c(f, &[2, 3])).collect();
        assert_eq!(c, [0, 3, 1, 4, 2, 5]);
    }

    #[test]
    fn neumaier_recovers_what_plain_addition_loses() {
        let mut s = Neumaier::default();
        for x in [1e100, 1.0, -1e100] {
            s.add(x);
        }
        assert_eq!(s.value(), 1.0);
    }

    #[test]
    fn a_shift_far_from_the_mean_falls_back_to_the_two_pass() {
        // 1e8 + k/1000: the sums around shift 0 cancel catastrophically; around the mean
        // they do not.
        let xs: Vec<f64> = (0..2000).map(|k| 1e8 + k as f64 / 1000.0).collect();
        let sums_around = |shift: f64| {
            let mut lanes = Lanes::new();
            pairwise_scan::<f64, false>(&xs, shift, &mut lanes)
        };
        assert_eq!(shifted_m2(sums_around(0.0), 2000), None);
        let exact = (2000.0f64.powi(3) - 2000.0) / 12.0 / 1e6; // n (n² - 1) / 12, steps of 1e-3
        let m2 = shifted_m2(sums_around(1e8 + 0.9995), 2000).unwrap();
        assert!(((m2 - exact) / exact).abs() < 1e-9, "m2 {m2} exact {exact}");
        // Around the first element (push_run's shift for a first run) the ramp's correction is
        // 3 times m2: refused, so the run is summed two-pass around its mean.
        assert_eq!(shifted_m2(sums_around(xs[0]), 2000), None);
        let p = partial_of(&xs, 0, &IndexMap::Identity);
        let two_pass = centred_squares::<f64, false>(&xs, p.mean());
        assert!(((p.m2 - two_pass) / two_pass).abs() < 1e-9);
    }

    /// numpy's nanargmin and nanargmax of `xs` (the first occurrence among the non-NaN) as
    /// `(index, value bits)`, the first element at position `first`.
    fn first_extremes(xs: &[f64], first: u64) -> Option<((u64, u64), (u64, u64))> {
        let kept = || xs.iter().enumerate().filter(|(_, x)| !x.is_nan());
        let mut lo = kept().next()?;
        let mut hi = lo;
        for (i, x) in kept() {
            if x < lo.1 {
                lo = (i, x);
            }
            if x > hi.1 {
                hi = (i, x);
            }
        }
        let pair = |(i, x): (usize, &f64)| (first + i as u64, x.to_bits());
        Some((pair(lo), pair(hi)))
    }

    /// The extremes of `p` in [`first_extremes`]'s terms (values widened to `f64`).
    fn found<T: Real>(p: &Partial<T>) -> Option<((u64, u64), (u64, u64))> {
        let pair = |e: Extreme<T>| (e.index, e.value.to_f64().to_bits());
        p.min.zip(p.max).map(|(lo, hi)| (pair(lo), pair(hi)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A block spans many runs, each of which may hold a candidate extreme (ties, zeros of
        /// either sign, NaN): the one settled is numpy's first occurrence, in both byte orders.
        #[test]
        fn extremes_over_many_runs_are_the_first_occurrences(
            values in prop::collection::vec(
                prop_oneof![
                    4 => (-3i32..4).prop_map(f64::from),
                    1 => Just(-0.0),
                    1 => Just(f64::NAN),
                ],
                0..5 * RUN,
            ),
            first in 0u64..1 << 40,
        ) {
            let expected = first_extremes(&values, first);
            prop_assert_eq!(found(&partial_of(&values, first, &IndexMap::Identity)), expected);
            // Integers take the same path (in their AVX2 build): the values without NaN.
            let kept: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).map(|x| x + 0.0).collect();
            let int_expected = first_extremes(&kept, first);
            for big in [false, true] {
                let native = big == cfg!(target_endian = "big");
                let bytes: Vec<u8> = values
                    .iter()
                    .flat_map(|x| if big { x.to_be_bytes() } else { x.to_le_bytes() })
                    .collect();
                let p = crate::engine::stats::partial_of_bytes::<f64, true>(
                    &bytes, native, first, &IndexMap::Identity,
                );
                prop_assert_eq!(found(&p), expected, "big-endian: {}", big);
                let ints: Vec<u8> = kept
                    .iter()
                    .flat_map(|&x| if big { (x as i16).to_be_bytes() } else { (x as i16).to_le_bytes() })
                    .collect();
                let p = crate::engine::stats::partial_of_bytes::<i16, true>(
                    &ints, native, first, &IndexMap::Identity,
                );
                prop_assert_eq!(found(&p), int_expected, "big-endian: {}", big);
            }
        }
    }

    #[test]
    fn extremes_and_ties_follow_numpy() {
        let xs = [3.0, f64::NAN, -1.0, 7.0, -1.0, 7.0];
        let p = partial_of(&xs, 0, &IndexMap::Identity);
        assert_eq!((p.count, p.nan_count, p.nonzero), (5, 1, 6));
        assert_eq!(p.min.map(|m| (m.value, m.index)), Some((-1.0, 2)));
        assert_eq!(p.max.map(|m| (m.value, m.index)), Some((7.0, 3)));
        assert_eq!(p.fsum.value(), 15.0);
    }
}
