//! The fused one-pass statistics kernel: partial results ([`Partial`]) of count, NaN count,
//! non-zero count, sum, centred sum of squares, min and max with their indices, computed over
//! runs of elements and merged in a fixed order.
//!
//! Accuracy: float runs are summed pairwise exactly like numpy (8 accumulators over leaves of
//! 128, halves split at multiples of 8), and run sums are combined with Neumaier's compensated
//! addition, so the error never exceeds numpy's pairwise bound. Integer sums are exact
//! (`i64` per run, `i128` across runs). Variance is computed two-pass within each run (the run
//! is in L1) and merged across runs with Chan et al.'s pairwise update.
//!
//! This module works on slices only; it knows nothing of files, mappings or threads.

use crate::engine::elements::{RUN, Real};

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

/// Per-lane NaN counts and extremes, updated by the first pass over a run. Four lanes, not
/// eight: with the eight sums they still fit the SSE2 registers without spilling.
struct Lanes<T> {
    nan: [u32; 4],
    lo: [T; 4],
    hi: [T; 4],
}

impl<T: Real> Lanes<T> {
    fn new() -> Lanes<T> {
        Lanes {
            nan: [0; 4],
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
        self.lo[k] = if x.less(self.lo[k]) { x } else { self.lo[k] };
        self.hi[k] = if self.hi[k].less(x) { x } else { self.hi[k] };
    }

    /// `(nan_count, min, max)` over all lanes.
    fn finish(&self) -> (u64, T, T) {
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
        (self.nan.iter().map(|&c| c as u64).sum(), min, max)
    }
}

/// `x` as a summand: NaN counts as 0 when `SKIP_NAN`. Without NaN in the run both give the
/// same bits.
#[inline(always)]
fn kept<T: Real, const SKIP_NAN: bool>(x: T) -> f64 {
    if SKIP_NAN && x.is_nan() {
        0.0
    } else {
        x.to_f64()
    }
}

/// numpy's pairwise summation (`pairwise_sum` in `loops_utils.h`) in `f64`, skipping NaN,
/// fused with the NaN count and min/max lanes so a run is read once for all of them.
///
/// `SKIP_NAN = false` is the fast scan of a run without NaN: it neither tests nor counts
/// them. Its sum is NaN if the run held one (NaN propagates through every addition), and
/// then the caller scans again with `SKIP_NAN = true`; otherwise every `kept` was the value
/// itself, so both scans give the same bits.
fn pairwise_scan<T: Real, const SKIP_NAN: bool>(xs: &[T], lanes: &mut Lanes<T>) -> f64 {
    if xs.len() < 8 {
        let mut s = 0.0;
        for &x in xs {
            lanes.update::<SKIP_NAN>(0, x);
            s += kept::<T, SKIP_NAN>(x);
        }
        s
    } else if xs.len() <= 128 {
        let mut sums = [0.0f64; 8];
        let mut chunks = xs.chunks_exact(8);
        for chunk in &mut chunks {
            for k in 0..8 {
                sums[k] += kept::<T, SKIP_NAN>(chunk[k]);
                lanes.update::<SKIP_NAN>(k, chunk[k]);
            }
        }
        let mut s = ((sums[0] + sums[1]) + (sums[2] + sums[3]))
            + ((sums[4] + sums[5]) + (sums[6] + sums[7]));
        for &x in chunks.remainder() {
            lanes.update::<SKIP_NAN>(0, x);
            s += kept::<T, SKIP_NAN>(x);
        }
        s
    } else {
        let half = xs.len() / 2 / 8 * 8;
        pairwise_scan::<T, SKIP_NAN>(&xs[..half], lanes)
            + pairwise_scan::<T, SKIP_NAN>(&xs[half..], lanes)
    }
}

/// Exact sum of a run of at most [`RUN`] integers (via `(hi, lo)` halves), fused with the
/// min/max lanes.
fn split_sum_scan<T: Real>(xs: &[T], lanes: &mut Lanes<T>) -> i128 {
    let mut hi = [0i64; 8];
    let mut lo = [0i64; 8];
    let mut chunks = xs.chunks_exact(8);
    for chunk in &mut chunks {
        for k in 0..8 {
            let (h, l) = chunk[k].split();
            hi[k] += h;
            lo[k] += l;
            lanes.update::<false>(k, chunk[k]);
        }
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

/// Sum of squared deviations from `mean` of the non-NaN elements, and the non-zero count.
/// `SKIP_NAN = false` when the run holds no NaN (the same bits, without the test).
fn centred_squares<T: Real, const SKIP_NAN: bool>(xs: &[T], mean: f64) -> (f64, u64) {
    let mut lanes = [0.0f64; 8];
    let mut nonzero = [0u32; 8];
    let mut chunks = xs.chunks_exact(8);
    for chunk in &mut chunks {
        for k in 0..8 {
            let x = chunk[k];
            let d = x.to_f64() - mean;
            lanes[k] += if SKIP_NAN && x.is_nan() { 0.0 } else { d * d };
            nonzero[k] += x.is_nonzero() as u32;
        }
    }
    let mut s = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
        + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    let mut z: u64 = nonzero.iter().map(|&c| c as u64).sum();
    for &x in chunks.remainder() {
        let d = x.to_f64() - mean;
        s += if SKIP_NAN && x.is_nan() { 0.0 } else { d * d };
        z += x.is_nonzero() as u64;
    }
    (s, z)
}

fn equal<T: Real>(a: T, b: T) -> bool {
    !a.less(b) && !b.less(a)
}

/// Where `target` occurs in `xs` (whose first element sits at memory position `first`), as a
/// reported index: the first occurrence if `index` is monotone, else the smallest mapped one.
fn locate<T: Real>(xs: &[T], target: T, first: u64, index: &IndexMap) -> u64 {
    let mut hits = xs
        .iter()
        .enumerate()
        .filter(|&(_, &x)| !x.is_nan() && equal(x, target))
        .map(|(i, _)| index.map(first + i as u64));
    if index.monotone() {
        hits.next().unwrap_or(u64::MAX)
    } else {
        hits.min().unwrap_or(u64::MAX)
    }
}

/// Fold one run `xs` (at most [`RUN`] elements, the first at memory position `first`) into
/// `acc`, which holds the statistics of everything before it.
pub(crate) fn push_run<T: Real>(acc: &mut Partial<T>, xs: &[T], first: u64, index: &IndexMap) {
    debug_assert!(xs.len() <= RUN);
    let mut lanes = Lanes::new();
    let mut run = Partial::<T>::default();
    if T::IS_FLOAT {
        let mut sum = pairwise_scan::<T, false>(xs, &mut lanes);
        if sum.is_nan() {
            // A NaN in the run (or inf - inf): the careful scan, which skips and counts NaN.
            lanes = Lanes::new();
            sum = pairwise_scan::<T, true>(xs, &mut lanes);
        }
        run.fsum.add(sum);
    } else {
        run.isum = split_sum_scan(xs, &mut lanes);
    }
    let (nan, min, max) = lanes.finish();
    run.nan_count = nan;
    run.count = xs.len() as u64 - nan;
    let (m2, nonzero) = if nan == 0 {
        centred_squares::<T, false>(xs, run.mean())
    } else {
        centred_squares::<T, true>(xs, run.mean())
    };
    run.nonzero = nonzero;
    if run.count > 0 {
        run.m2 = m2;
        // Only search for the index when this run can change the answer: it beats the
        // running extreme, or ties it and the index order is not monotone.
        let monotone = index.monotone();
        let wins = |cand: T, held: Option<Extreme<T>>, better: &dyn Fn(T, T) -> bool| match held {
            None => true,
            Some(h) => better(cand, h.value) || (!monotone && equal(cand, h.value)),
        };
        if wins(min, acc.min, &|a, b| a.less(b)) {
            run.min = Some(Extreme {
                value: min,
                index: locate(xs, min, first, index),
            });
        }
        if wins(max, acc.max, &|a, b| b.less(a)) {
            run.max = Some(Extreme {
                value: max,
                index: locate(xs, max, first, index),
            });
        }
    }
    acc.merge(&run);
}

/// Statistics of a slice of elements at memory positions `first..`, run by run.
#[cfg(test)]
pub(crate) fn partial_of<T: Real>(xs: &[T], first: u64, index: &IndexMap) -> Partial<T> {
    let mut acc = Partial::default();
    for (k, run) in xs.chunks(RUN).enumerate() {
        push_run(&mut acc, run, first + (k * RUN) as u64, index);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn extremes_and_ties_follow_numpy() {
        let xs = [3.0, f64::NAN, -1.0, 7.0, -1.0, 7.0];
        let p = partial_of(&xs, 0, &IndexMap::Identity);
        assert_eq!((p.count, p.nan_count, p.nonzero), (5, 1, 6));
        assert_eq!(p.min.map(|m| (m.value, m.index)), Some((-1.0, 2)));
        assert_eq!(p.max.map(|m| (m.value, m.index)), Some((7.0, 3)));
        assert_eq!(p.fsum.value(), 15.0);
    }
}
