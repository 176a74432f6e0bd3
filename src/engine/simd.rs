//! The engine's hot loops, compiled for the CPU they run on: the leaf of the whole-array
//! statistics scan (see [`kernel`](crate::engine::kernel)) over `f64` written with SSE2
//! (every x86_64 CPU) and AVX2 intrinsics, and over `f32` with AVX2 (the portable leaf
//! compiled for the baseline took 2.7x its time on a warm 2 GiB file), and over `f16` with
//! AVX2 and the F16C conversions (the portable leaf, converting element by element in
//! software, took 23x its time on a warm 1 GiB file); the scan of a run of rows over eight
//! `f32` or `f16` columns of [`columns`](crate::engine::columns) written with AVX2
//! intrinsics (28x for `f16`); numpy's bin estimates of a `float16` histogram, eight at a
//! time in `f32` registers rounded to `f16` by F16C (6x); and the per-column fold of a run
//! for the other groups and types, and the
//! whole-array statistics of a block of integers (whose 8-lane extremes then compile to
//! 256-bit compares: a quarter less time on a warm int32 file), compiled a second time with
//! AVX2 enabled. The AVX2 versions are chosen at run time, after the CPU reported the
//! feature.
//!
//! Why the leaf is written by hand: LLVM's vectoriser packs it badly (it pairs lanes of
//! different sums into one register and spills the rest), which made the one-pass scan no
//! faster than two passes. The column scan vectorises well, but compiled it spends about a
//! third of its instructions on bookkeeping (row indices, bounds checks, a prefetch per row)
//! and widens `f32` to `f64` through an extra shuffle; by hand it takes two rows per step, one
//! prefetch per step and widens straight from memory: about a quarter less CPU time on
//! `stats --axis 0` of an `(N, 64)` float32 table.
//!
//! A whole run of [`RUN`] elements (the common case: every run of a block but its last) goes
//! through one call that scans its leaves one after the other and keeps the extremes and
//! non-zero counts in registers across them, instead of a call per leaf that reduces them
//! lane by lane each time: about a quarter fewer instructions for `mmnpy stats` (with the
//! 16-at-a-time search for an extreme's index, callgrind counted 26% on float64). A pass that
//! does not report the non-zero count ([`PassOptions::without_count_nonzero`], what
//! `mmnpy stats` asks for) runs the whole-run scans without its compares: 14 vector operations
//! per 8 `f64` instead of 18, and 14% fewer instructions for the pass (callgrind, one thread).
//!
//! [`PassOptions::without_count_nonzero`]: crate::engine::PassOptions::without_count_nonzero
//!
//! Every version computes exactly what the portable code computes, in the same order: for the
//! leaf, lane `k` of each sum adds the elements at positions `k, k + 8, k + 16, ...` one after
//! the other, and the lanes are combined by [`tree`]; with separate IEEE additions,
//! subtractions and multiplications, so every machine gives the same bits. The column scans
//! add each square with one fused multiply-add (`f64::mul_add` in the portable code, one
//! rounding on every machine, an FMA instruction here): the hand-written `f32` scan then took
//! about a third less time on a run in cache (4.6 against 6.7 cycles per row of eight
//! columns, which waited on the additions' ports). Extremes are order-free (a minimum is a
//! minimum) and counts are integers. Property tests check each fast version against the
//! portable bits.
//!
//! The `unsafe` here calls the `#[target_feature]` functions (the AVX2 ones after the CPU
//! reported AVX2, and FMA where they use it; the SSE2 one always: SSE2 is part of x86_64) and
//! issues prefetch hints,
//! which never fault; see SAFETY.md. Loads and stores go through `bytemuck` casts, never
//! pointers.

use half::f16;

use crate::engine::columns::{Group, RunSums};
use crate::engine::elements::{RUN, Real};
use crate::engine::kernel::{IndexMap, Partial};
use crate::engine::stats::partial_of_bytes_baseline;

/// What a leaf hands back: each sum over the leaf's whole 8-element chunks (its 8 lanes
/// combined by [`tree`]), the number of non-zero elements among them and their extremes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LeafLanes<T> {
    pub(crate) sum: f64,
    pub(crate) shifted: f64,
    pub(crate) squares: f64,
    pub(crate) nonzero: u64,
    pub(crate) lo: T,
    pub(crate) hi: T,
}

/// The leaf over `xs` (a multiple of 8 elements, no NaN: a NaN makes the sums NaN and the
/// caller redoes the run carefully) around `shift`, or `None` when this target has no SIMD
/// version (then the caller runs the portable leaf, which gives the same bits).
#[cfg(target_arch = "x86_64")]
pub(crate) fn leaf_f64(xs: &[f64], shift: f64) -> Option<LeafLanes<f64>> {
    debug_assert_eq!(xs.len() % 8, 0);
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `scan_f64_avx2` needs AVX2, and the CPU reported it just above.
        Some(unsafe { x86::scan_f64_avx2::<true>(xs, shift) })
    } else {
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
        Some(unsafe { x86::leaf_sse2(xs, shift) })
    }
}

/// The leaf over `xs`: no SIMD version on this target.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn leaf_f64(_xs: &[f64], _shift: f64) -> Option<LeafLanes<f64>> {
    None
}

/// Elements per leaf of numpy's pairwise sum.
const LEAF: usize = 128;

/// Leaves per whole run: numpy's pairwise sum of [`RUN`] elements halves it down to leaves of
/// exactly [`LEAF`], in a complete binary tree.
const LEAVES: usize = RUN / LEAF;
const _: () = assert!(LEAVES.is_power_of_two() && LEAVES * LEAF == RUN);

/// The sums of [`LEAVES`] leaves combined as numpy's pairwise recursion combines them over a
/// whole run: neighbours added level by level (`(l0 + l1) + (l2 + l3)`, ...), component by
/// component.
fn pairwise(mut level: [[f64; 3]; LEAVES]) -> [f64; 3] {
    let mut n = LEAVES;
    while n > 1 {
        for i in 0..n / 2 {
            level[i] = std::array::from_fn(|k| level[2 * i][k] + level[2 * i + 1][k]);
        }
        n /= 2;
    }
    level[0]
}

