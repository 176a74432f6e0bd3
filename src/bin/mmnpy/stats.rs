//! `mmnpy stats FILE [--axis K] [--ddof N] [--json]`: count, NaN count, sum, mean, var, std,
//! min, max, argmin and argmax in one streaming pass (NaN skipped, like numpy's `nan*`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use mmnpy::engine::{PassOptions, Stats, Value, stats, stats_axis};
use mmnpy::partitioned::open_source;
use serde_json::{Map, Number, Value as Json};

use crate::{Global, progress};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The .npy file, or a partitioned array (an npy-stack directory, an uncompressed .zarr).
    file: PathBuf,
    /// Reduce along this axis (negative counts from the end, like numpy).
    #[arg(long, allow_hyphen_values = true)]
    axis: Option<i64>,
    /// Delta degrees of freedom for var and std (numpy's default: 0).
    #[arg(long, default_value_t = 0)]
    ddof: u64,
    /// Print a JSON object (keys count, nan_count, sum, mean, var, std, min, max, argmin,
    /// argmax; with --axis each holds a nested list shaped like numpy's result).
    #[arg(long)]
    json: bool,
}

/// A JSON number from its decimal digits (serde_json keeps them verbatim).
fn number(digits: &str) -> Json {
    digits
        .parse::<Number>()
        .map(Json::Number)
        .unwrap_or(Json::Null)
}

fn float(x: f64) -> Json {
    if x.is_finite() {
        number(ryu::Buffer::new().format_finite(x))
    } else {
        Json::Null
    }
}

/// One value as JSON: integers exact, floats with shortest round-trip digits, complex as
/// `[re, im]`, NaN and infinities as null.
pub(crate) fn value_json(v: Value) -> Json {
    match v {
        Value::Bool(b) => Json::Bool(b),
        Value::Int(i) => number(&i.to_string()),
        Value::F32(x) if x.is_finite() => number(ryu::Buffer::new().format_finite(x)),
        Value::F32(_) => Json::Null,
        Value::Float(x) => float(x),
        Value::Complex(re, im) => Json::Array(vec![float(re), float(im)]),
    }
}

/// The `--json` keys of one [`Stats`], in the CLI contract's order. Complex results carry
/// only count, nan_count, sum and mean.
fn stats_fields(s: &Stats) -> Vec<(&'static str, Json)> {
    let opt = |v: Option<Value>| v.map_or(Json::Null, value_json);
    let mut fields = vec![
        ("count", number(&s.count.to_string())),
        ("nan_count", number(&s.nan_count.to_string())),
        ("sum", value_json(s.sum)),
        ("mean", opt(s.mean)),
    ];
    if !matches!(s.sum, Value::Complex(..)) {
        let idx = |i: Option<u64>| i.map_or(Json::Null, |i| number(&i.to_string()));
        fields.extend([
            ("var", s.var.map_or(Json::Null, float)),
            ("std", s.std.map_or(Json::Null, float)),
            ("min", opt(s.min)),
            ("max", opt(s.max)),
            ("argmin", idx(s.argmin)),
            ("argmax", idx(s.argmax)),
        ]);
    }
    fields
}

/// Nest C-order `items` into lists shaped like `shape` (a 0-d shape gives the item itself).
fn nest(items: &mut std::vec::IntoIter<Json>, shape: &[usize]) -> Json {
    match shape.split_first() {
        None => items.next().unwrap_or(Json::Null),
        Some((&n, rest)) => Json::Array((0..n).map(|_| nest(items, rest)).collect()),
    }
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let file = open_source(&args.file)?;
    let file = &*file;
    let bar = progress::bytes_bar(
        global,
        (file.len() * file.dtype().itemsize()) as u64,
        "stats",
    );
    let hook = |bytes: u64| bar.inc(bytes);
    // The JSON has no non-zero count: leave its compares out of the pass.
    let options = PassOptions::new().progress(&hook).without_count_nonzero();
    let doc: Vec<(&'static str, Json)> = match args.axis {
        None => stats_fields(&stats(file, args.ddof, &options)?),
        Some(axis) => {
            let ndim = file.ndim() as i64;
            let k = if axis < 0 { axis + ndim } else { axis };
            let k = usize::try_from(k)
                .ok()
                .filter(|&k| (k as i64) < ndim)
                .with_context(|| {
                    format!(
                        "{}: axis {axis} is out of bounds for array of dimension {ndim}",
                        args.file.display()
                    )
                })?;
            let result = stats_axis(file, k, args.ddof, &options)?;
            let per_item: Vec<Vec<(&'static str, Json)>> =
                result.stats.iter().map(stats_fields).collect();
            let keys: Vec<&'static str> = match per_item.first() {
                Some(f) => f.iter().map(|(k, _)| *k).collect(),
                None => {
                    let complex = file.dtype().scalar().is_complex();
                    let all = [
                        "count",
                        "nan_count",
                        "sum",
                        "mean",
                        "var",
                        "std",
                        "min",
                        "max",
                        "argmin",
                        "argmax",
                    ];
                    all[..if complex { 4 } else { 10 }].to_vec()
                }
            };
            keys.iter()
                .enumerate()
                .map(|(i, &key)| {
                    let column: Vec<Json> = per_item.iter().map(|f| f[i].1.clone()).collect();
                    (key, nest(&mut column.into_iter(), &result.shape))
                })
                .collect()
        }
    };
    bar.finish_and_clear();
    let mut out = std::io::stdout().lock();
    if args.json {
        let map: Map<String, Json> = doc.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&Json::Object(map))?)?;
    } else {
        writeln!(
            out,
            "{}  {}  shape {:?}",
            args.file.display(),
            file.dtype().name(),
            file.shape()
        )?;
        for (key, value) in doc {
            writeln!(out, "  {key:<10} {value}")?;
        }
    }
    Ok(())
}
