//! `mmnpy convert IN -o OUT [options]`: dispatch on (input format, output format) to the
//! library's conversions. Formats come from the extensions, or `--from` / `--format`.
//!
//! Every output is built as `.OUT.XXXXXX.mmnpy-tmp` next to OUT and renamed into place when
//! complete, so OUT is either absent or complete. Only a kill (or power loss) leaves such a
//! temporary behind; it is never reused, and deleting `.*.mmnpy-tmp` files that no running
//! mmnpy owns is always safe (a later run or a cleanup job may do it).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use mmnpy::convert::npy::{NpyOptions, npy_to_npy, npy_to_raw};
use mmnpy::convert::raw::{RawOptions, raw_to_npy};
use mmnpy::convert::{Format, Report, check_output};
use mmnpy::ops::CastMode;
use mmnpy::partitioned::Layout;
use mmnpy::{ByteOrder, DType, NpyFile, Order, Overwrite, Version};

use crate::Global;
use crate::progress::bytes_bar;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The input file.
    input: PathBuf,
    /// The output file.
    #[arg(short, long)]
    output: PathBuf,
    /// Output format (default: from OUT's extension): npy, csv, tsv, raw, npz, parquet, zarr,
    /// npy-stack.
    #[arg(long)]
    format: Option<String>,
    /// Input format (default: from IN's extension; a directory with an `info` file is an
    /// npy-stack, one with `zarr.json` or `.zarray` a Zarr array).
    #[arg(long)]
    from: Option<String>,
    /// Target dtype (npy output; default the input's), or the element type of raw input,
    /// or the column type of CSV/Parquet input (default float64). A descr (`<f4`, `>i2`) or
    /// a numpy name (`float32`).
    #[arg(long)]
    dtype: Option<String>,
    /// Memory order of the output: C or F.
    #[arg(long)]
    order: Option<String>,
    /// Byte order of the output: little, big or native.
    #[arg(long)]
    byte_order: Option<String>,
    /// Header format version of an npy output: 1, 2 or 3.
    #[arg(long)]
    version: Option<String>,
    /// safe: a value that does not fit the target dtype is an error naming its index;
    /// unsafe: numpy's astype behaviour (wraparound, truncation).
    #[arg(long, default_value = "safe")]
    cast: String,
    /// Field delimiter for CSV/TSV (default: `,` for .csv, tab for .tsv).
    #[arg(long)]
    delimiter: Option<String>,
    /// CSV input: the first row is a header; CSV output: write a header line.
    #[arg(long, conflicts_with = "no_header")]
    header: bool,
    /// CSV input: the first row is data (default: detected).
    #[arg(long)]
    no_header: bool,
    /// The npz member to extract.
    #[arg(long)]
    member: Option<String>,
    /// Parquet input: the columns to read, comma-separated (default: all numeric).
    #[arg(long)]
    columns: Option<String>,
    /// Parquet output: column names, comma-separated (default c0, c1, ...).
    #[arg(long)]
    names: Option<String>,
    /// Raw input: the shape, comma-separated, one dimension may be -1 (inferred).
    #[arg(long, allow_hyphen_values = true)]
    shape: Option<String>,
    /// Raw input: bytes to skip at the start.
    #[arg(long, default_value_t = 0)]
    offset: u64,
    /// npy-stack output: rows per shard file (`0.npy`, `1.npy`, ...).
    #[arg(long)]
    chunk_rows: Option<usize>,
    /// Zarr output: the chunk shape, comma-separated (default: whole rows, ~96 MiB a chunk).
    #[arg(long)]
    chunks: Option<String>,
    /// Zarr output: none (raw chunks, readable in place by stats/hist) or zstd.
    #[arg(long)]
    compress: Option<String>,
    /// Replace OUT if it exists.
    #[arg(long)]
    force: bool,
    /// Print rows and throughput at the end (stderr).
    #[arg(long, short)]
    verbose: bool,
}

fn format_of(forced: Option<&str>, path: &Path, role: &str) -> anyhow::Result<Format> {
    let detected = || match mmnpy::partitioned::detect(path) {
        Some(Layout::NpyStack) if role == "input" => Some(Format::NpyStack),
        Some(Layout::Zarr) if role == "input" => Some(Format::Zarr),
        _ => Format::from_path(path),
    };
    match forced {
        Some(name) => Ok(Format::parse(name)?),
        None => detected().with_context(|| {
            format!(
                "{}: cannot tell the {role} format from the extension (use --{})",
                path.display(),
                if role == "input" { "from" } else { "format" }
            )
        }),
    }
}