/// The fused scan of a whole run of [`RUN`] `f64` (no NaN), what the kernel's pairwise scan
/// returns for it, in one AVX2 call instead of a call per leaf (with the extremes combined
/// once per run instead of once per leaf); `None` without AVX2. Without `NONZERO` the scan
/// leaves the non-zero count out (0): its compares were about a fifth of the loop's work.
pub(crate) fn run_f64<const NONZERO: bool>(xs: &[f64], shift: f64) -> Option<LeafLanes<f64>> {
    debug_assert_eq!(xs.len(), RUN);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `scan_f64_avx2` needs AVX2, and the CPU reported it just above.
        return Some(unsafe { x86::scan_f64_avx2::<NONZERO>(xs, shift) });
    }
    let _ = (xs, shift);
    None
}

/// The scan over `f32` of one leaf (whole 8-element chunks, at most [`LEAF`]) or of a whole run
/// of [`RUN`]: the `f64` scan's sums over the elements widened to `f64` (exact), extremes and
/// non-zero count in `f32` (left out, 0, without `NONZERO`, like [`run_f64`]); written for
/// AVX2, `None` on CPUs without it (then the caller runs the portable scan, which gives the
/// same bits).
pub(crate) fn scan_f32<const NONZERO: bool>(xs: &[f32], shift: f64) -> Option<LeafLanes<f32>> {
    debug_assert!(xs.len().is_multiple_of(8) && (xs.len() <= LEAF || xs.len() == RUN));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `scan_f32_avx2` needs AVX2, and the CPU reported it just above.
        return Some(unsafe { x86::scan_f32_avx2::<NONZERO>(xs, shift) });
    }
    let _ = (xs, shift);
    None
}

/// [`scan_f32`] over `f16`: the same sums, non-zero count and extremes, the chunks widened to
/// `f32` by F16C instructions (exact), `None` on CPUs without AVX2 and F16C (the portable scan,
/// which converts element by element in software, gives the same bits in about N times the
/// time).
pub(crate) fn scan_f16<const NONZERO: bool>(xs: &[f16], shift: f64) -> Option<LeafLanes<f16>> {
    debug_assert!(xs.len().is_multiple_of(8) && (xs.len() <= LEAF || xs.len() == RUN));
    #[cfg(target_arch = "x86_64")]
    if has_avx2_f16c() {
        // SAFETY: `scan_f16_avx2` needs AVX2 and F16C, and the CPU reported both just above.
        return Some(unsafe { x86::scan_f16_avx2::<NONZERO>(xs, shift) });
    }
    let _ = (xs, shift);
    None
}

/// Whether the CPU has AVX2 and the F16C conversions (every AVX2 CPU so far has F16C, but
/// they are separate features).
#[cfg(target_arch = "x86_64")]
fn has_avx2_f16c() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("f16c")
}

/// Whether the CPU has AVX2 and fused multiply-adds (every AVX2 CPU so far has both), which the
/// per-column scans use.
#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// numpy's estimate of a value's bin in a `float16` histogram, in the lanes' precision: a
/// range given as Python floats (`(round16(x - first) / width) * bins` in `f64`), or an
/// autodetected one (`round16(round16(round16(x - first) / denom) * bins)`). Every operation of
/// the autodetected rule has `f16` operands (the caller keeps `bins <= 8192`, so `q · bins`
/// is exact in `f32`): an `f32` operation rounded to `f16` is then the `f16` operation
/// itself (24 >= 2 · 11 + 2 bits), which is what numpy computes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum HalfRule {
    Given { first: f32, width: f64, bins: f64 },
    Detected { first: f32, denom: f32, bins: f32 },
}

/// For each of `xs`, the value widened to `f32` into `values` and numpy's estimate of its
/// bin by `rule` into `bins` (truncated, clamped to `0..=last_bin`), or -1 where the value
/// lies outside `[lo, hi]` (or is NaN); false, with nothing written, on CPUs without AVX2
/// and F16C. The caller corrects the estimates against the edges, as numpy does.
pub(crate) fn half_bin_estimates(
    xs: &[f16],
    rule: HalfRule,
    (lo, hi, last_bin): (f32, f32, i32),
    values: &mut [f32],
    bins: &mut [i32],
) -> bool {
    debug_assert!(values.len() >= xs.len() && bins.len() >= xs.len());
    #[cfg(target_arch = "x86_64")]
    if has_avx2_f16c() {
        // SAFETY: `half_bin_estimates_avx2` needs AVX2 and F16C, and the CPU reported both
        // just above.
        unsafe { x86::half_bin_estimates_avx2(xs, rule, (lo, hi, last_bin), values, bins) };
        return true;
    }
    let _ = (xs, rule, lo, hi, last_bin, values, bins);
    false
}

/// Fold the rows `run` (run number `r`) into the per-column accumulators `group`
/// ([`Group::fold_run`]), compiled for AVX2 and FMA when the CPU has them: the same loop, the
/// same operations in the same order (the scan's `mul_add` becomes one instruction instead of a
/// call), so the same bits, in about a third of the instructions (256-bit registers, no
/// register copies).
pub(crate) fn column_run<T: Real, const W: usize, const NONZERO: bool>(
    group: &mut Group<T, W>,
    run: &[T],
    next: &[T],
    inner: usize,
    first: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: `column_run_avx2` needs AVX2 and FMA, and the CPU reported both just above.
        return unsafe { x86::column_run_avx2::<T, W, NONZERO>(group, run, next, inner, first) };
    }
    column_run_baseline::<T, W, NONZERO>(group, run, next, inner, first);
}

