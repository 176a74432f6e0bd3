//! The one trait that every element type implements so that runtime dtypes (through
//! [`dispatch_scalar!`](crate::dispatch_scalar)) reach the generic kernels: real types go to
//! the fused real kernel, complex types to the complex one.

use num_complex::Complex;

use crate::dtype::{Bool, Element};
use crate::engine::axis::{AxisStats, axis_complex, axis_real};
use crate::engine::histogram::{Rules, hist_counts_real};
use crate::engine::source::Source;
use crate::engine::stats::{PassOptions, Stats, stats_complex, stats_real};

/// Reductions of one element type.
pub(crate) trait Reducible: Element {
    fn stats(file: &dyn Source, ddof: u64, options: &PassOptions<'_>) -> Stats;
    fn stats_axis(
        file: &dyn Source,
        axis: usize,
        ddof: u64,
        options: &PassOptions<'_>,
    ) -> AxisStats;
    /// Histogram counts (never called for complex types: refused before dispatch).
    fn hist_counts(file: &dyn Source, rules: &Rules, options: &PassOptions<'_>) -> Vec<u64>;
}

macro_rules! reducible_real {
    ($($t:ty),*) => {$(
        impl Reducible for $t {
            fn stats(file: &dyn Source, ddof: u64, options: &PassOptions<'_>) -> Stats {
                stats_real::<$t>(file, ddof, options)
            }
            fn stats_axis(file: &dyn Source, axis: usize, ddof: u64, options: &PassOptions<'_>) -> AxisStats {
                axis_real::<$t>(file, axis, ddof, options)
            }
            fn hist_counts(file: &dyn Source, rules: &Rules, options: &PassOptions<'_>) -> Vec<u64> {
                hist_counts_real::<$t>(file, rules, options)
            }
        }
    )*};
}
reducible_real!(
    Bool,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    half::f16,
    f32,
    f64
);

macro_rules! reducible_complex {
    ($($t:ty),*) => {$(
        impl Reducible for $t {
            fn stats(file: &dyn Source, _ddof: u64, options: &PassOptions<'_>) -> Stats {
                stats_complex::<$t>(file, options)
            }
            fn stats_axis(file: &dyn Source, axis: usize, _ddof: u64, options: &PassOptions<'_>) -> AxisStats {
                axis_complex::<$t>(file, axis, options)
            }
            fn hist_counts(_file: &dyn Source, rules: &Rules, _options: &PassOptions<'_>) -> Vec<u64> {
                vec![0; rules.bins()]
            }
        }
    )*};
}
reducible_complex!(Complex<f32>, Complex<f64>);