/// Options that only make sense for some formats: refuse them elsewhere rather than
/// silently ignore them.
fn check_options(args: &Args, from: Format, to: Format) -> anyhow::Result<()> {
    let text = |f: Format| matches!(f, Format::Csv | Format::Tsv);
    let misplaced = [
        ("--shape", args.shape.is_some(), from == Format::Raw),
        ("--offset", args.offset != 0, from == Format::Raw),
        ("--member", args.member.is_some(), from == Format::Npz),
        ("--columns", args.columns.is_some(), from == Format::Parquet),
        ("--names", args.names.is_some(), to == Format::Parquet),
        (
            "--delimiter",
            args.delimiter.is_some(),
            text(from) || text(to),
        ),
        ("--header", args.header, text(from) || text(to)),
        ("--no-header", args.no_header, text(from)),
        ("--version", args.version.is_some(), to == Format::Npy),
        (
            "--chunk-rows",
            args.chunk_rows.is_some(),
            to == Format::NpyStack,
        ),
        ("--chunks", args.chunks.is_some(), to == Format::Zarr),
        ("--compress", args.compress.is_some(), to == Format::Zarr),
    ];
    for (flag, given, applies) in misplaced {
        if given && !applies {
            bail!(
                "{flag} does not apply to a {} -> {} conversion",
                from.name(),
                to.name()
            );
        }
    }
    Ok(())
}

fn parse_byte_order(s: &str) -> anyhow::Result<ByteOrder> {
    Ok(match s {
        "little" | "<" => ByteOrder::Little,
        "big" | ">" => ByteOrder::Big,
        "native" | "=" => ByteOrder::NATIVE,
        _ => bail!("unknown byte order {s:?} (expected little, big or native)"),
    })
}

fn npy_options(args: &Args) -> anyhow::Result<NpyOptions> {
    Ok(NpyOptions {
        dtype: args.dtype.as_deref().map(DType::parse).transpose()?,
        order: args.order.as_deref().map(Order::parse).transpose()?,
        byte_order: args
            .byte_order
            .as_deref()
            .map(parse_byte_order)
            .transpose()?,
        version: args.version.as_deref().map(Version::parse).transpose()?,
        cast: CastMode::parse(&args.cast)?,
    })
}

fn delimiter(args: &Args, format: Format) -> anyhow::Result<u8> {
    match args.delimiter.as_deref() {
        None => Ok(if format == Format::Tsv { b'\t' } else { b',' }),
        Some("\\t" | "tab") => Ok(b'\t'),
        Some(d) if d.len() == 1 => Ok(d.as_bytes()[0]),
        Some(d) => bail!("--delimiter must be one ASCII character, not {d:?}"),
    }
}

/// A comma-separated list (Parquet `--columns` and `--names`).
#[cfg(feature = "parquet")]
fn list(text: Option<&str>) -> Option<Vec<String>> {
    text.map(|t| t.split(',').map(|s| s.trim().to_string()).collect())
}

/// What a format-specific conversion needs to know.
struct Job<'a> {
    args: &'a Args,
    global: &'a Global,
    from: Format,
    to: Format,
    overwrite: Overwrite,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let from = format_of(args.from.as_deref(), &args.input, "input")?;
    let to = format_of(args.format.as_deref(), &args.output, "output")?;
    check_options(&args, from, to)?;
    let overwrite = if args.force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    check_output(&args.output, &[&args.input], overwrite)?;
    let start = Instant::now();
    let job = Job {
        args: &args,
        global,
        from,
        to,
        overwrite,
    };
    let report = match (from, to) {
        (Format::Npy, Format::Npy | Format::Raw) => {
            let opts = npy_options(&args)?;
            let input = NpyFile::open(&args.input)?;
            // The cast reports output bytes as it writes them.
            let (dtype, _) = opts.target(&input);
            let total = (input.len() * dtype.itemsize()) as u64;
            let bar = bytes_bar(global, total, "convert");
            let inc = |n: u64| bar.inc(n);
            let report = if to == Format::Npy {
                npy_to_npy(&input, &args.output, &opts, overwrite, Some(&inc))?
            } else {
                npy_to_raw(&input, &args.output, &opts, overwrite, Some(&inc))?
            };
            bar.finish_and_clear();
            report
        }
        (Format::Raw, Format::Npy) => {
            let dtype = args
                .dtype
                .as_deref()
                .context("raw input needs --dtype (the element type of the bytes)")?;
            let shape = args
                .shape
                .as_deref()
                .map(parse_signed_shape)
                .transpose()?
                .unwrap_or_else(|| vec![-1]);
            let mut dtype = DType::parse(dtype)?;
            if let Some(order) = args.byte_order.as_deref() {
                dtype = dtype.with_byte_order(parse_byte_order(order)?);
            }
            let opts = RawOptions {
                dtype,
                shape,
                offset: args.offset,
                order: args
                    .order
                    .as_deref()
                    .map(Order::parse)
                    .transpose()?
                    .unwrap_or_default(),
                version: args.version.as_deref().map(Version::parse).transpose()?,
            };
            // The bytes after --offset are copied and reported.
            let len = std::fs::metadata(&args.input).map(|m| m.len()).unwrap_or(0);
            let bar = bytes_bar(global, len.saturating_sub(args.offset), "convert");
            let inc = |n: u64| bar.inc(n);
            let report = raw_to_npy(&args.input, &args.output, &opts, overwrite, Some(&inc))?;
            bar.finish_and_clear();
            report
        }
        (Format::Csv | Format::Tsv, Format::Npy) | (Format::Npy, Format::Csv | Format::Tsv) => {
            csv(&job)?
        }
        (Format::Npz, Format::Npy) => npz(&job)?,
        (Format::Parquet, Format::Npy) | (Format::Npy, Format::Parquet) => parquet(&job)?,
        (
            Format::Npy | Format::NpyStack | Format::Zarr,
            Format::Npy | Format::NpyStack | Format::Zarr,
        ) => partitioned(&job, global)?,
        _ => bail!(
            "converting {} to {} is not supported (convert through .npy)",
            from.name(),
            to.name()
        ),
    };
    if args.verbose {
        print_report(&report, start.elapsed().as_secs_f64());
    }
    Ok(())
}

