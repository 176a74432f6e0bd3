//! Histograms with `np.histogram`'s rules for an integer number of bins, reproduced down to
//! the rounding of its arithmetic so bin counts match numpy's exactly:
//!
//! - range: given (`lo <= hi`, both finite), or the data's min and max; an empty array uses
//!   `[0, 1]`; `lo == hi` widens to `[lo - 0.5, hi + 0.5]`;
//! - NaN: with an autodetected range, NaN (or ±inf) in the data is an error, as in numpy
//!   ("autodetected range of [nan, nan] is not finite"); with an explicit range, NaN is
//!   skipped (numpy's range test is false for NaN). Values outside the range are ignored;
//! - edges: `linspace(lo, hi, bins + 1)`, in the dtype numpy uses (float32 for float32 data,
//!   float16 for float16, float64 otherwise); every bin is half-open except the last, which
//!   includes its right edge; edges that the rounding to that type made equal are an error,
//!   as in numpy ("Too many bins for data range");
//! - arithmetic: numpy computes the bin index in the data's float type when the range is
//!   autodetected (its edges are numpy scalars of that type) and in float64 when a range of
//!   Python floats is given; both are reproduced by rounding each operation to that type.
//!   That arithmetic only estimates the bin, which numpy then corrects by one against the
//!   edges; where the correction provably lands on the bin the edges give (strictly increasing
//!   edges, few enough bins for the type's precision, a range near enough to zero for its
//!   width) a multiplication estimates instead, the same counts for a third less time.
//!
//! Counts are integers, so they are summed across blocks in any order: deterministic.

use half::f16;

use crate::dtype::{Scalar, f16_from_f64};
use crate::engine::elements::{RUN, Real, for_each_run};
use crate::engine::simd::{self, HalfRule};
use crate::engine::source::Source;
use crate::engine::stats::{PassOptions, stats};
use crate::error::{Error, Result, ResultExt};

/// A histogram: `bins + 1` edges and `bins` counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Bin edges (values of numpy's edge dtype, widened to `f64`).
    pub edges: Vec<f64>,
    /// Number of values in each bin.
    pub counts: Vec<u64>,
}

/// `np.histogram(a, bins, range)` of the whole array, in one pass (two when the range is
/// autodetected). Complex arrays are refused.
pub fn histogram(
    file: &dyn Source,
    bins: usize,
    range: Option<(f64, f64)>,
    options: &PassOptions<'_>,
) -> Result<Histogram> {
    histogram_inner(file, bins, range, options).at(file.path())
}

fn histogram_inner(
    file: &dyn Source,
    bins: usize,
    range: Option<(f64, f64)>,
    options: &PassOptions<'_>,
) -> Result<Histogram> {
    let scalar = file.dtype().scalar();
    if bins == 0 {
        return Err(Error::invalid("`bins` must be positive"));
    }
    if scalar.is_complex() {
        return Err(Error::invalid(
            "histogram of complex numbers is not supported",
        ));
    }
    let rules = match range {
        Some((lo, hi)) => {
            if lo > hi {
                return Err(Error::invalid(
                    "max must be larger than min in range parameter",
                ));
            }
            if !(lo.is_finite() && hi.is_finite()) {
                return Err(Error::invalid(format!(
                    "supplied range of [{lo}, {hi}] is not finite"
                )));
            }
            let (lo, hi) = if lo == hi {
                (lo - 0.5, hi + 0.5)
            } else {
                (lo, hi)
            };
            given_rules(lo, hi, bins, scalar)
        }
        None => auto_rules(file, bins, options)?,
    };
    if rules.edges.windows(2).any(|w| w[0] >= w[1]) {
        // Edges rounded together (float16 data, or a range too narrow for its bins).
        return Err(Error::invalid(format!(
            "Too many bins for data range. Cannot create {bins} finite-sized bins."
        )));
    }
    let counts = crate::dispatch_scalar!(scalar, T => {
        <T as crate::engine::reducible::Reducible>::hist_counts(file, &rules, options)
    });
    Ok(Histogram {
        edges: rules.edges,
        counts,
    })
}

