//! Typed runs of elements from raw block bytes, and the [`Real`] trait that lets one generic
//! kernel serve every real dtype.
//!
//! Blocks arrive as bytes in the file's byte order. [`for_each_run`] hands a kernel short runs
//! of typed elements: a zero-copy cast when the bytes are native and aligned, otherwise a copy
//! into a small per-task buffer that is byte-swapped in place. The file itself is never copied.

use half::f16;

use crate::dtype::{Bool, Element, swap_bytes_in_place};
use crate::engine::columns::RunSums;
use crate::engine::simd::{self, LeafLanes, column_scan_f16, column_scan_f32};
use crate::engine::stats::Value;

/// Elements per run: a run of `f64` (16 KiB) stays in L1 while a kernel makes its few passes
/// over it.
pub(crate) const RUN: usize = 2048;

/// Call `f(first_element, run)` on consecutive runs of at most `run_len` elements of `bytes`
/// (elements of `T`, back to back). `native` is false when the bytes must be swapped.
#[inline(always)]
pub(crate) fn for_each_run<T: Element>(
    bytes: &[u8],
    native: bool,
    run_len: usize,
    mut f: impl FnMut(usize, &[T]),
) {
    let size = std::mem::size_of::<T>();
    let run_len = run_len.max(1);
    let aligned = bytes.as_ptr().align_offset(std::mem::align_of::<T>()) == 0;
    if native && aligned {
        // The whole block at once; runs are sub-slices.
        let all: &[T] = if bytes.is_empty() {
            &[]
        } else {
            bytemuck::cast_slice(&bytes[..bytes.len() / size * size])
        };
        for (k, run) in all.chunks(run_len).enumerate() {
            f(k * run_len, run);
        }
        return;
    }
    let mut buf: Vec<T> = vec![T::zeroed(); run_len.min(bytes.len() / size.max(1))];
    for (k, raw) in bytes.chunks(run_len * size).enumerate() {
        let n = raw.len() / size;
        let out = &mut buf[..n];
        let out_bytes: &mut [u8] = bytemuck::cast_slice_mut(out);
        out_bytes.copy_from_slice(&raw[..n * size]);
        if !native {
            swap_bytes_in_place(T::SCALAR, out_bytes);
        }
        f(k * run_len, out);
    }
}

/// A real (non-complex) element type as the reduction kernels see it.
///
/// Floats accumulate in `f64`; integers and `bool` accumulate exactly through [`Real::split`]:
/// `x == hi * 2^32 + lo` with both parts small enough that a run of [`RUN`] of them sums in
/// an `i64` without overflow.
pub(crate) trait Real: Element {
    /// True for `f2`, `f4`, `f8`.
    const IS_FLOAT: bool;
    /// The identity of `min` (+inf or the type's maximum).
    const MIN_INIT: Self;
    /// The identity of `max` (-inf or the type's minimum).
    const MAX_INIT: Self;
    /// The value as `f64` (exact for every float type; integers round like numpy's astype).
    fn to_f64(self) -> f64;
    /// True for NaN (never for integers).
    fn is_nan(self) -> bool;
    /// True where numpy's `count_nonzero` counts the element (NaN counts).
    fn is_nonzero(self) -> bool;
    /// Integers: `(hi, lo)` with `x == hi * 2^32 + lo`. Floats: unused.
    fn split(self) -> (i64, i64);
    /// `self < other` (false when either is NaN).
    fn less(self, other: Self) -> bool;
    /// Neither is less than the other, and neither is NaN: the element is the extreme
    /// `other`. For numbers `==`, which compiles to vector compares; `Bool` overrides it
    /// (any non-zero byte is true).
    #[inline(always)]
    fn same(self, other: Self) -> bool {
        self == other
    }
    /// The value for reporting.
    fn value(self) -> Value;
    /// The leaf of the fused statistics scan (`xs`: whole 8-element chunks, no NaN) in
    /// explicit SIMD, or `None` where there is none for this type and machine. Must give the
    /// same bits as the portable leaf in the kernel.
    fn simd_leaf(xs: &[Self], shift: f64) -> Option<LeafLanes<Self>> {
        let _ = (xs, shift);
        None
    }
    /// The fused scan of a whole run of exactly [`RUN`] elements (no NaN) in one explicit
    /// SIMD call, or `None` where there is none. Must give the same bits as the kernel's
    /// pairwise scan of the run; without `NONZERO` its non-zero count may be left out (0).
    fn simd_run<const NONZERO: bool>(xs: &[Self], shift: f64) -> Option<LeafLanes<Self>> {
        let _ = (xs, shift);
        None
    }
    /// The scan of a run of rows over the `W` columns `c0..c0 + W` (no NaN skipping: a NaN
    /// shows as a NaN sum) in explicit SIMD, prefetching its share of the rows `next`, or
    /// `None` where there is none for this type, width and machine. Must give the same bits
    /// as the portable scan in [`columns`](crate::engine::columns); without `NONZERO` the
    /// non-zero counts may be left out (0).
    fn simd_column_scan<const W: usize, const NONZERO: bool>(
        run: &[Self],
        next: &[u8],
        inner: usize,
        c0: usize,
        shift: &[f64; W],
    ) -> Option<RunSums<Self, W>> {
        let _ = (run, next, inner, c0, shift);
        None
    }
}

const LOW32: i64 = 0xffff_ffff;

