//! `mmnpy append TARGET SRC...`: grow TARGET in place along its growth axis, crash-safely.

use std::path::PathBuf;
use std::time::Instant;

use mmnpy::NpyFile;

use crate::Global;
use crate::convert::print_report;
use crate::progress::bytes_bar;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The file to grow (axis 0, or the last axis of a Fortran-order file).
    target: PathBuf,
    /// The arrays to append, in order.
    #[arg(required = true)]
    sources: Vec<PathBuf>,
    /// Print rows and throughput at the end (stderr).
    #[arg(long, short)]
    verbose: bool,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let sources = args
        .sources
        .iter()
        .map(NpyFile::open)
        .collect::<mmnpy::Result<Vec<_>>>()?;
    let start = Instant::now();
    let total = sources.iter().map(|f| f.header().nbytes()).sum();
    let bar = bytes_bar(global, total, "append");
    let inc = |n: u64| bar.inc(n);
    let report = mmnpy::ops::append(&args.target, &sources, Some(&inc))?;
    bar.finish_and_clear();
    if args.verbose {
        print_report(&report, start.elapsed().as_secs_f64());
    }
    Ok(())
}
