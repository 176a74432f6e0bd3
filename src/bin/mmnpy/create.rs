//! `mmnpy create OUT --dtype D --shape 4,5,6 [--fill V] [--order C|F] [--version 1|2|3]`.

use std::path::PathBuf;

use anyhow::Context;
use mmnpy::{DType, NpyFile, Order, Overwrite, Version};

use crate::Global;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The file to create.
    out: PathBuf,
    /// Element type: a descr (`<f8`, `>i4`, `|b1`) or a numpy name (`float32`).
    #[arg(long)]
    dtype: String,
    /// Comma-separated dimensions, e.g. `4,5,6`; empty (`--shape ''`) for a 0-d array.
    #[arg(long, allow_hyphen_values = true)]
    shape: String,
    /// Value of every element (default 0; the file stays sparse).
    #[arg(long, allow_hyphen_values = true)]
    fill: Option<String>,
    /// Memory order: C (row-major) or F (column-major).
    #[arg(long, default_value = "C")]
    order: String,
    /// Header format version (default: what numpy would choose).
    #[arg(long)]
    version: Option<String>,
    /// Replace OUT if it exists.
    #[arg(long)]
    force: bool,
}

/// Parse `4,5,6` (spaces allowed, a trailing comma as in Python's `(3,)`, empty for 0-d).
pub(crate) fn parse_shape(text: &str) -> anyhow::Result<Vec<usize>> {
    let text = text
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    // `3,,4` is a typo, not the shape (3, 4).
    let text = text.strip_suffix(',').unwrap_or(text);
    text.split(',')
        .map(str::trim)
        .map(|s| {
            s.parse::<usize>()
                .with_context(|| format!("invalid dimension {s:?} in --shape"))
        })
        .collect()
}

pub(crate) fn run(args: Args, _global: &Global) -> anyhow::Result<()> {
    let dtype = DType::parse(&args.dtype)?;
    let shape = parse_shape(&args.shape)?;
    let order = Order::parse(&args.order)?;
    let fill = args
        .fill
        .as_deref()
        .map(|v| dtype.encode_value(v))
        .transpose()?;
    if !args.force && args.out.exists() {
        anyhow::bail!("{}: {}", args.out.display(), mmnpy::ErrorKind::OutputExists);
    }
    let mut file = match args.version.as_deref() {
        Some(v) => {
            NpyFile::create_with_version(&args.out, dtype, &shape, order, Version::parse(v)?)?
        }
        None => NpyFile::create(&args.out, dtype, &shape, order)?,
    };
    // A new file is already zero: writing zeros would only un-sparse it.
    if let Some(value) = fill.filter(|v| v.iter().any(|&b| b != 0)) {
        file.fill_bytes(&value)?;
    }
    file.persist_with(if args.force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    })?;
    Ok(())
}
