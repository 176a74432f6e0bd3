//! `mmnpy hist FILE --bins N [--range LO,HI] [--json]`: `np.histogram` of the whole array.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use mmnpy::Scalar;
use mmnpy::engine::{PassOptions, Value, histogram};
use mmnpy::partitioned::open_source;
use serde_json::json;

use crate::stats::value_json;
use crate::{Global, progress};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The .npy file, or a partitioned array (an npy-stack directory, an uncompressed .zarr).
    file: PathBuf,
    /// Number of equal-width bins.
    #[arg(long)]
    bins: usize,
    /// Lower and upper edge, e.g. `--range -1,1` (default: the data's min and max).
    #[arg(long, allow_hyphen_values = true, value_name = "LO,HI")]
    range: Option<String>,
    /// Print `{"edges": [...], "counts": [...]}`.
    #[arg(long)]
    json: bool,
}

fn parse_range(text: &str) -> anyhow::Result<(f64, f64)> {
    let (lo, hi) = text
        .split_once(',')
        .with_context(|| format!("--range {text:?}: expected LO,HI"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<f64>()
            .with_context(|| format!("--range: cannot read {:?} as a number", s.trim()))
    };
    Ok((parse(lo)?, parse(hi)?))
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let range = args.range.as_deref().map(parse_range).transpose()?;
    let file = open_source(&args.file)?;
    let file = &*file;
    let passes = if range.is_some() { 1 } else { 2 };
    let nbytes = (file.len() * file.dtype().itemsize()) as u64;
    let bar = progress::bytes_bar(global, passes * nbytes, "hist");
    let hook = |bytes: u64| bar.inc(bytes);
    let h = histogram(file, args.bins, range, &PassOptions::new().progress(&hook))?;
    bar.finish_and_clear();
    // Edges are values of numpy's edge dtype: float32 data prints float32 digits.
    let edge = |x: f64| match file.dtype().scalar() {
        Scalar::F32 => Value::F32(x as f32),
        _ => Value::Float(x),
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let edges: Vec<_> = h.edges.iter().map(|&x| value_json(edge(x))).collect();
        let doc = json!({ "edges": edges, "counts": h.counts });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        let last = h.counts.len().saturating_sub(1);
        for (i, count) in h.counts.iter().enumerate() {
            let close = if i == last { ']' } else { ')' };
            writeln!(
                out,
                "[{}, {}{close}  {count}",
                value_json(edge(h.edges[i])),
                value_json(edge(h.edges[i + 1]))
            )?;
        }
    }
    Ok(())
}
