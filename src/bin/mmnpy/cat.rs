//! `mmnpy cat IN... -o OUT [--axis K]`: numpy's `concatenate`, streamed.

use std::path::PathBuf;
use std::time::Instant;

use mmnpy::convert::check_output;
use mmnpy::ops::{CastMode, CatOptions, concatenate};
use mmnpy::{DType, NpyFile, Overwrite, Version};

use crate::Global;
use crate::convert::print_report;
use crate::progress::bytes_bar;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The arrays to join, in order.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The output file.
    #[arg(short, long)]
    output: PathBuf,
    /// The axis to join along (negative counts from the end).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    axis: i64,
    /// Output dtype (default: the first input's; inputs must then share its scalar type).
    #[arg(long)]
    dtype: Option<String>,
    /// safe or unsafe casting into --dtype.
    #[arg(long, default_value = "safe")]
    cast: String,
    /// Header format version: 1, 2 or 3.
    #[arg(long)]
    version: Option<String>,
    /// Replace OUT if it exists.
    #[arg(long)]
    force: bool,
    /// Print rows and throughput at the end (stderr).
    #[arg(long, short)]
    verbose: bool,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let overwrite = if args.force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    let inputs: Vec<&std::path::Path> = args.inputs.iter().map(PathBuf::as_path).collect();
    check_output(&args.output, &inputs, overwrite)?;
    let files = args
        .inputs
        .iter()
        .map(NpyFile::open)
        .collect::<mmnpy::Result<Vec<_>>>()?;
    let ndim = files[0].ndim() as i64;
    let axis = if args.axis < 0 {
        args.axis + ndim
    } else {
        args.axis
    };
    if axis < 0 || axis >= ndim.max(1) {
        anyhow::bail!(
            "axis {} is out of bounds for arrays of {ndim} dimensions",
            args.axis
        );
    }
    let opts = CatOptions {
        axis: axis as usize,
        dtype: args.dtype.as_deref().map(DType::parse).transpose()?,
        cast: CastMode::parse(&args.cast)?,
        version: args.version.as_deref().map(Version::parse).transpose()?,
    };
    let start = Instant::now();
    // The concatenation reports output bytes as it writes them (in --dtype, if given).
    let out_itemsize = opts.dtype.unwrap_or(files[0].dtype()).itemsize() as u64;
    let total = files.iter().map(|f| f.len() as u64 * out_itemsize).sum();
    let bar = bytes_bar(global, total, "cat");
    let inc = |n: u64| bar.inc(n);
    let report = concatenate(&files, &args.output, &opts, overwrite, Some(&inc))?;
    bar.finish_and_clear();
    if args.verbose {
        print_report(&report, start.elapsed().as_secs_f64());
    }
    Ok(())
}
