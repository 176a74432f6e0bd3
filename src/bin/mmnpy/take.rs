//! `mmnpy take FILE --indices IDX.npy [--axis K] -o OUT [--force]`: `numpy.take` into a new file.

use std::path::PathBuf;

use anyhow::Context;
use mmnpy::NpyFile;
use mmnpy::ops::{Indices, OutputOptions, take_to_file};

use crate::slice::{overwrite, report_written};
use crate::{Global, progress};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The input .npy file.
    file: PathBuf,
    /// An .npy file of integers (any integer dtype; negative values count from the end).
    #[arg(long)]
    indices: PathBuf,
    /// The axis to gather along (negative counts from the end, like numpy).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    axis: i64,
    /// The output .npy file.
    #[arg(short, long)]
    output: PathBuf,
    /// Replace OUT if it exists.
    #[arg(long)]
    force: bool,
    /// Copy rows straight from the mapping of FILE: a little less CPU time on a random gather from a
    /// big file, but the pages it touches (up to the whole file) stay resident until it ends.
    #[arg(long)]
    unbounded_memory: bool,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let input = NpyFile::open(&args.file)?;
    let indices = Indices::read(&args.indices)?;
    let ndim = input.ndim() as i64;
    let axis = if args.axis < 0 {
        args.axis + ndim
    } else {
        args.axis
    };
    let axis = usize::try_from(axis)
        .ok()
        .filter(|&k| k < input.ndim())
        .with_context(|| {
            format!(
                "{}: axis {} is out of bounds for an array of dimension {ndim}",
                args.file.display(),
                args.axis
            )
        })?;
    let row_elements: usize = input
        .shape()
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != axis)
        .map(|(_, &d)| d)
        .product();
    let total = (indices.len() * row_elements * input.dtype().itemsize()) as u64;
    let bar = progress::bytes_bar(global, total, "take");
    let report = |bytes: u64| bar.inc(bytes);
    let options = OutputOptions::new()
        .overwrite(overwrite(args.force))
        .bounded_memory(!args.unbounded_memory)
        .progress(&report);
    let out = take_to_file(&input, &indices, axis, &args.output, &options)?;
    bar.finish_and_clear();
    report_written(global, &out);
    Ok(())
}