/// The edges and the bin-index arithmetic of one histogram.
pub(crate) struct Rules {
    first: f64,
    last: f64,
    edges: Vec<f64>,
    index: IndexRule,
    /// The scale of the fast estimate, when it lands where numpy's does ([`fast_scale`]).
    fast_scale: Option<f64>,
}

/// numpy's `f_indices` arithmetic for a value `x` already rounded to the edge type (`round`
/// rounds to that type).
#[derive(Clone, Copy, Debug)]
enum IndexRule {
    /// A range of Python floats: `(round(x - first) / width) * bins` in `f64`.
    Given { width: f64, bins: f64 },
    /// An autodetected range (numpy scalars of the edge type):
    /// `round(round(round(x - first) / denom) * bins)`.
    Detected { denom: f64, bins: f64 },
}

/// Rounding to numpy's edge dtype for data of `scalar`: the data's float type, float64 for
/// integers and bool.
fn edge_round(scalar: Scalar) -> fn(f64) -> f64 {
    match scalar {
        Scalar::F32 => |x| x as f32 as f64,
        Scalar::F16 => |x| f16_from_f64(x).to_f64(),
        _ => |x| x,
    }
}

impl Rules {
    /// The rules of a histogram of data of `scalar`, with the fast estimate where it applies.
    fn new(first: f64, last: f64, edges: Vec<f64>, index: IndexRule, scalar: Scalar) -> Rules {
        let fast_scale = fast_scale(scalar, &edges, first, last);
        Rules {
            first,
            last,
            edges,
            index,
            fast_scale,
        }
    }

    pub(crate) fn bins(&self) -> usize {
        self.edges.len() - 1
    }
}

/// The rules for `bins` over a range `[lo, hi]` (`lo < hi`) of Python floats for data of
/// `scalar`: linspace in float64, then cast to the edge type; the index in float64.
fn given_rules(lo: f64, hi: f64, bins: usize, scalar: Scalar) -> Rules {
    let round = edge_round(scalar);
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| round(i as f64 * step + lo)).collect();
    edges[bins] = round(hi);
    let index = IndexRule::Given {
        width: hi - lo,
        bins: bins as f64,
    };
    Rules::new(round(lo), round(hi), edges, index, scalar)
}

fn auto_rules(file: &dyn Source, bins: usize, options: &PassOptions<'_>) -> Result<Rules> {
    let scalar = file.dtype().scalar();
    let (first, last) = if file.is_empty() {
        (0.0, 1.0)
    } else {
        let s = stats(file, 0, options)?;
        let (min, max) = match (s.min, s.max) {
            (Some(a), Some(b)) if s.nan_count == 0 => (a.as_f64(), b.as_f64()),
            _ => (f64::NAN, f64::NAN),
        };
        if !(min.is_finite() && max.is_finite()) {
            return Err(Error::invalid(format!(
                "autodetected range of [{}, {}] is not finite",
                py_float(min),
                py_float(max)
            )));
        }
        (min, max)
    };
    Ok(detected_rules(first, last, bins, scalar))
}

/// The rules for `bins` over the data's range `[first, last]` (values of data of `scalar`).
fn detected_rules(mut first: f64, mut last: f64, bins: usize, scalar: Scalar) -> Rules {
    let round = edge_round(scalar);
    let integer = !scalar.is_float();
    let widened = first == last;
    if widened {
        first = round(first - 0.5);
        last = round(last + 0.5);
    }
    // numpy scalars of the data type: linspace and the index are computed in that type
    // (float64 for integers, whose difference is taken exactly first).
    let delta = round(last - first);
    let step = round(delta / bins as f64);
    let mut edges: Vec<f64> = (0..=bins)
        .map(|i| round(round(i as f64 * step) + first))
        .collect();
    edges[bins] = last;
    let denom = if integer && !widened {
        (last as i128 - first as i128) as f64
    } else {
        delta
    };
    let index = IndexRule::Detected {
        denom,
        bins: bins as f64,
    };
    Rules::new(first, last, edges, index, scalar)
}

