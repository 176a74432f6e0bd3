//! `mmnpy slice FILE EXPR -o OUT [--force]`: write `a[EXPR]` (numpy basic indexing) to a new file.

use std::path::PathBuf;

use mmnpy::ops::{OutputOptions, SliceExpr, slice_to_file};
use mmnpy::{NpyFile, Overwrite};

use crate::{Global, progress};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The input .npy file.
    file: PathBuf,
    /// A numpy basic-indexing expression, e.g. "10:900:7, ::-2", "..., 0" or "-1".
    #[arg(allow_hyphen_values = true)]
    expr: String,
    /// The output .npy file (C order, or Fortran if the input is Fortran-ordered).
    #[arg(short, long)]
    output: PathBuf,
    /// Replace OUT if it exists.
    #[arg(long)]
    force: bool,
}

/// Where an output goes: refuse to replace an existing file unless forced.
pub(crate) fn overwrite(force: bool) -> Overwrite {
    if force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    }
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let input = NpyFile::open(&args.file)?;
    let selection = SliceExpr::parse(&args.expr)?
        .resolve(input.shape())
        .map_err(|e| e.with_path(&args.file))?;
    let total = (selection.len() * input.dtype().itemsize()) as u64;
    let bar = progress::bytes_bar(global, total, "slice");
    let report = |bytes: u64| bar.inc(bytes);
    let options = OutputOptions::new()
        .overwrite(overwrite(args.force))
        .progress(&report);
    let out = slice_to_file(&input, &selection, &args.output, &options)?;
    bar.finish_and_clear();
    report_written(global, &out);
    Ok(())
}

/// Unless `--quiet`: one stderr line saying what was written (stdout stays for requested data).
pub(crate) fn report_written(global: &Global, out: &mmnpy::NpyFile) {
    if !global.quiet {
        eprintln!(
            "wrote {}: shape {:?}, {} ({} bytes)",
            out.path().display(),
            out.shape(),
            out.header().descr(),
            out.header().nbytes()
        );
    }
}
