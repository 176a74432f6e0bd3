//! Dask npy-stacks: a directory of `0.npy`, `1.npy`, ... (the array cut along one axis) and
//! an `info` file, the pickle `dask.array.to_npy_stack` writes and `from_npy_stack` reads
//! (with `mmap_mode='r'`). mmnpy writes exactly that pickle and reads it back with the
//! restricted reader in [`super::pickle`], never with a general unpickler.

use std::path::Path;

use rayon::prelude::*;

use crate::array::NpyFile;
use crate::convert::Report;
use crate::engine::Source;
use crate::error::{Error, Result, ResultExt};
use crate::header::Order;
use crate::ops::Progress;
use crate::partitioned::pickle::{self, StackInfo};
use crate::partitioned::{AtomicDir, Layout, Partitioned, Shard};
use crate::write::Overwrite;

pub use crate::partitioned::pickle::read_info;

/// Bytes copied per step when filling a shard (keeps resident memory bounded).
const COPY_BYTES: usize = 8 << 20;

/// Read and parse the `info` file of the npy-stack `dir`.
pub fn read_info_file(dir: &Path) -> Result<StackInfo> {
    let path = dir.join("info");
    let meta = std::fs::metadata(&path)
        .map_err(|e| Error::io("stat", e))
        .at(&path)?;
    if meta.len() > pickle::MAX_INFO_BYTES as u64 {
        return Err(Error::invalid(format!(
            "npy-stack info: {} bytes is larger than the limit",
            meta.len()
        )))
        .at(&path);
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::io("read", e))
        .at(&path)?;
    read_info(&bytes).at(&path)
}

/// Open the npy-stack `dir` as one logical array. The stack must be split along axis 0 and
/// every shard must be a C-order `.npy` of the info's dtype and chunk shape.
pub fn open(dir: &Path) -> Result<Partitioned> {
    let info = read_info_file(dir)?;
    if info.axis != 0 {
        return Err(Error::invalid(format!(
            "npy-stack split along axis {}: only stacks along axis 0 are supported",
            info.axis
        )))
        .at(dir);
    }
    let shape = info
        .shape()
        .into_iter()
        .map(|n| usize::try_from(n).map_err(|_| Error::invalid("shape overflows").with_path(dir)))
        .collect::<Result<Vec<usize>>>()?;
    let mut shards = Vec::with_capacity(info.chunks[0].len());
    for (i, &rows) in info.chunks[0].iter().enumerate() {
        let path = dir.join(format!("{i}.npy"));
        let file = NpyFile::open(&path)?;
        let mut expected = shape.clone();
        expected[0] = rows as usize;
        if file.shape() != expected.as_slice() {
            return Err(Error::invalid(format!(
                "shard has shape {:?}, the info file says {expected:?}",
                file.shape()
            )))
            .at(&path);
        }
        if file.dtype() != info.dtype {
            return Err(Error::invalid(format!(
                "shard has dtype {}, the info file says {}",
                file.dtype().descr(),
                info.dtype.descr()
            )))
            .at(&path);
        }
        if file.order() != Order::C && !crate::ops::stream::orders_coincide(file.shape()) {
            return Err(Error::invalid(
                "shard is in Fortran order; only C-order shards are supported",
            ))
            .at(&path);
        }
        shards.push(Shard::Mapped(file));
    }
    Partitioned::new(dir, Layout::NpyStack, info.dtype, shape, shards)
}

/// Write `input` (C order, at least 1-D) as an npy-stack at `dir`: shards of `chunk_rows`
/// rows (the last may be shorter), written in parallel, and the `info` pickle. The directory
/// appears complete or not at all.
pub fn write(
    input: &dyn Source,
    dir: &Path,
    chunk_rows: usize,
    overwrite: Overwrite,
    progress: Progress<'_>,
) -> Result<Report> {
    let shape = input.shape().to_vec();
    if shape.is_empty() {
        return Err(
            Error::invalid("a 0-d array cannot be split into an npy-stack").with_path(input.path()),
        );
    }
    if input.order() != Order::C && !crate::ops::stream::orders_coincide(&shape) {
        return Err(
            Error::invalid("npy-stack output needs C order: convert with --order C first")
                .with_path(input.path()),
        );
    }
    if chunk_rows == 0 {
        return Err(Error::invalid("--chunk-rows must be positive").with_path(dir));
    }
    let rows = shape[0];
    let row_bytes = shape[1..].iter().product::<usize>() * input.dtype().itemsize();
    let chunks: Vec<usize> = if rows == 0 {
        vec![0]
    } else {
        (0..rows.div_ceil(chunk_rows))
            .map(|i| chunk_rows.min(rows - i * chunk_rows))
            .collect()
    };
    let mut out = AtomicDir::new(dir)?;
    let tmp = out.path().to_path_buf();
    chunks
        .par_iter()
        .enumerate()
        .try_for_each(|(i, &n)| -> Result<()> {
            let mut shard_shape = shape.clone();
            shard_shape[0] = n;
            let path = tmp.join(format!("{i}.npy"));
            let mut file = NpyFile::create(&path, input.dtype(), &shard_shape, Order::C)?;
            let first = i * chunk_rows * row_bytes;
            copy_into(input, first, file.bytes_mut()?, progress);
            file.persist()
        })?;
    let info = StackInfo {
        chunks: std::iter::once(chunks.iter().map(|&n| n as u64).collect())
            .chain(shape[1..].iter().map(|&d| vec![d as u64]))
            .collect(),
        dtype: input.dtype(),
        axis: 0,
    };
    std::fs::write(tmp.join("info"), pickle::write_info(&info))
        .map_err(|e| Error::io("write", e))
        .at(dir)?;
    out.commit(overwrite)?;
    let bytes = (rows * row_bytes) as u64;
    Ok(Report {
        rows: rows as u64,
        bytes_in: bytes,
        bytes_out: bytes,
    })
}

/// Copy the logical bytes of `input` starting at `first` into `out`, piece by piece, releasing
/// the input's pages behind.
pub(crate) fn copy_into(input: &dyn Source, first: usize, out: &mut [u8], progress: Progress<'_>) {
    for (k, piece) in out.chunks_mut(COPY_BYTES).enumerate() {
        let start = first + k * COPY_BYTES;
        let range = start..start + piece.len();
        piece.copy_from_slice(&input.data(range.clone()));
        input.release(range);
        if let Some(p) = progress {
            p(piece.len() as u64);
        }
    }
}