/// `--verbose`: rows and throughput, on stderr.
pub(crate) fn print_report(report: &Report, seconds: f64) {
    let mb = report.bytes_in.max(report.bytes_out) as f64 / 1e6;
    eprintln!(
        "{} rows, {:.1} MB in, {:.1} MB out in {:.2} s ({:.0} MB/s)",
        report.rows,
        report.bytes_in as f64 / 1e6,
        report.bytes_out as f64 / 1e6,
        seconds,
        mb / seconds.max(1e-9)
    );
}

/// Parse `-1,8` (one -1 allowed; checked by the library).
fn parse_signed_shape(text: &str) -> anyhow::Result<Vec<i64>> {
    let text = text.trim().trim_start_matches('(').trim_end_matches(')');
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .with_context(|| format!("invalid dimension {s:?} in --shape"))
        })
        .collect()
}

/// CSV/TSV in both directions.
fn csv(job: &Job<'_>) -> anyhow::Result<Report> {
    use mmnpy::convert::csv::{
        CsvReadOptions, CsvWriteOptions, csv_to_npy_with_progress, npy_to_csv_with_progress,
    };
    let args = job.args;
    let text_format = if job.from == Format::Npy {
        job.to
    } else {
        job.from
    };
    let delimiter = delimiter(args, text_format)?;
    if job.from == Format::Npy {
        let input = NpyFile::open(&args.input)?;
        let opts = CsvWriteOptions {
            delimiter,
            header: args.header,
        };
        let bar = bytes_bar(job.global, input.header().nbytes(), "convert");
        let inc = |n: u64| bar.inc(n);
        let report = npy_to_csv_with_progress(&input, &args.output, &opts, job.overwrite, &inc);
        bar.finish_and_clear();
        return Ok(report?);
    }
    let header = match (args.header, args.no_header) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let dtype = match args.dtype.as_deref() {
        Some(d) => DType::parse(d)?,
        None => DType::native(mmnpy::Scalar::F64),
    };
    let opts = CsvReadOptions {
        delimiter,
        header,
        dtype,
    };
    let len = std::fs::metadata(&args.input).map(|m| m.len()).unwrap_or(0);
    let bar = bytes_bar(job.global, len, "convert");
    let inc = |n: u64| bar.inc(n);
    let report = csv_to_npy_with_progress(&args.input, &args.output, &opts, job.overwrite, &inc);
    bar.finish_and_clear();
    Ok(report?)
}

/// npz member extraction.
fn npz(job: &Job<'_>) -> anyhow::Result<Report> {
    let member = job
        .args
        .member
        .as_deref()
        .context("npz input needs --member NAME (`mmnpy info X.npz` lists them)")?;
    use mmnpy::convert::npz::{NpzArchive, extract_member_with_progress};
    let size = NpzArchive::open(&job.args.input)?.member(member)?.size();
    let bar = bytes_bar(job.global, size, "extract");
    let inc = |n: u64| bar.inc(n);
    let report = extract_member_with_progress(
        &job.args.input,
        member,
        &job.args.output,
        job.overwrite,
        &inc,
    );
    bar.finish_and_clear();
    Ok(report?)
}

