//! The `mmnpy` command: parses arguments, calls the library, prints human or `--json` output,
//! and maps errors to exit codes (0 success, 1 runtime error, 2 usage error). Nothing here
//! computes anything a library user could not get from `mmnpy` itself.

mod append;
mod cat;
mod convert;
mod create;
mod demo;
mod hist;
mod info;
mod progress;
mod slice;
mod stats;
mod take;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Options every command takes.
#[derive(clap::Args, Debug, Clone)]
struct Global {
    /// Worker threads (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Progress bar on stderr: auto (when stderr is a terminal and the work is long), always, never.
    #[arg(long, global = true, value_enum, default_value_t = progress::When::Auto)]
    progress: progress::When,
    /// Print nothing but errors and requested output.
    #[arg(long, short, global = true)]
    quiet: bool,
}

/// NumPy .npy arrays larger than memory: inspect, reduce, slice and convert, in parallel,
/// straight from the page cache.
#[derive(Parser, Debug)]
#[command(name = "mmnpy", version, about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a sample table and run the engine on it: stats, per-column stats, slice,
    /// histogram, gather and a determinism check, with GB/s for each.
    Demo(demo::Args),
    /// Show the header of one or more .npy files.
    Info(info::Args),
    /// Create a new .npy file filled with one value.
    Create(create::Args),
    /// Count, sum, mean, var, std, min, max, argmin, argmax in one pass (NaN skipped).
    Stats(stats::Args),
    /// Histogram with numpy's bin rules.
    Hist(hist::Args),
    /// Write a slice `a[EXPR]` (numpy basic indexing) to a new file.
    Slice(slice::Args),
    /// Gather entries along an axis by an index array (numpy.take) into a new file.
    Take(take::Args),
    /// Convert between .npy, raw binary, CSV/TSV, npz, Parquet, Zarr and Dask npy-stacks; change dtype, order,
    /// byte order or version.
    Convert(Box<convert::Args>),
    /// Concatenate arrays along an axis into a new file (numpy's concatenate).
    Cat(cat::Args),
    /// Grow a file in place by appending arrays along its growth axis (crash-safe).
    Append(append::Args),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(n) = cli.global.threads {
        if n == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| anyhow::anyhow!("cannot start {n} threads: {e}"))?;
    }
    let global = &cli.global;
    match cli.command {
        Command::Demo(args) => demo::run(args, global),
        Command::Info(args) => info::run(args, global),
        Command::Create(args) => create::run(args, global),
        Command::Stats(args) => stats::run(args, global),
        Command::Hist(args) => hist::run(args, global),
        Command::Slice(args) => slice::run(args, global),
        Command::Take(args) => take::run(args, global),
        Command::Convert(args) => convert::run(*args, global),
        Command::Cat(args) => cat::run(args, global),
        Command::Append(args) => append::run(args, global),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit 2, --help and --version exit 0
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed stdout (`mmnpy info x.npy | head`) is not worth a message.
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
