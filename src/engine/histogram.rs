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
//!   includes its right edge;
//! - arithmetic: numpy computes the bin index in the data's float type when the range is
//!   autodetected (its edges are numpy scalars of that type) and in float64 when a range of
//!   Python floats is given; both are reproduced by rounding each operation to that type.
//!
//! Counts are integers, so they are summed across blocks in any order: deterministic.

use half::f16;

use crate::dtype::Scalar;
use crate::engine::elements::{RUN, Real, for_each_run};
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
    // numpy's edge dtype: the data's float type, float64 for integers and bool.
    let round: fn(f64) -> f64 = match scalar {
        Scalar::F32 => |x| x as f32 as f64,
        Scalar::F16 => |x| f16::from_f64(x).to_f64(),
        _ => |x| x,
    };
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
            // Python floats: linspace in float64, then cast; the index in float64.
            let step = (hi - lo) / bins as f64;
            let mut edges: Vec<f64> = (0..=bins).map(|i| round(i as f64 * step + lo)).collect();
            edges[bins] = round(hi);
            Rules {
                first: round(lo),
                last: round(hi),
                edges,
                index: Box::new(move |x, first| ((round(x - first)) / (hi - lo)) * bins as f64),
            }
        }
        None => auto_rules(file, bins, round, options)?,
    };
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
    /// numpy's `f_indices` for a value `x` (already rounded to the edge type).
    index: Box<dyn Fn(f64, f64) -> f64 + Sync + Send>,
}

fn auto_rules(
    file: &dyn Source,
    bins: usize,
    round: fn(f64) -> f64,
    options: &PassOptions<'_>,
) -> Result<Rules> {
    let integer = !file.dtype().scalar().is_float();
    let (mut first, mut last, widened) = if file.is_empty() {
        (0.0, 1.0, false)
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
        (min, max, false)
    };
    let mut widened = widened;
    if first == last {
        first = round(first - 0.5);
        last = round(last + 0.5);
        widened = true;
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
    let n = bins as f64;
    Ok(Rules {
        first,
        last,
        edges,
        index: Box::new(move |x, first| round(round(round(x - first) / denom) * n)),
    })
}

impl Rules {
    pub(crate) fn bins(&self) -> usize {
        self.edges.len() - 1
    }
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

/// Count the values of one block into `counts` (`round` is applied by the rules' index).
fn count_into<T: Real>(counts: &mut [u64], xs: &[T], rules: &Rules, round: fn(f64) -> f64) {
    let bins = counts.len();
    for &x in xs {
        let v = round(x.to_f64());
        // NaN fails both comparisons, so it is never counted.
        if !(v >= rules.first && v <= rules.last) {
            continue;
        }
        let mut i = ((rules.index)(v, rules.first) as usize).min(bins - 1);
        if v < rules.edges[i] && i > 0 {
            i -= 1;
        }
        if i + 1 < bins && v >= rules.edges[i + 1] {
            i += 1;
        }
        counts[i] += 1;
    }
}

pub(crate) fn hist_counts_real<T: Real>(
    file: &dyn Source,
    rules: &Rules,
    options: &PassOptions<'_>,
) -> Vec<u64> {
    let bins = rules.edges.len() - 1;
    let round: fn(f64) -> f64 = match T::SCALAR {
        Scalar::F32 => |x| x as f32 as f64,
        Scalar::F16 => |x| f16::from_f64(x).to_f64(),
        _ => |x| x,
    };
    let native = file.dtype().is_native();
    let plan = options.plan(file.len(), T::SCALAR.size());
    options.driver(file).fold_commutative(
        &plan,
        || vec![0u64; bins],
        |mut counts, _, bytes| {
            for_each_run::<T>(bytes, native, RUN, |_, run| {
                count_into(&mut counts, run, rules, round)
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