/// `bins / (last - first)` when every estimate of the bin (numpy's and the scaled one) is
/// within one bin of the bin the edges give, so that numpy's correction makes both land
/// there: the edges strictly increase, and both the estimates' rounding error and the edges'
/// own (a few units in the last place of the edge type, that of `scalar`, of the largest edge,
/// counted in bins) stay far below one bin. A range far from zero for its width (`[1e15,
/// 1e15 + 1]`) has edges rounded by many bins: there numpy's arithmetic is followed exactly.
fn fast_scale(scalar: Scalar, edges: &[f64], first: f64, last: f64) -> Option<f64> {
    let epsilon = match scalar {
        Scalar::F32 => f32::EPSILON as f64,
        Scalar::F16 => f16::EPSILON.to_f64(),
        _ => f64::EPSILON,
    };
    let bins = (edges.len() - 1) as f64;
    let width = last - first;
    let increasing = edges.windows(2).all(|w| w[0] < w[1]);
    // How many widths the largest edge is from zero: its rounding, in bins, grows with it.
    let reach = (first.abs().max(last.abs()) / width).max(1.0);
    let scale = bins / width;
    let precise = 64.0 * epsilon * bins * reach < 1.0;
    (increasing && precise && scale.is_finite() && scale > 0.0).then_some(scale)
}

/// Python's spelling of a float in numpy's messages (`nan`, `inf`).
fn py_float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{x:?}")
    }
}

/// A value of the data rounded to numpy's edge type for `T` (float32 for float32 data,
/// float16 for float16, float64 otherwise). `T::SCALAR` is a constant, so each instance of the
/// counting loop carries one rounding, inlined.
#[inline(always)]
fn to_edge_type<T: Real>(x: f64) -> f64 {
    match T::SCALAR {
        Scalar::F32 => x as f32 as f64,
        Scalar::F16 => f16_from_f64(x).to_f64(),
        _ => x,
    }
}

/// Count the values of one run into `counts`: one loop per kind of index arithmetic, with
/// the rounding and the arithmetic inlined (no call per value).
///
/// numpy's arithmetic only estimates the bin: it then moves the index one bin down when the
/// value lies below the bin's left edge, or one up when it reaches the next edge. When the
/// edges strictly increase and the estimate is never off by more than one bin, that
/// correction always lands on the one bin whose edges hold the value, whatever the estimate's
/// rounding; then a multiplication by `bins / width` in `f64` estimates as well as numpy's
/// division and roundings, at a fraction of the cost ([`fast_scale`] says when).
fn count_into<T: Real>(counts: &mut [u64], xs: &[T], rules: &Rules) {
    if T::SCALAR == Scalar::F16 && count_half(counts, bytemuck::cast_slice(xs), rules) {
        return;
    }
    count_scalar(counts, xs, rules);
}

/// [`count_into`] one value at a time.
fn count_scalar<T: Real>(counts: &mut [u64], xs: &[T], rules: &Rules) {
    if let Some(scale) = rules.fast_scale {
        return count_with(counts, xs, rules, |v| (v - rules.first) * scale);
    }
    match rules.index {
        IndexRule::Given { width, bins } => count_with(counts, xs, rules, |v| {
            (to_edge_type::<T>(v - rules.first) / width) * bins
        }),
        IndexRule::Detected { denom, bins } => count_with(counts, xs, rules, |v| {
            let round = to_edge_type::<T>;
            round(round(round(v - rules.first) / denom) * bins)
        }),
    }
}

