//! Naive sequential references for the engine's kernels: the obvious loops, in C order, with
//! no blocks, lanes, windows or threads. Tests check every fast path against these (like
//! memchr's `naive.rs`). Not part of the supported API.

use crate::engine::stats::{Stats, Value};

/// One element as the reference sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Elem {
    /// An integer or bool (0/1), exact.
    Int(i128),
    /// A real float (NaN allowed).
    Float(f64),
}

impl Elem {
    fn f64(self) -> f64 {
        match self {
            Elem::Int(i) => i as f64,
            Elem::Float(x) => x,
        }
    }

    fn is_nan(self) -> bool {
        matches!(self, Elem::Float(x) if x.is_nan())
    }
}

/// Statistics of `xs` (C order), element by element. Float sums are plain sequential `f64`
/// sums, so compare them with a tolerance; everything else must match exactly. `min`/`max`
/// come back as [`Value::Int`] or [`Value::Float`].
pub fn stats(xs: &[Elem], ddof: u64) -> Stats {
    let kept: Vec<(usize, Elem)> = xs
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, x)| !x.is_nan())
        .collect();
    let count = kept.len() as u64;
    let nan_count = xs.len() as u64 - count;
    let count_nonzero = xs.iter().filter(|x| x.f64() != 0.0).count() as u64;
    let integer = xs.iter().all(|x| matches!(x, Elem::Int(_)));
    let sum = if integer {
        Value::Int(
            kept.iter()
                .map(|(_, x)| match x {
                    Elem::Int(i) => *i,
                    Elem::Float(_) => 0,
                })
                .sum(),
        )
    } else {
        Value::Float(kept.iter().map(|(_, x)| x.f64()).sum())
    };
    let mean = sum.as_f64() / count as f64;
    let m2: f64 = kept.iter().map(|(_, x)| (x.f64() - mean).powi(2)).sum();
    let var = (count > ddof).then(|| m2 / (count - ddof) as f64);
    let value = |x: Elem| match x {
        Elem::Int(i) => Value::Int(i),
        Elem::Float(f) => Value::Float(f),
    };
    let less = |a: Elem, b: Elem| match (a, b) {
        (Elem::Int(a), Elem::Int(b)) => a < b,
        _ => a.f64() < b.f64(),
    };
    let mut min: Option<(usize, Elem)> = None;
    let mut max: Option<(usize, Elem)> = None;
    for &(i, x) in &kept {
        if min.is_none_or(|(_, m)| less(x, m)) {
            min = Some((i, x));
        }
        if max.is_none_or(|(_, m)| less(m, x)) {
            max = Some((i, x));
        }
    }
    Stats {
        count,
        nan_count,
        count_nonzero: Some(count_nonzero),
        sum,
        mean: (count > 0).then_some(Value::Float(mean)),
        var,
        std: var.map(f64::sqrt),
        min: min.map(|(_, x)| value(x)),
        max: max.map(|(_, x)| value(x)),
        argmin: min.map(|(i, _)| i as u64),
        argmax: max.map(|(i, _)| i as u64),
    }
}

/// Statistics along `axis` of the C-order array `xs` of `shape`: one [`stats`] per lane, in
/// C order of the shape without the axis.
pub fn stats_axis(xs: &[Elem], shape: &[usize], axis: usize, ddof: u64) -> Vec<Stats> {
    let before: usize = shape[..axis].iter().product();
    let len = shape[axis];
    let after: usize = shape[axis + 1..].iter().product();
    let mut out = Vec::with_capacity(before * after);
    for o in 0..before {
        for i in 0..after {
            let lane: Vec<Elem> = (0..len).map(|j| xs[(o * len + j) * after + i]).collect();
            out.push(stats(&lane, ddof));
        }
    }
    out
}

/// Counts of `xs` in the bins given by `edges`: value `v` goes to the last bin whose left
/// edge is `<= v`; the last bin includes its right edge; NaN and values outside are skipped.
pub fn histogram_counts(xs: &[f64], edges: &[f64]) -> Vec<u64> {
    let bins = edges.len() - 1;
    let mut counts = vec![0; bins];
    for &v in xs {
        if !(v >= edges[0] && v <= edges[bins]) {
            continue;
        }
        let i = edges[..bins].iter().rposition(|&e| e <= v).unwrap_or(0);
        counts[i] += 1;
    }
    counts
}

/// The C-order copy of an array stored in Fortran order with `shape`.
pub fn fortran_to_c_order<T: Copy>(fortran: &[T], shape: &[usize]) -> Vec<T> {
    let n = fortran.len();
    let mut out = Vec::with_capacity(n);
    for c in 0..n {
        // multi-index of C flat index c, then its Fortran position
        let mut rest = c;
        let mut multi = vec![0; shape.len()];
        for k in (0..shape.len()).rev() {
            multi[k] = rest % shape[k].max(1);
            rest /= shape[k].max(1);
        }
        let f = (0..shape.len())
            .rev()
            .fold(0, |f, k| f * shape[k] + multi[k]);
        out.push(fortran[f]);
    }
    out
}
