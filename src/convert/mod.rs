//! Conversions between `.npy` and other formats. Every conversion streams with bounded memory
//! and writes its output atomically (see [`AtomicFile`](crate::AtomicFile)).
//!
//! One module per format; this module names the formats and what a conversion reports.
//!
//! Progress: every conversion takes a byte-count hook, `&(dyn Fn(u64) + Sync)`, called as the
//! work advances (per window, row group, batch or inflated block); its calls add up to exactly
//! the job's size, so a progress bar over that size ends full. The hook is an `Option`
//! argument ([`npy::npy_to_npy`] and [`npy::npy_to_raw`]: the output's data bytes, in the
//! target dtype; [`raw::raw_to_npy`]: the data bytes after the offset) or a `*_with_progress`
//! twin of the plain function ([`csv::csv_to_npy_with_progress`] and
//! [`csv::npy_to_csv_with_progress`], [`npz::extract_member_with_progress`], and with the
//! `parquet` feature `parquet::parquet_to_npy_with_progress` and
//! `parquet::npy_to_parquet_with_progress`), whose docs say which bytes it counts.

pub mod csv;
pub mod npy;
pub mod npz;
mod output;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod raw;

pub use output::check_output;

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc::{self, SyncSender};

use crate::error::{Error, Result};

/// A file format mmnpy converts to or from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `.npy`
    Npy,
    /// Comma-separated text, `.csv`.
    Csv,
    /// Tab-separated text, `.tsv`.
    Tsv,
    /// Raw data bytes with no header, `.bin` / `.raw`.
    Raw,
    /// A numpy zip archive of `.npy` members, `.npz`.
    Npz,
    /// Apache Parquet, `.parquet`.
    Parquet,
    /// A Zarr array (a directory), `.zarr`: see [`crate::partitioned::zarr`].
    Zarr,
    /// A Dask npy-stack directory (`0.npy`, `1.npy`, ..., `info`): see
    /// [`crate::partitioned::npy_stack`].
    NpyStack,
}

impl Format {
    /// The format a path's extension names, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Format::parse(&ext).ok()
    }

    /// Parse a format name as given to `--format`.
    pub fn parse(name: &str) -> Result<Format> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "npy" => Format::Npy,
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "bin" | "raw" => Format::Raw,
            "npz" => Format::Npz,
            "parquet" | "pq" => Format::Parquet,
            "zarr" => Format::Zarr,
            "npy-stack" | "npy_stack" | "npystack" => Format::NpyStack,
            other => {
                return Err(Error::invalid(format!(
                    "unknown format {other:?} (expected npy, csv, tsv, raw, npz, parquet, zarr or npy-stack)"
                )));
            }
        })
    }

    /// The format's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Npy => "npy",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Raw => "raw",
            Format::Npz => "npz",
            Format::Parquet => "parquet",
            Format::Zarr => "zarr",
            Format::NpyStack => "npy-stack",
        }
    }
}

/// What a finished conversion did, for `--verbose` reports and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Rows (first-axis entries) written.
    pub rows: u64,
    /// Bytes read from the input.
    pub bytes_in: u64,
    /// Bytes written to the output.
    pub bytes_out: u64,
}

/// `(rows, columns)` of a 1-D (one column) or 2-D array, or an error naming the format that
/// needs a table.
pub(crate) fn table_shape(input: &crate::NpyFile, format: &str) -> Result<(usize, usize)> {
    match *input.shape() {
        [n] => Ok((n, 1)),
        [r, c] => Ok((r, c)),
        ref other => Err(Error::new(crate::ErrorKind::ShapeMismatch(format!(
            "only 1-D and 2-D arrays convert to {format}; this one has shape {other:?}"
        )))
        .with_path(input.path())),
    }
}

/// The most columns an output may have when the array holds no rows. With rows, the columns
/// are backed by data in the file; without, a header of a few bytes (`shape: (0, 4294967295)`)
/// could otherwise make a converter allocate a schema or a header line for billions of
/// columns and abort.
pub(crate) const MAX_COLUMNS_WITHOUT_ROWS: usize = 1 << 16;

/// Refuse a table of `columns` columns and no rows beyond [`MAX_COLUMNS_WITHOUT_ROWS`].
pub(crate) fn check_columns_without_rows(
    input: &crate::NpyFile,
    rows: usize,
    columns: usize,
) -> Result<()> {
    if rows == 0 && columns > MAX_COLUMNS_WITHOUT_ROWS {
        return Err(Error::invalid(format!(
            "an empty array of {columns} columns: refusing to write that many columns with no data \
             (at most {MAX_COLUMNS_WITHOUT_ROWS})"
        ))
        .with_path(input.path()));
    }
    Ok(())
}

/// Run `produce` on this thread while a writer thread appends the batches it sends to `file`,
/// in order, and pushes each batch to the disk (fdatasync) as it goes, so the fsync before the
/// commit waits only for the last batch instead of the whole output. The channel holds at most
/// two batches, so memory stays bounded. If the writer fails, `send` fails and the producer
/// should stop; the write error is returned.
pub(crate) fn write_behind<T: bytemuck::Pod + Send>(
    file: &File,
    produce: impl FnOnce(&SyncSender<Vec<Vec<T>>>) -> Result<()>,
) -> Result<()> {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Vec<Vec<T>>>(2);
        let writer = scope.spawn(move || -> io::Result<()> {
            let mut file = file;
            for batch in rx {
                for block in batch {
                    file.write_all(bytemuck::cast_slice(&block))?;
                }
                file.sync_data()?;
            }
            Ok(())
        });
        let produced = produce(&tx);
        drop(tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")));
        produced?;
        written.map_err(|e| Error::io("write", e))
    })
}