macro_rules! real_narrow_int {
    ($($t:ty),*) => {$(
        impl Real for $t {
            const IS_FLOAT: bool = false;
            const MIN_INIT: Self = <$t>::MAX;
            const MAX_INIT: Self = <$t>::MIN;
            #[inline(always)]
            fn to_f64(self) -> f64 { self as f64 }
            #[inline(always)]
            fn is_nan(self) -> bool { false }
            #[inline(always)]
            fn is_nonzero(self) -> bool { self != 0 }
            #[inline(always)]
            fn split(self) -> (i64, i64) { (0, self as i64) }
            #[inline(always)]
            fn less(self, other: Self) -> bool { self < other }
            fn value(self) -> Value { Value::Int(self as i128) }
        }
    )*};
}
real_narrow_int!(i8, i16, i32, u8, u16, u32);

impl Real for i64 {
    const IS_FLOAT: bool = false;
    const MIN_INIT: Self = i64::MAX;
    const MAX_INIT: Self = i64::MIN;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
    #[inline(always)]
    fn is_nonzero(self) -> bool {
        self != 0
    }
    #[inline(always)]
    fn split(self) -> (i64, i64) {
        (self >> 32, self & LOW32)
    }
    #[inline(always)]
    fn less(self, other: Self) -> bool {
        self < other
    }
    fn value(self) -> Value {
        Value::Int(self as i128)
    }
}

impl Real for u64 {
    const IS_FLOAT: bool = false;
    const MIN_INIT: Self = u64::MAX;
    const MAX_INIT: Self = u64::MIN;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
    #[inline(always)]
    fn is_nonzero(self) -> bool {
        self != 0
    }
    #[inline(always)]
    fn split(self) -> (i64, i64) {
        ((self >> 32) as i64, (self as i64) & LOW32)
    }
    #[inline(always)]
    fn less(self, other: Self) -> bool {
        self < other
    }
    fn value(self) -> Value {
        Value::Int(self as i128)
    }
}

impl Real for Bool {
    const IS_FLOAT: bool = false;
    const MIN_INIT: Self = Bool(1);
    const MAX_INIT: Self = Bool(0);
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self.get() as u8 as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
    #[inline(always)]
    fn is_nonzero(self) -> bool {
        self.get()
    }
    #[inline(always)]
    fn split(self) -> (i64, i64) {
        (0, self.get() as i64)
    }
    #[inline(always)]
    fn less(self, other: Self) -> bool {
        !self.get() & other.get()
    }
    #[inline(always)]
    fn same(self, other: Self) -> bool {
        self.get() == other.get()
    }
    fn value(self) -> Value {
        Value::Bool(self.get())
    }
}

/// For `f64`, which has no SIMD column scan.
fn no_column_scan<const W: usize, const NONZERO: bool>(
    _run: &[f64],
    _next: &[u8],
    _inner: usize,
    _c0: usize,
    _shift: &[f64; W],
) -> Option<RunSums<f64, W>> {
    None
}

macro_rules! real_float {
    ($($t:ty => $variant:ident, $leaf:path, $run:ident, $column_scan:ident),*) => {$(
        impl Real for $t {
            const IS_FLOAT: bool = true;
            const MIN_INIT: Self = <$t>::INFINITY;
            const MAX_INIT: Self = <$t>::NEG_INFINITY;
            #[inline(always)]
            fn to_f64(self) -> f64 { self.into() }
            #[inline(always)]
            #[allow(clippy::eq_op)]
            fn is_nan(self) -> bool { self != self }
            #[inline(always)]
            fn is_nonzero(self) -> bool { self != <$t>::from(0u8) }
            #[inline(always)]
            fn split(self) -> (i64, i64) { (0, 0) }
            #[inline(always)]
            fn less(self, other: Self) -> bool { self < other }
            fn value(self) -> Value { Value::$variant(self.into()) }
            #[inline(always)]
            fn simd_leaf(xs: &[Self], shift: f64) -> Option<LeafLanes<Self>> {
                $leaf(xs, shift)
            }
            #[inline(always)]
            fn simd_run<const NONZERO: bool>(xs: &[Self], shift: f64) -> Option<LeafLanes<Self>> {
                simd::$run::<NONZERO>(xs, shift)
            }
            #[inline(always)]
            fn simd_column_scan<const W: usize, const NONZERO: bool>(
                run: &[Self],
                next: &[u8],
                inner: usize,
                c0: usize,
                shift: &[f64; W],
            ) -> Option<RunSums<Self, W>> {
                $column_scan::<W, NONZERO>(run, next, inner, c0, shift)
            }
        }
    )*};
}
real_float!(
    f32 => F32, simd::scan_f32::<true>, scan_f32, column_scan_f32,
    f64 => Float, simd::leaf_f64, run_f64, no_column_scan,
    f16 => Float, simd::scan_f16::<true>, scan_f16, column_scan_f16
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_the_block_in_order_for_both_byte_orders() {
        let values: Vec<i32> = (0..10).map(|i| i * 1000 - 3).collect();
        let native: Vec<u8> = bytemuck::cast_slice(&values).to_vec();
        let mut swapped = native.clone();
        swap_bytes_in_place(crate::Scalar::I32, &mut swapped);
        for (bytes, is_native) in [(&native, true), (&swapped, false)] {
            let mut seen = Vec::new();
            for_each_run::<i32>(bytes, is_native, 3, |first, run| {
                assert_eq!(first, seen.len());
                seen.extend_from_slice(run);
            });
            assert_eq!(seen, values);
        }
    }

    #[test]
    fn splits_recombine_exactly() {
        for x in [i64::MIN, i64::MAX, -1, 0, 1 << 40, -(1 << 33) + 5] {
            let (hi, lo) = x.split();
            assert_eq!(hi as i128 * (1 << 32) + lo as i128, x as i128);
        }
        for x in [u64::MAX, 0, 1 << 63, 12345] {
            let (hi, lo) = x.split();
            assert_eq!(hi as i128 * (1 << 32) + lo as i128, x as i128);
        }
    }
}