/// The scan of a run over `W` `f32` columns ([`Real::simd_column_scan`]): written by hand for
/// eight columns, AVX2 and FMA; `None` for other widths and on CPUs without them (then the
/// portable scan runs, with the same bits). Without `NONZERO` the non-zero counts are left
/// out (0).
///
/// [`Real::simd_column_scan`]: crate::engine::elements::Real::simd_column_scan
pub(crate) fn column_scan_f32<const W: usize, const NONZERO: bool>(
    run: &[f32],
    next: &[u8],
    inner: usize,
    c0: usize,
    shift: &[f64; W],
) -> Option<RunSums<f32, W>> {
    #[cfg(target_arch = "x86_64")]
    if W == 8 && has_avx2_fma() {
        // SAFETY: `column_scan_f32_avx2` needs AVX2 and FMA, and the CPU reported both just
        // above.
        return Some(unsafe {
            x86::column_scan_f32_avx2::<W, NONZERO>(run, next, inner, c0, shift)
        });
    }
    let _ = (run, next, inner, c0, shift);
    None
}

/// [`column_scan_f32`] over `f16` columns (AVX2, FMA and F16C).
pub(crate) fn column_scan_f16<const W: usize, const NONZERO: bool>(
    run: &[f16],
    next: &[u8],
    inner: usize,
    c0: usize,
    shift: &[f64; W],
) -> Option<RunSums<f16, W>> {
    #[cfg(target_arch = "x86_64")]
    if W == 8 && has_avx2_fma() && has_avx2_f16c() {
        // SAFETY: `column_scan_f16_avx2` needs AVX2, FMA and F16C, and the CPU reported all
        // three just above.
        return Some(unsafe {
            x86::column_scan_f16_avx2::<W, NONZERO>(run, next, inner, c0, shift)
        });
    }
    let _ = (run, next, inner, c0, shift);
    None
}

/// [`Group::fold_run`] for the baseline target. Not inlined into its caller: on its own the
/// loop keeps its accumulators in registers.
#[inline(never)]
pub(crate) fn column_run_baseline<T: Real, const W: usize, const NONZERO: bool>(
    group: &mut Group<T, W>,
    run: &[T],
    next: &[T],
    inner: usize,
    first: usize,
) {
    group.fold_run::<NONZERO>(run, next, inner, first);
}

/// The statistics of a block of integers ([`partial_of_bytes`]), compiled for AVX2 when the
/// CPU has it: the same code (integer sums and counts, and the same float operations in the
/// same order for the centred squares), so the same bits, with 256-bit integer compares and
/// conversions.
///
/// [`partial_of_bytes`]: crate::engine::stats::partial_of_bytes
pub(crate) fn integer_partial<T: Real>(
    bytes: &[u8],
    native: bool,
    first: u64,
    index: &IndexMap,
) -> Partial<T> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `integer_partial_avx2` needs AVX2, and the CPU reported it just above.
        return unsafe { x86::integer_partial_avx2(bytes, native, first, index) };
    }
    partial_of_bytes_baseline::<T, true>(bytes, native, first, index)
}

/// Ask for the cache line holding `xs[i]` (nothing when `i` is past the end): a hint that lets
/// a loop bring in data it will read later while it computes on data it already has.
#[inline(always)]
pub(crate) fn prefetch<T>(xs: &[T], i: usize) {
    if let Some(x) = xs.get(i) {
        prefetch_address::<INTO_L1>((x as *const T).cast());
    }
}

/// [`prefetch`] into L2 only, for data asked for a whole run of rows ahead (the column
/// scan): in L1 it would evict the run being read. On an `(N, 64)` float32 table this took
/// about a tenth less CPU time than prefetching into L1.
#[inline(always)]
pub(crate) fn prefetch_to_l2<T>(xs: &[T], i: usize) {
    if let Some(x) = xs.get(i) {
        prefetch_address::<INTO_L2>((x as *const T).cast());
    }
}

/// The prefetch hints: into L1 (and the levels below it), or into L2 (and below).
#[cfg(target_arch = "x86_64")]
const INTO_L1: i32 = std::arch::x86_64::_MM_HINT_T0;
#[cfg(target_arch = "x86_64")]
const INTO_L2: i32 = std::arch::x86_64::_MM_HINT_T1;
#[cfg(not(target_arch = "x86_64"))]
const INTO_L1: i32 = 0;
#[cfg(not(target_arch = "x86_64"))]
const INTO_L2: i32 = 0;