/// [`count_into`] with the index arithmetic `index`, then numpy's corrections of an index
/// that rounding put one bin off. (Tried and slower: the corrections and the range test
/// without branches, and four tallies so that consecutive values in one bin update different
/// counters: 1.4-1.7 s against 1.15 s on a warm 4 GiB float64 file.)
#[inline(always)]
fn count_with<T: Real>(counts: &mut [u64], xs: &[T], rules: &Rules, index: impl Fn(f64) -> f64) {
    let bins = counts.len();
    for &x in xs {
        // Already a value of the edge type: the data's float type, or float64 for the rest.
        let v = x.to_f64();
        // NaN fails both comparisons, so it is never counted.
        if !(v >= rules.first && v <= rules.last) {
            continue;
        }
        let i = (index(v) as usize).min(bins - 1);
        counts[corrected(v, i, &rules.edges)] += 1;
    }
}

/// numpy's correction of the estimate `i` of the bin of `v` (in range): one bin down when `v`
/// lies below the bin's left edge, one up when it reaches the next edge.
#[inline(always)]
fn corrected(v: f64, mut i: usize, edges: &[f64]) -> usize {
    if v < edges[i] && i > 0 {
        i -= 1;
    }
    if i + 2 < edges.len() && v >= edges[i + 1] {
        i += 1;
    }
    i
}

/// [`count_into`] for `float16`, whose values and arithmetic the software conversions of the
/// scalar loop make slow: numpy's estimates eight at a time in `f32` registers rounded to
/// `f16` by F16C instructions ([`simd::half_bin_estimates`]), then the same corrections.
/// False, with nothing counted, where that does not apply: CPUs without AVX2 and F16C, and
/// more than 8192 bins (then `q · bins` is no longer exact in `f32`).
fn count_half(counts: &mut [u64], xs: &[f16], rules: &Rules) -> bool {
    let bins = counts.len();
    let rule = match rules.index {
        _ if bins > 8192 => return false,
        IndexRule::Given { width, bins } => HalfRule::Given {
            first: rules.first as f32,
            width,
            bins,
        },
        IndexRule::Detected { denom, bins } => HalfRule::Detected {
            first: rules.first as f32,
            denom: denom as f32,
            bins: bins as f32,
        },
    };
    let range = (rules.first as f32, rules.last as f32, (bins - 1) as i32);
    let mut values = [0f32; RUN];
    let mut estimates = [0i32; RUN];
    for xs in xs.chunks(RUN) {
        let (values, estimates) = (&mut values[..xs.len()], &mut estimates[..xs.len()]);
        if !simd::half_bin_estimates(xs, rule, range, values, estimates) {
            return false;
        }
        for (&v, &i) in values.iter().zip(estimates.iter()) {
            if let Ok(i) = usize::try_from(i) {
                counts[corrected(f64::from(v), i, &rules.edges)] += 1;
            }
        }
    }
    true
}

