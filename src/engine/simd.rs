//! Explicit SIMD for the hot loop of whole-array statistics: the leaf of the fused pairwise
//! scan over `f64` elements (see [`kernel`](crate::engine::kernel)), with SSE2 (every x86_64
//! CPU) and AVX2 (chosen at run time) versions.
//!
//! Why by hand: LLVM's vectoriser packs this loop badly (it pairs lanes of different sums into
//! one register and spills the rest), which made the one-pass scan no faster than two passes.
//!
//! Both versions compute exactly what [`kernel`](crate::engine::kernel)'s portable leaf
//! computes, in the same order: lane `k` of each sum adds the elements at positions
//! `k, k + 8, k + 16, ...` one after the other, with separate IEEE additions, subtractions and
//! multiplications (never fused multiply-adds), so every machine gives the same bits. The
//! extremes are order-free (a minimum is a minimum) and the counts are integers.
//!
//! The only `unsafe` here calls the `#[target_feature]` functions: the AVX2 one after the CPU
//! reported AVX2, the SSE2 one always (SSE2 is part of x86_64); see SAFETY.md. Loads and
//! stores go through `bytemuck` casts, never pointers.

#![allow(unsafe_code)]

/// What the SIMD leaf hands back: the 8 lanes of each sum over the leaf's whole 8-element
/// chunks, the number of non-zero elements among them and their extremes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LeafLanes<T> {
    pub(crate) sum: [f64; 8],
    pub(crate) shifted: [f64; 8],
    pub(crate) squares: [f64; 8],
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
        // SAFETY: `leaf_avx2` needs AVX2, and the CPU reported it just above.
        Some(unsafe { x86::leaf_avx2(xs, shift) })
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

/// The smaller of the lanes (the first on ties, like the portable lanes' `less` select).
fn min_of(lanes: &[f64]) -> f64 {
    lanes
        .iter()
        .fold(f64::INFINITY, |m, &x| if x < m { x } else { m })
}

/// The larger of the lanes.
fn max_of(lanes: &[f64]) -> f64 {
    lanes
        .iter()
        .fold(f64::NEG_INFINITY, |m, &x| if m < x { x } else { m })
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use bytemuck::cast;

    use super::{LeafLanes, max_of, min_of};

    /// Two registers of four lanes as the eight lanes `[a..., b...]`.
    fn lanes4(a: __m256d, b: __m256d) -> [f64; 8] {
        let (a, b): ([f64; 4], [f64; 4]) = (cast(a), cast(b));
        [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
    }

    /// Four registers of two lanes as the eight lanes in order.
    fn lanes2(r: [__m128d; 4]) -> [f64; 8] {
        let r: [[f64; 2]; 4] = r.map(cast);
        [
            r[0][0], r[0][1], r[1][0], r[1][1], r[2][0], r[2][1], r[3][0], r[3][1],
        ]
    }

    /// The AVX2 leaf: lanes 0-3 and 4-7 of each sum in one register each.
    #[target_feature(enable = "avx2")]
    pub(super) fn leaf_avx2(xs: &[f64], shift: f64) -> LeafLanes<f64> {
        let sh = _mm256_set1_pd(shift);
        let zero = _mm256_setzero_pd();
        let (mut s0, mut s1, mut d0, mut d1, mut q0, mut q1) = (zero, zero, zero, zero, zero, zero);
        let mut lo = _mm256_set1_pd(f64::INFINITY);
        let mut hi = _mm256_set1_pd(f64::NEG_INFINITY);
        let mut nonzero = _mm256_setzero_si256();
        for chunk in xs.chunks_exact(8) {
            let x0: __m256d = cast::<[f64; 4], _>([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let x1: __m256d = cast::<[f64; 4], _>([chunk[4], chunk[5], chunk[6], chunk[7]]);
            s0 = _mm256_add_pd(s0, x0);
            s1 = _mm256_add_pd(s1, x1);
            let e0 = _mm256_sub_pd(x0, sh);
            let e1 = _mm256_sub_pd(x1, sh);
            d0 = _mm256_add_pd(d0, e0);
            d1 = _mm256_add_pd(d1, e1);
            q0 = _mm256_add_pd(q0, _mm256_mul_pd(e0, e0));
            q1 = _mm256_add_pd(q1, _mm256_mul_pd(e1, e1));
            // minpd(x, lo) is `x < lo ? x : lo`, the portable select.
            lo = _mm256_min_pd(x1, _mm256_min_pd(x0, lo));
            hi = _mm256_max_pd(x1, _mm256_max_pd(x0, hi));
            // A true comparison is all ones (-1): subtracting it counts.
            let nz0 = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_NEQ_UQ>(x0, zero));
            let nz1 = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_NEQ_UQ>(x1, zero));
            nonzero = _mm256_sub_epi64(_mm256_sub_epi64(nonzero, nz0), nz1);
        }
        let counts: [u64; 4] = cast(nonzero);
        let (lo, hi): ([f64; 4], [f64; 4]) = (cast(lo), cast(hi));
        LeafLanes {
            sum: lanes4(s0, s1),
            shifted: lanes4(d0, d1),
            squares: lanes4(q0, q1),
            nonzero: counts.iter().sum(),
            lo: min_of(&lo),
            hi: max_of(&hi),
        }
    }

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
            sum: lanes2(s),
            shifted: lanes2(d),
            squares: lanes2(q),
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
        let mut out = LeafLanes {
            sum: [0.0; 8],
            shifted: [0.0; 8],
            squares: [0.0; 8],
            nonzero: 0,
            lo: min_of(xs),
            hi: max_of(xs),
        };
        for chunk in xs.chunks_exact(8) {
            for (k, &x) in chunk.iter().enumerate() {
                let e = x - shift;
                out.sum[k] += x;
                out.shifted[k] += e;
                out.squares[k] += e * e;
                out.nonzero += (x != 0.0) as u64;
            }
        }
        out
    }

    /// Sums compared by their bits; extremes by value (the sign of a zero extreme depends
    /// on the lane order, and the kernel reports the element found at the extreme's index).
    fn same(a: &LeafLanes<f64>, b: &LeafLanes<f64>) -> bool {
        let bits =
            |l: &LeafLanes<f64>| [l.sum, l.shifted, l.squares].map(|lanes| lanes.map(f64::to_bits));
        bits(a) == bits(b) && a.nonzero == b.nonzero && a.lo == b.lo && a.hi == b.hi
    }

    proptest! {
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
                    let avx2 = unsafe { x86::leaf_avx2(&xs, shift) };
                    prop_assert!(same(&avx2, &want), "avx2 {:?}\nportable {:?}", avx2, want);
                }
            }
            if let Some(got) = leaf_f64(&xs, shift) {
                prop_assert!(same(&got, &want));
            }
        }
    }
}