/// Ask the CPU to bring the cache line at `address` into the cache `HINT` names (x86_64;
/// elsewhere nothing).
#[inline(always)]
fn prefetch_address<const HINT: i32>(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: a prefetch is a hint that never faults and reads nothing into the program,
        // so any address is allowed, inside an allocation or past it.
        unsafe { std::arch::x86_64::_mm_prefetch::<HINT>(address.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// numpy's combination of its 8 accumulators: `((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))`.
pub(crate) fn tree(l: &[f64; 8]) -> f64 {
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

/// The smaller of the lanes (the first on ties, like the portable lanes' `less` select).
fn min_of<T: Real>(lanes: &[T]) -> T {
    lanes
        .iter()
        .fold(T::MIN_INIT, |m, &x| if x.less(m) { x } else { m })
}

/// The larger of the lanes.
fn max_of<T: Real>(lanes: &[T]) -> T {
    lanes
        .iter()
        .fold(T::MAX_INIT, |m, &x| if m.less(x) { x } else { m })
}

/// A scan's result from its sums, its non-zero count and its extremes' lanes.
fn leaf_lanes<T: Real>(sums: [f64; 3], nonzero: u64, lo: &[T], hi: &[T]) -> LeafLanes<T> {
    LeafLanes {
        sum: sums[0],
        shifted: sums[1],
        squares: sums[2],
        nonzero,
        lo: min_of(lo),
        hi: max_of(hi),
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use bytemuck::cast;
    use half::f16;

    use super::{HalfRule, LEAF, LEAVES, LeafLanes, leaf_lanes, max_of, min_of, pairwise, tree};
    use crate::engine::columns::{Group, RunSums};
    use crate::engine::elements::Real;
    use crate::engine::kernel::{IndexMap, Partial};
    use crate::engine::stats::partial_of_bytes_baseline;

    /// [`super::integer_partial`] compiled with AVX2.
    #[target_feature(enable = "avx2")]
    #[inline(never)]
    pub(super) fn integer_partial_avx2<T: Real>(
        bytes: &[u8],
        native: bool,
        first: u64,
        index: &IndexMap,
    ) -> Partial<T> {
        partial_of_bytes_baseline::<T, true>(bytes, native, first, index)
    }

    /// [`Group::fold_run`] compiled with AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    #[inline(never)]
    pub(super) fn column_run_avx2<T: Real, const W: usize, const NONZERO: bool>(
        group: &mut Group<T, W>,
        run: &[T],
        next: &[T],
        inner: usize,
        first: usize,
    ) {
        group.fold_run::<NONZERO>(run, next, inner, first);
    }

    /// The sums of a run over eight columns, in registers: `Σd` and `Σd²` in `f64` (lanes
    /// 0-3 and 4-7), the extremes and the non-zero counts.
    #[derive(Clone, Copy)]
    struct ColumnLanes {
        s1_lo: __m256d,
        s1_hi: __m256d,
        s2_lo: __m256d,
        s2_hi: __m256d,
        min: __m256,
        max: __m256,
        nonzero: __m256i,
    }

    impl ColumnLanes {
        #[target_feature(enable = "avx2")]
        fn new() -> ColumnLanes {
            let zero = _mm256_setzero_pd();
            ColumnLanes {
                s1_lo: zero,
                s1_hi: zero,
                s2_lo: zero,
                s2_hi: zero,
                min: _mm256_set1_ps(f32::INFINITY),
                max: _mm256_set1_ps(f32::NEG_INFINITY),
                nonzero: _mm256_setzero_si256(),
            }
        }

        /// Fold in one row of the group: `v` its eight elements as `f32` (exact), `lo` and
        /// `hi` its halves, `shift` the shifts of lanes 0-3 and 4-7. The same operations, in
        /// the same order per lane, as the portable scan.
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        fn fold<const NONZERO: bool>(
            &mut self,
            (v, lo, hi): (__m256, __m128, __m128),
            shift: (__m256d, __m256d),
        ) {
            let d_lo = _mm256_sub_pd(_mm256_cvtps_pd(lo), shift.0);
            let d_hi = _mm256_sub_pd(_mm256_cvtps_pd(hi), shift.1);
            self.s1_lo = _mm256_add_pd(self.s1_lo, d_lo);
            self.s1_hi = _mm256_add_pd(self.s1_hi, d_hi);
            self.s2_lo = _mm256_fmadd_pd(d_lo, d_lo, self.s2_lo);
            self.s2_hi = _mm256_fmadd_pd(d_hi, d_hi, self.s2_hi);
            // minps(v, min) is `v < min ? v : min`, the portable select; likewise max.
            self.min = _mm256_min_ps(v, self.min);
            self.max = _mm256_max_ps(v, self.max);
            if NONZERO {
                // A true comparison is all ones (-1): subtracting it counts.
                let nz = _mm256_cmp_ps::<_CMP_NEQ_UQ>(v, _mm256_setzero_ps());
                self.nonzero = _mm256_sub_epi32(self.nonzero, _mm256_castps_si256(nz));
            }
        }

        /// The sums as the portable scan returns them (`narrow`: an extreme's `f32` back in
        /// the element type, exact since it is an element).
        fn sums<T, const W: usize>(self, narrow: impl Fn(f32) -> T) -> RunSums<T, W> {
            let (s1_lo, s1_hi): ([f64; 4], [f64; 4]) = (cast(self.s1_lo), cast(self.s1_hi));
            let (s2_lo, s2_hi): ([f64; 4], [f64; 4]) = (cast(self.s2_lo), cast(self.s2_hi));
            let (nonzero, min, max): ([u32; 8], [f32; 8], [f32; 8]) =
                (cast(self.nonzero), cast(self.min), cast(self.max));
            let lane = |lo: [f64; 4], hi: [f64; 4], j: usize| if j < 4 { lo[j] } else { hi[j - 4] };
            RunSums {
                s1: std::array::from_fn(|j| lane(s1_lo, s1_hi, j)),
                s2: std::array::from_fn(|j| lane(s2_lo, s2_hi, j)),
                nan: [0; W],
                nonzero: std::array::from_fn(|j| nonzero[j]),
                min: std::array::from_fn(|j| narrow(min[j])),
                max: std::array::from_fn(|j| narrow(max[j])),
            }
        }
    }

    /// The shifts of a group as two registers of `f64` lanes.
    #[target_feature(enable = "avx2")]
    fn shift_lanes(shift: &[f64]) -> (__m256d, __m256d) {
        (
            cast([shift[0], shift[1], shift[2], shift[3]]),
            cast([shift[4], shift[5], shift[6], shift[7]]),
        )
    }

    /// Eight `f32` elements as one register and its two halves.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn load_f32(x: &[f32]) -> (__m256, __m128, __m128) {
        let mut row = [0.0f32; 8];
        row.copy_from_slice(x);
        let lo: __m128 = cast([row[0], row[1], row[2], row[3]]);
        let hi: __m128 = cast([row[4], row[5], row[6], row[7]]);
        (cast(row), lo, hi)
    }

    /// Eight `f16` elements widened to `f32` by one F16C instruction, and its halves.
    #[inline]
    #[target_feature(enable = "avx2,f16c")]
    fn load_f16(x: &[f16]) -> (__m256, __m128, __m128) {
        let mut row = [f16::ZERO; 8];
        row.copy_from_slice(x);
        let v = _mm256_cvtph_ps(cast(row));
        (v, _mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v))
    }

    /// The eight-column scan over `$t` (see [`column_scan_f32_avx2`]): `$load` turns eight
    /// elements into `f32` lanes, `$narrow` an extreme back into `$t`.
    macro_rules! column_scan_avx2 {
        (
            $features:literal, $t:ty, $load:ident, $narrow:expr,
            $(#[$scan_attr:meta])* $scan:ident
        ) => {
            $(#[$scan_attr])*
            #[target_feature(enable = $features)]
            pub(super) fn $scan<const W: usize, const NONZERO: bool>(
                run: &[$t],
                next: &[u8],
                inner: usize,
                c0: usize,
                shift: &[f64; W],
            ) -> RunSums<$t, W> {
                let shift = shift_lanes(shift);
                let mut lanes = ColumnLanes::new();
                let pairs = (run.len() / inner).div_ceil(2);
                let first_line = (c0 / 8) * pairs;
                let mut two_rows = run.chunks_exact(2 * inner);
                for (p, rows) in two_rows.by_ref().enumerate() {
                    super::prefetch_to_l2(next, (first_line + p) * 64);
                    let (a, b) = rows.split_at(inner);
                    lanes.fold::<NONZERO>($load(&a[c0..c0 + 8]), shift);
                    lanes.fold::<NONZERO>($load(&b[c0..c0 + 8]), shift);
                }
                let last = two_rows.remainder();
                if last.len() >= inner {
                    lanes.fold::<NONZERO>($load(&last[c0..c0 + 8]), shift);
                }
                lanes.sums($narrow)
            }
        };
    }

    column_scan_avx2!(
        "avx2,fma", f32, load_f32, |x: f32| x,
        /// The eight-column `f32` scan: a row of the group is one 256-bit register; its halves,
        /// widened to `f64`, update the shifted sums (lanes 0-3 and 4-7), the whole register the
        /// extremes and the non-zero count. Rows go two at a time, one after the other into the
        /// same sums (the portable order), so that the loop's bookkeeping and its one prefetch
        /// hint are shared by two rows: hand-written, the loop does about two thirds of the work
        /// of the compiled portable one, which spent a third of its time on bookkeeping.
        ///
        /// The groups of a run share the prefetching of the next run: group `g` (of columns
        /// `8g..8g + 8`) asks for the lines `g·p..(g + 1)·p`, `p` the number of row pairs, one
        /// per pair: ascending addresses, and for 64 columns exactly the next run's lines.
        ///
        /// `W` is 8 (the caller checked): the width is a parameter only so that the sums come
        /// back in the caller's type.
        column_scan_f32_avx2
    );
    column_scan_avx2!(
        "avx2,f16c,fma", f16, load_f16, f16::from_f32,
        /// The eight-column `f16` scan (F16C conversions): the `f32` scan on the row widened
        /// to `f32` (exact) by one instruction.
        column_scan_f16_avx2
    );

    /// [`super::half_bin_estimates`]: eight values at a time, the last chunk padded.
    #[target_feature(enable = "avx2,f16c")]
    pub(super) fn half_bin_estimates_avx2(
        xs: &[f16],
        rule: HalfRule,
        (lo, hi, last_bin): (f32, f32, i32),
        values: &mut [f32],
        bins: &mut [i32],
    ) {
        // An `f32` register rounded to `f16` (to nearest, ties to even) and widened back.
        macro_rules! round16 {
            ($y:expr) => {
                _mm256_cvtph_ps(_mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>($y))
            };
        }
        let (lo, hi) = (_mm256_set1_ps(lo), _mm256_set1_ps(hi));
        let (none, zero, last) = (
            _mm256_set1_epi32(-1),
            _mm256_setzero_si256(),
            _mm256_set1_epi32(last_bin),
        );
        let chunks = xs
            .chunks(8)
            .zip(values.chunks_mut(8))
            .zip(bins.chunks_mut(8));
        for ((chunk, values), bins) in chunks {
            let mut raw = [f16::ZERO; 8];
            raw[..chunk.len()].copy_from_slice(chunk);
            let v = _mm256_cvtph_ps(cast(raw));
            let estimate = match rule {
                HalfRule::Given { first, width, bins } => {
                    let d = round16!(_mm256_sub_ps(v, _mm256_set1_ps(first)));
                    let (width, bins) = (_mm256_set1_pd(width), _mm256_set1_pd(bins));
                    let scaled = |half: __m128| {
                        _mm256_cvttpd_epi32(_mm256_mul_pd(
                            _mm256_div_pd(_mm256_cvtps_pd(half), width),
                            bins,
                        ))
                    };
                    let low = scaled(_mm256_castps256_ps128(d));
                    let high = scaled(_mm256_extractf128_ps::<1>(d));
                    _mm256_set_m128i(high, low)
                }
                HalfRule::Detected { first, denom, bins } => {
                    let d = round16!(_mm256_sub_ps(v, _mm256_set1_ps(first)));
                    let q = round16!(_mm256_div_ps(d, _mm256_set1_ps(denom)));
                    _mm256_cvttps_epi32(round16!(_mm256_mul_ps(q, _mm256_set1_ps(bins))))
                }
            };
            // Negative estimates (and the indefinite integer of NaN) become bin 0, like the
            // scalar loop's saturating conversion; the range test is false for NaN.
            let clamped = _mm256_min_epi32(_mm256_max_epi32(estimate, zero), last);
            let inside = _mm256_and_ps(
                _mm256_cmp_ps::<_CMP_GE_OQ>(v, lo),
                _mm256_cmp_ps::<_CMP_LE_OQ>(v, hi),
            );
            let bin = _mm256_blendv_epi8(none, clamped, _mm256_castps_si256(inside));
            let (v, bin): ([f32; 8], [i32; 8]) = (cast(v), cast(bin));
            values.copy_from_slice(&v[..values.len()]);
            bins.copy_from_slice(&bin[..bins.len()]);
        }
    }

    /// [`tree`] of the eight lanes `[a..., b...]` of two registers, in registers: the
    /// horizontal add gives `[a0 + a1, b0 + b1, a2 + a3, b2 + b3]`, and adding its halves
    /// gives `[(a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)]`: the same additions.
    #[target_feature(enable = "avx2")]
    fn tree4(a: __m256d, b: __m256d) -> f64 {
        let pairs = _mm256_hadd_pd(a, b);
        let quads = _mm_add_pd(
            _mm256_castpd256_pd128(pairs),
            _mm256_extractf128_pd::<1>(pairs),
        );
        let [left, right]: [f64; 2] = cast(quads);
        left + right
    }

    /// [`tree`] of four registers of two lanes, in order.
    fn tree2(r: [__m128d; 4]) -> f64 {
        let r: [[f64; 2]; 4] = r.map(cast);
        tree(&[
            r[0][0], r[0][1], r[1][0], r[1][1], r[2][0], r[2][1], r[3][0], r[3][1],
        ])
    }

    /// Ask for the cache line 1 KiB past `chunk` (past the leaf, into the rest of the run):
    /// the hardware prefetcher stops at every 4 KiB page boundary, this hint does not.
    #[inline(always)]
    fn prefetch(chunk: &[f64]) {
        super::prefetch_address::<{ super::INTO_L1 }>(chunk.as_ptr().wrapping_add(128).cast());
    }

    /// The sums of one AVX2 leaf over the 8-element chunks of `$xs` around the broadcast
    /// shift `$sh`, `[sum, shifted, squares]`, each over its 8 lanes combined by [`tree`]:
    /// `$step` turns a chunk into lanes 0-3 and 4-7 as `f64` registers (widening if need be)
    /// and folds it into the caller's extremes and non-zero counts, which may span several
    /// leaves: they need no order.
    macro_rules! leaf_sums {
        ($xs:expr, $sh:expr, |$chunk:ident| $step:block) => {{
            let zero = _mm256_setzero_pd();
            let (mut s0, mut s1, mut d0, mut d1, mut q0, mut q1) =
                (zero, zero, zero, zero, zero, zero);
            for $chunk in $xs.chunks_exact(8) {
                let (x0, x1): (__m256d, __m256d) = $step;
                s0 = _mm256_add_pd(s0, x0);
                s1 = _mm256_add_pd(s1, x1);
                let e0 = _mm256_sub_pd(x0, $sh);
                let e1 = _mm256_sub_pd(x1, $sh);
                d0 = _mm256_add_pd(d0, e0);
                d1 = _mm256_add_pd(d1, e1);
                q0 = _mm256_add_pd(q0, _mm256_mul_pd(e0, e0));
                q1 = _mm256_add_pd(q1, _mm256_mul_pd(e1, e1));
            }
            [tree4(s0, s1), tree4(d0, d1), tree4(q0, q1)]
        }};
    }

    /// The leaves' results as the kernel's leaf result: the sums, and the extremes and
    /// non-zero count of the registers combined.
    fn lanes_f64(sums: [f64; 3], lo: __m256d, hi: __m256d, nz: __m256i) -> LeafLanes<f64> {
        let counts: [u64; 4] = cast(nz);
        let (lo, hi): ([f64; 4], [f64; 4]) = (cast(lo), cast(hi));
        leaf_lanes(sums, counts.iter().sum(), &lo, &hi)
    }

    /// [`lanes_f64`] for `f32` registers.
    fn lanes_f32(sums: [f64; 3], lo: __m256, hi: __m256, nz: __m256i) -> LeafLanes<f32> {
        let counts: [u32; 8] = cast(nz);
        let (lo, hi): ([f32; 8], [f32; 8]) = (cast(lo), cast(hi));
        leaf_lanes(sums, counts.iter().map(|&c| u64::from(c)).sum(), &lo, &hi)
    }

    /// [`lanes_f32`] for the `f16` scan, whose extremes are `f16` values in `f32` lanes
    /// (narrowed back exactly).
    fn lanes_f16(sums: [f64; 3], lo: __m256, hi: __m256, nz: __m256i) -> LeafLanes<f16> {
        let f32s = lanes_f32(sums, lo, hi, nz);
        LeafLanes {
            sum: f32s.sum,
            shifted: f32s.shifted,
            squares: f32s.squares,
            nonzero: f32s.nonzero,
            lo: f16::from_f32(f32s.lo),
            hi: f16::from_f32(f32s.hi),
        }
    }

    /// An AVX2 scan over `$t` (chunks turned into `f64` lanes and folded into the extremes
    /// `lo`, `hi` and the non-zero counts `nz` by `$step`, extremes started by `$set1`, the
    /// result made by `$lanes`) of either one leaf (at most [`LEAF`] elements, whole chunks of
    /// 8) or a whole run ([`LEAVES`] leaves one after the other, the extremes and non-zero
    /// counts kept in registers across them, the leaves' sums combined by [`pairwise`]).
    macro_rules! scan_avx2 {
        (
            $(#[$doc:meta])* $name:ident, $t:ty => $lane:ty, $set1:ident, $lanes:ident,
            |$chunk:ident, $lo:ident, $hi:ident, $nz:ident| $step:block
        ) => {
            $(#[$doc])*
            #[target_feature(enable = "avx2")]
            pub(super) fn $name<const NONZERO: bool>(xs: &[$t], shift: f64) -> LeafLanes<$t> {
                debug_assert!(xs.len() <= LEAF || xs.len() == LEAF * LEAVES);
                let sh = _mm256_set1_pd(shift);
                let mut $lo = $set1(<$lane>::INFINITY);
                let mut $hi = $set1(<$lane>::NEG_INFINITY);
                let mut $nz = _mm256_setzero_si256();
                let sums = if xs.len() <= LEAF {
                    leaf_sums!(xs, sh, |$chunk| $step)
                } else {
                    // The leaf length hidden from the optimiser: knowing it, it unrolled the
                    // 16 chunks of a leaf in the scan without the non-zero count and spilled
                    // registers (single-threaded in cache: about a quarter slower than the loop).
                    let leaf_len = std::hint::black_box(LEAF);
                    let mut leaves = [[0.0; 3]; LEAVES];
                    for (leaf, xs) in leaves.iter_mut().zip(xs.chunks_exact(leaf_len)) {
                        *leaf = leaf_sums!(xs, sh, |$chunk| $step);
                    }
                    pairwise(leaves)
                };
                $lanes(sums, $lo, $hi, $nz)
            }
        };
    }

    scan_avx2!(
        /// The AVX2 leaf over `f64`, or the AVX2 scan of a whole run: a chunk is two
        /// registers, 64-bit non-zero counts.
        scan_f64_avx2, f64 => f64, _mm256_set1_pd, lanes_f64,
        |chunk, lo, hi, nz| {
            prefetch(chunk);
            let x0: __m256d = cast::<[f64; 4], _>([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let x1: __m256d = cast::<[f64; 4], _>([chunk[4], chunk[5], chunk[6], chunk[7]]);
            // minpd(x, lo) is `x < lo ? x : lo`, the portable select.
            lo = _mm256_min_pd(x1, _mm256_min_pd(x0, lo));
            hi = _mm256_max_pd(x1, _mm256_max_pd(x0, hi));
            if NONZERO {
                // A true comparison is all ones (-1): subtracting it counts.
                let zero = _mm256_setzero_pd();
                let nz0 = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_NEQ_UQ>(x0, zero));
                let nz1 = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_NEQ_UQ>(x1, zero));
                nz = _mm256_sub_epi64(_mm256_sub_epi64(nz, nz0), nz1);
            }
            (x0, x1)
        }
    );
    /// The `f32` scans' step on a chunk `$v` of eight `f32`: folds it into the extremes
    /// `$lo`, `$hi` and the (32-bit) non-zero counts `$nz`, and gives its halves widened to
    /// `f64` (exact), lanes 0-3 and 4-7 of each sum.
    macro_rules! f32_chunk {
        ($v:ident, $lo:ident, $hi:ident, $nz:ident) => {{
            // minps(v, lo) is `v < lo ? v : lo`, the portable select.
            $lo = _mm256_min_ps($v, $lo);
            $hi = _mm256_max_ps($v, $hi);
            if NONZERO {
                // A true comparison is all ones (-1): subtracting it counts.
                let nz_v = _mm256_cmp_ps::<_CMP_NEQ_UQ>($v, _mm256_setzero_ps());
                $nz = _mm256_sub_epi32($nz, _mm256_castps_si256(nz_v));
            }
            (
                _mm256_cvtps_pd(_mm256_castps256_ps128($v)),
                _mm256_cvtps_pd(_mm256_extractf128_ps::<1>($v)),
            )
        }};
    }

    scan_avx2!(
        /// The AVX2 leaf over `f32`, or the AVX2 scan of a whole run: a chunk is one register,
        /// whose halves widened to `f64` (exact) are lanes 0-3 and 4-7 of each sum, the `f64`
        /// scan's operations on the widened values; the whole register updates the extremes
        /// and the non-zero counts (32-bit). One prefetch hint per chunk, 1 KiB ahead like the
        /// `f64` scan's.
        scan_f32_avx2, f32 => f32, _mm256_set1_ps, lanes_f32,
        |chunk, lo, hi, nz| {
            super::prefetch_address::<{ super::INTO_L1 }>(chunk.as_ptr().wrapping_add(256).cast());
            let v: __m256 = cast::<[f32; 8], _>(std::array::from_fn(|k| chunk[k]));
            f32_chunk!(v, lo, hi, nz)
        }
    );
    scan_avx2!(
        /// The AVX2 scan over `f16` (F16C conversions): a chunk widened to `f32` (exact) by
        /// one instruction is then the `f32` scan's chunk, its extremes kept in `f32` lanes.
        /// One prefetch hint per chunk, 1 KiB ahead like the others.
        #[target_feature(enable = "f16c")]
        scan_f16_avx2, f16 => f32, _mm256_set1_ps, lanes_f16,
        |chunk, lo, hi, nz| {
            super::prefetch_address::<{ super::INTO_L1 }>(chunk.as_ptr().wrapping_add(512).cast());
            let v = _mm256_cvtph_ps(cast::<[f16; 8], _>(std::array::from_fn(|k| chunk[k])));
            f32_chunk!(v, lo, hi, nz)
        }
    );

    /// The SSE2 leaf: lanes (0, 1), (2, 3), (4, 5), (6, 7) of each sum in four registers.
    #[target_feature(enable = "sse2")]
    pub(super) fn leaf_sse2(xs: &[f64], shift: f64) -> LeafLanes<f64> {
        let sh = _mm_set1_pd(shift);
        let zero = _mm_setzero_pd();
        let (mut s, mut d, mut q) = ([zero; 4], [zero; 4], [zero; 4]);
        let mut lo = _mm_set1_pd(f64::INFINITY);
        let mut hi = _mm_set1_pd(f64::NEG_INFINITY);
        let mut nonzero = _mm_setzero_si128();
        for chunk in xs.chunks_exact(8) {
            prefetch(chunk);
            for k in 0..4 {
                let x: __m128d = cast::<[f64; 2], _>([chunk[2 * k], chunk[2 * k + 1]]);
                s[k] = _mm_add_pd(s[k], x);
                let e = _mm_sub_pd(x, sh);
                d[k] = _mm_add_pd(d[k], e);
                q[k] = _mm_add_pd(q[k], _mm_mul_pd(e, e));
                lo = _mm_min_pd(x, lo);
                hi = _mm_max_pd(x, hi);
                nonzero = _mm_sub_epi64(nonzero, _mm_castpd_si128(_mm_cmpneq_pd(x, zero)));
            }
        }
        let counts: [u64; 2] = cast(nonzero);
        let (lo, hi): ([f64; 2], [f64; 2]) = (cast(lo), cast(hi));
        LeafLanes {
            sum: tree2(s),
            shifted: tree2(d),
            squares: tree2(q),
            nonzero: counts.iter().sum(),
            lo: min_of(&lo),
            hi: max_of(&hi),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The obvious loops the SIMD versions must reproduce bit for bit.
    fn portable(xs: &[f64], shift: f64) -> LeafLanes<f64> {
        let (mut sum, mut shifted, mut squares) = ([0.0; 8], [0.0; 8], [0.0; 8]);
        for chunk in xs.chunks_exact(8) {
            for (k, &x) in chunk.iter().enumerate() {
                let e = x - shift;
                sum[k] += x;
                shifted[k] += e;
                squares[k] += e * e;
            }
        }
        LeafLanes {
            sum: tree(&sum),
            shifted: tree(&shifted),
            squares: tree(&squares),
            nonzero: xs.iter().filter(|&&x| x != 0.0).count() as u64,
            lo: min_of(xs),
            hi: max_of(xs),
        }
    }

    /// Sums compared by their bits; extremes by value (the sign of a zero extreme depends
    /// on the lane order, and the kernel reports the element found at the extreme's index).
    fn same<T: PartialEq>(a: &LeafLanes<T>, b: &LeafLanes<T>) -> bool {
        let bits = |l: &LeafLanes<T>| [l.sum, l.shifted, l.squares].map(f64::to_bits);
        bits(a) == bits(b) && a.nonzero == b.nonzero && a.lo == b.lo && a.hi == b.hi
    }

    /// The portable leaf over `f32`: the `f64` loops on the widened values, extremes in `f32`.
    fn portable_f32(xs: &[f32], shift: f64) -> LeafLanes<f32> {
        let wide: Vec<f64> = xs.iter().map(|&x| f64::from(x)).collect();
        let sums = portable(&wide, shift);
        leaf_lanes([sums.sum, sums.shifted, sums.squares], sums.nonzero, xs, xs)
    }

    /// The AVX2 build of the integer statistics and the baseline one, on the same bytes.
    fn both_integer_builds<T: Real>(xs: &[T], first: u64) -> (Partial<T>, Partial<T>) {
        let bytes: &[u8] = bytemuck::cast_slice(xs);
        (
            integer_partial(bytes, true, first, &IndexMap::Identity),
            partial_of_bytes_baseline::<T, true>(bytes, true, first, &IndexMap::Identity),
        )
    }

    proptest! {
        #[test]
        fn the_avx2_integer_statistics_are_the_baseline_ones(
            wide in prop::collection::vec(prop_oneof![any::<i64>(), -3i64..3], 0..5000),
            first in 0u64..1000,
        ) {
            let (fast, slow) = both_integer_builds(&wide, first);
            prop_assert_eq!(fast, slow);
            let narrow: Vec<i32> = wide.iter().map(|&x| x as i32).collect();
            let (fast, slow) = both_integer_builds(&narrow, first);
            prop_assert_eq!(fast, slow);
            let bytes: Vec<u8> = wide.iter().map(|&x| x as u8).collect();
            let (fast, slow) = both_integer_builds(&bytes, first);
            prop_assert_eq!(fast, slow);
        }

        #[test]
        fn the_f32_leaf_gives_the_portable_bits(
            chunks in prop::collection::vec(
                prop::array::uniform8(prop_oneof![
                    4 => -1e6..1e6f32,
                    1 => Just(0.0f32),
                    1 => Just(-0.0f32),
                    1 => (-3i32..3).prop_map(|i| i as f32 * 1e38),
                    1 => Just(f32::MIN_POSITIVE / 8.0),
                ]),
                0..17,
            ),
            shift in -1e3..1e3f64,
        ) {
            let xs: Vec<f32> = chunks.concat();
            let want = portable_f32(&xs, shift);
            if let Some(got) = scan_f32::<true>(&xs, shift) {
                prop_assert!(same(&got, &want), "{:?}\nportable {:?}", got, want);
            }
        }

        #[test]
        fn the_f16_scan_gives_the_portable_bits(
            chunks in prop::collection::vec(
                prop::array::uniform8(prop_oneof![
                    4 => -6e4..6e4f32,
                    2 => -2.0..2.0f32,
                    1 => Just(0.0f32),
                    1 => Just(-0.0f32),
                    1 => Just(f32::INFINITY),
                    1 => Just(6e-8f32),
                ]),
                1..17,
            ),
            whole_run in any::<bool>(),
            shift in -1e3..1e3f64,
        ) {
            // A leaf (at most 16 chunks) or a whole run (the chunks repeated).
            let leaf = chunks.concat().into_iter().map(f16::from_f32);
            let xs: Vec<f16> = if whole_run {
                leaf.cycle().take(RUN).collect()
            } else {
                leaf.collect()
            };
            let wide: Vec<f64> = xs.iter().map(|x| x.to_f64()).collect();
            let sums = if xs.len() == RUN {
                let leaves: Vec<[f64; 3]> = wide
                    .chunks(LEAF)
                    .map(|leaf| {
                        let l = portable(leaf, shift);
                        [l.sum, l.shifted, l.squares]
                    })
                    .collect();
                pairwise(leaves.try_into().expect("LEAVES leaves"))
            } else {
                let l = portable(&wide, shift);
                [l.sum, l.shifted, l.squares]
            };
            let nonzero = wide.iter().filter(|&&x| x != 0.0).count() as u64;
            let want = leaf_lanes(sums, nonzero, &xs, &xs);
            if let Some(got) = scan_f16::<true>(&xs, shift) {
                prop_assert!(same(&got, &want), "{:?}\nportable {:?}", got, want);
            }
        }

        #[test]
        fn simd_leaves_give_the_portable_bits(
            chunks in prop::collection::vec(
                prop::array::uniform8(prop_oneof![
                    4 => -1e6..1e6f64,
                    1 => Just(0.0),
                    1 => Just(-0.0),
                    1 => (-3i32..3).prop_map(|i| i as f64 * 1e300),
                ]),
                0..17,
            ),
            shift in -1e3..1e3f64,
        ) {
            let xs: Vec<f64> = chunks.concat();
            let want = portable(&xs, shift);
            #[cfg(target_arch = "x86_64")]
            {
                // SAFETY: SSE2 is part of the x86_64 baseline.
                let sse2 = unsafe { x86::leaf_sse2(&xs, shift) };
                prop_assert!(same(&sse2, &want), "sse2 {:?}\nportable {:?}", sse2, want);
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 is present, checked just above.
                    let avx2 = unsafe { x86::scan_f64_avx2::<true>(&xs, shift) };
                    prop_assert!(same(&avx2, &want), "avx2 {:?}\nportable {:?}", avx2, want);
                }
            }
            if let Some(got) = leaf_f64(&xs, shift) {
                prop_assert!(same(&got, &want));
            }
        }
    }
}