pub(crate) fn hist_counts_real<T: Real>(
    file: &dyn Source,
    rules: &Rules,
    options: &PassOptions<'_>,
) -> Vec<u64> {
    let bins = rules.edges.len() - 1;
    let native = file.dtype().is_native();
    let plan = options.plan(file.len(), T::SCALAR.size());
    options.driver(file).fold_commutative(
        &plan,
        || vec![0u64; bins],
        |mut counts, _, bytes| {
            for_each_run::<T>(bytes, native, RUN, |_, run| {
                count_into(&mut counts, run, rules)
            });
            counts
        },
        |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
            a
        },
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The counts of `xs` with the fast estimate and with numpy's arithmetic, or `None` where
    /// the fast estimate is refused.
    fn both_ways<T: Real>(xs: &[T], mut rules: Rules) -> Option<(Vec<u64>, Vec<u64>)> {
        rules.fast_scale?;
        let bins = rules.bins();
        let mut fast = vec![0; bins];
        count_into(&mut fast, xs, &rules);
        rules.fast_scale = None;
        let mut exact = vec![0; bins];
        count_into(&mut exact, xs, &rules);
        Some((fast, exact))
    }

    /// The rules for `bins` over `[lo, hi]` given as Python floats, with edges in `f32` or
    /// `f64` (`narrow`).
    fn given(lo: f64, hi: f64, bins: usize, narrow: bool) -> Rules {
        given_rules(lo, hi, bins, if narrow { Scalar::F32 } else { Scalar::F64 })
    }

    proptest! {
        #[test]
        fn the_fast_estimate_gives_numpys_counts(
            lo in -1e3..1e3f64,
            width in 1e-3..1e4f64,
            bins in 1usize..2000,
            picks in prop::collection::vec((0.0..1.0f64, any::<bool>()), 0..400),
        ) {
            // Values anywhere in and around the range, and values exactly on the edges.
            let rules = given(lo, lo + width, bins, false);
            let xs: Vec<f64> = picks
                .iter()
                .map(|&(u, on_edge)| {
                    if on_edge {
                        rules.edges[(u * bins as f64) as usize]
                    } else {
                        lo - width * 0.1 + u * width * 1.2
                    }
                })
                .collect();
            // In float64 these ranges are all near enough to zero for their width.
            let (fast, exact) = both_ways(&xs, rules).expect("fast estimate");
            prop_assert_eq!(fast, exact);
            let rules = given(lo, lo + width, bins, true);
            let narrow: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
            if let Some((fast, exact)) = both_ways(&narrow, rules) {
                prop_assert_eq!(fast, exact);
            }
        }
    }

    proptest! {
        /// The float16 estimates eight at a time ([`count_half`]) give the counts of the
        /// scalar loop, which follows numpy's arithmetic one value at a time, for both rules.
        #[test]
        fn the_f16_estimates_give_the_scalar_counts(
            values in prop::collection::vec(prop_oneof![
                8 => -300.0..300.0f32,
                1 => Just(f32::NAN),
                1 => Just(f32::INFINITY),
                1 => (-20i32..20).prop_map(|k| k as f32 * 0.125),
            ], 0..300),
            (lo, hi) in (-300.0..300.0f64, 1e-2..600.0f64).prop_map(|(lo, w)| (lo, lo + w)),
            bins in prop_oneof![1usize..40, 1usize..9000],
            detected in any::<bool>(),
        ) {
            let xs: Vec<f16> = values.iter().map(|&x| f16::from_f32(x)).collect();
            let mut rules = if detected {
                let finite = xs.iter().filter(|x| x.is_finite()).map(|x| x.to_f64());
                let first = finite.clone().fold(f64::INFINITY, f64::min);
                let last = finite.fold(f64::NEG_INFINITY, f64::max);
                prop_assume!(first.is_finite());
                detected_rules(first, last, bins, Scalar::F16)
            } else {
                given_rules(lo, hi, bins, Scalar::F16)
            };
            prop_assume!(rules.edges.windows(2).all(|w| w[0] < w[1]));
            rules.fast_scale = None;
            let mut scalar = vec![0; bins];
            count_scalar(&mut scalar, &xs, &rules);
            let mut fast = vec![0; bins];
            if count_half(&mut fast, &xs, &rules) {
                prop_assert_eq!(fast, scalar);
            } else {
                #[cfg(target_arch = "x86_64")]
                prop_assert!(bins > 8192 || !std::arch::is_x86_feature_detected!("f16c"));
            }
        }
    }

    #[test]
    fn the_fast_estimate_is_not_used_where_it_could_differ() {
        // Equal neighbouring edges (float16 rounding), or too many bins for float32.
        assert_eq!(
            fast_scale(Scalar::F16, &[0.0, 0.5, 0.5, 1.0], 0.0, 1.0),
            None
        );
        let many: Vec<f64> = (0..=(1 << 21)).map(|i| i as f64).collect();
        assert_eq!(fast_scale(Scalar::F32, &many, 0.0, (1 << 21) as f64), None);
        assert!(fast_scale(Scalar::F64, &many, 0.0, (1 << 21) as f64).is_some());
        // A range far from zero for its width: its edges are rounded by whole bins.
        assert_eq!(given(1e15, 1e15 + 1.0, 100, false).fast_scale, None);
        assert!(given(-1.0, 1e6, 100, false).fast_scale.is_some());
    }
}