/// Parquet in both directions.
#[cfg(feature = "parquet")]
fn parquet(job: &Job<'_>) -> anyhow::Result<Report> {
    use mmnpy::convert::parquet::{npy_to_parquet_with_progress, parquet_to_npy_with_progress};
    let args = job.args;
    if job.from == Format::Npy {
        let names = list(args.names.as_deref());
        let input = NpyFile::open(&args.input)?;
        let bar = bytes_bar(job.global, input.header().nbytes(), "convert");
        let inc = |n: u64| bar.inc(n);
        let report = npy_to_parquet_with_progress(
            &input,
            &args.output,
            names.as_deref(),
            job.overwrite,
            &inc,
        );
        bar.finish_and_clear();
        return Ok(report?);
    }
    let columns = list(args.columns.as_deref());
    let dtype = match args.dtype.as_deref() {
        Some(d) => DType::parse(d)?,
        None => DType::native(mmnpy::Scalar::F64),
    };
    let len = std::fs::metadata(&args.input).map(|m| m.len()).unwrap_or(0);
    let bar = bytes_bar(job.global, len, "convert");
    let inc = |n: u64| bar.inc(n);
    let report = parquet_to_npy_with_progress(
        &args.input,
        &args.output,
        columns.as_deref(),
        dtype,
        job.overwrite,
        &inc,
    );
    bar.finish_and_clear();
    Ok(report?)
}

/// Parquet support was left out of this build (`--no-default-features`).
#[cfg(not(feature = "parquet"))]
fn parquet(_job: &Job<'_>) -> anyhow::Result<Report> {
    bail!("Parquet conversion is not available in this build (built without the `parquet` feature)")
}

/// Between .npy, npy-stack and Zarr, in any direction (a partitioned input other than a
/// compressed Zarr array is read in place, as one logical array).
fn partitioned(job: &Job<'_>, global: &Global) -> anyhow::Result<Report> {
    use mmnpy::engine::Source;
    use mmnpy::partitioned::{Partitioned, npy_stack};
    let args = job.args;
    let dtype_options = [
        ("--dtype", args.dtype.is_some()),
        ("--order", args.order.is_some()),
        ("--byte-order", args.byte_order.is_some()),
        ("--version", args.version.is_some()),
    ];
    if (job.from != Format::Npy || job.to != Format::Npy)
        && let Some((flag, _)) = dtype_options.iter().find(|(_, given)| *given)
    {
        bail!(
            "{flag} does not apply to a {} -> {} conversion (convert through .npy)",
            job.from.name(),
            job.to.name()
        );
    }
    #[cfg(feature = "zarr")]
    if job.from == Format::Zarr && job.to == Format::Npy {
        let z = mmnpy::partitioned::zarr::describe(&args.input)?;
        let total = z.shape.iter().product::<u64>() * z.dtype.itemsize() as u64;
        let bar = bytes_bar(global, total, "convert");
        let inc = |n: u64| bar.inc(n);
        let report =
            mmnpy::partitioned::zarr::to_npy(&args.input, &args.output, job.overwrite, Some(&inc))?;
        bar.finish_and_clear();
        return Ok(report);
    }
    let input: Box<dyn Source> = match job.from {
        Format::Npy => Box::new(NpyFile::open(&args.input)?),
        _ => Box::new(Partitioned::open(&args.input)?),
    };
    let input = &*input;
    let bar = bytes_bar(
        global,
        (input.len() * input.dtype().itemsize()) as u64,
        "convert",
    );
    let inc = |n: u64| bar.inc(n);
    let report = match job.to {
        Format::NpyStack => {
            let rows = args
                .chunk_rows
                .context("npy-stack output needs --chunk-rows N (rows per shard file)")?;
            npy_stack::write(input, &args.output, rows, job.overwrite, Some(&inc))?
        }
        Format::Zarr => zarr(job, input, &inc)?,
        _ => mmnpy::partitioned::to_npy(input, &args.output, job.overwrite, Some(&inc))?,
    };
    bar.finish_and_clear();
    Ok(report)
}

#[cfg(feature = "zarr")]
fn zarr(
    job: &Job<'_>,
    input: &dyn mmnpy::engine::Source,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Report> {
    use mmnpy::partitioned::zarr::{Compress, ZarrOptions, write};
    let args = job.args;
    let chunks = args
        .chunks
        .as_deref()
        .map(|text| {
            text.split(',')
                .map(|s| {
                    s.trim()
                        .parse::<u64>()
                        .with_context(|| format!("invalid chunk size {s:?} in --chunks"))
                })
                .collect::<anyhow::Result<Vec<u64>>>()
        })
        .transpose()?;
    let options = ZarrOptions {
        chunks,
        compress: args
            .compress
            .as_deref()
            .map(Compress::parse)
            .transpose()?
            .unwrap_or_default(),
    };
    Ok(write(
        input,
        &args.output,
        &options,
        job.overwrite,
        Some(progress),
    )?)
}

/// Zarr support was left out of this build.
#[cfg(not(feature = "zarr"))]
fn zarr(
    _job: &Job<'_>,
    _input: &dyn mmnpy::engine::Source,
    _progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Report> {
    bail!("Zarr conversion is not available in this build (built without the `zarr` feature)")
}
