//! Raw binary <-> `.npy`. Import wraps headerless element bytes (after an optional offset)
//! in a header of the given dtype and shape, one `-1` dimension inferred from the file size;
//! export (see [`npy_to_raw`](crate::convert::npy::npy_to_raw)) writes the data bytes only.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::convert::Report;
use crate::dtype::DType;
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::header::{Header, Order, Version};
use crate::ops::Progress;
use crate::write::{AtomicFile, Overwrite};

/// How to read a raw file.
#[derive(Clone, Debug)]
pub struct RawOptions {
    /// Element type of the raw bytes (its byte order is the bytes' byte order).
    pub dtype: DType,
    /// Shape; at most one entry may be `-1`, inferred from the file size.
    pub shape: Vec<i64>,
    /// Bytes to skip at the start of the file.
    pub offset: u64,
    /// Memory order of the raw elements.
    pub order: Order,
    /// Header version (default: what numpy would choose).
    pub version: Option<Version>,
}

/// Resolve a shape with at most one `-1` against `data_len` bytes of `itemsize`-byte
/// elements: the sizes must account for every byte exactly.
pub fn infer_shape(shape: &[i64], itemsize: usize, data_len: u64) -> Result<Vec<usize>> {
    let unknown: Vec<usize> = (0..shape.len()).filter(|&k| shape[k] == -1).collect();
    if unknown.len() > 1 {
        return Err(Error::invalid("--shape may have only one -1 dimension"));
    }
    if let Some(bad) = shape.iter().find(|&&n| n < -1) {
        return Err(Error::invalid(format!(
            "invalid dimension {bad} in the shape"
        )));
    }
    let known = shape
        .iter()
        .filter(|&&n| n >= 0)
        .try_fold(itemsize as u64, |a, &n| a.checked_mul(n as u64))
        .ok_or(ErrorKind::Overflow("shape"))?;
    let mut out: Vec<usize> = shape.iter().map(|&n| n.max(0) as usize).collect();
    if let Some(&k) = unknown.first() {
        if known == 0 || !data_len.is_multiple_of(known) {
            return Err(Error::invalid(format!(
                "the data is {data_len} bytes, not a whole number of {known}-byte slices for the -1 dimension"
            )));
        }
        out[k] = usize::try_from(data_len / known).map_err(|_| ErrorKind::Overflow("shape"))?;
    } else if known != data_len {
        return Err(Error::invalid(format!(
            "the data is {data_len} bytes but the shape {shape:?} needs {known}"
        )));
    }
    Ok(out)
}

/// Wrap the raw file `input` as an `.npy` file at `output` (written atomically).
pub fn raw_to_npy(
    input: &Path,
    output: &Path,
    opts: &RawOptions,
    overwrite: Overwrite,
    progress: Progress<'_>,
) -> Result<Report> {
    let mut file = crate::array::open_regular_file(input, false).at(input)?;
    crate::map::lock(&file, false).at(input)?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("stat", e))
        .at(input)?
        .len();
    if opts.offset > len {
        return Err(Error::invalid(format!(
            "--offset {} is past the end of the file ({len} bytes)",
            opts.offset
        ))
        .with_path(input));
    }
    let data_len = len - opts.offset;
    let shape = infer_shape(&opts.shape, opts.dtype.itemsize(), data_len).at(input)?;
    let header = Header::with_version(opts.dtype, &shape, opts.order, opts.version)?;
    let mut out = AtomicFile::new(output)?;
    out.write_all(&header.to_bytes()?)
        .map_err(|e| Error::io("write header", e))
        .at(output)?;
    file.seek(SeekFrom::Start(opts.offset))
        .map_err(|e| Error::io("seek", e))
        .at(input)?;
    // Copy in pieces (the kernel's copy_file_range where it can) to report progress.
    let piece = crate::engine::WINDOW_BYTES as u64;
    let mut left = data_len;
    while left > 0 {
        let n = left.min(piece);
        let copied = std::io::copy(&mut Read::by_ref(&mut file).take(n), out.file_mut())
            .map_err(|e| Error::io("copy", e))
            .at(output)?;
        if copied != n {
            return Err(Error::invalid("the file shrank while it was read").with_path(input));
        }
        left -= n;
        if let Some(p) = progress {
            p(n);
        }
    }
    out.commit(overwrite)?;
    Ok(Report {
        rows: shape.first().copied().unwrap_or(1) as u64,
        bytes_in: data_len,
        bytes_out: header.end()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_one_dimension_and_refuses_leftover_bytes() {
        assert_eq!(infer_shape(&[-1, 4], 8, 320).unwrap(), [10, 4]);
        assert_eq!(infer_shape(&[2, 5], 4, 40).unwrap(), [2, 5]);
        let e = infer_shape(&[-1, 3], 8, 100).unwrap_err().to_string();
        assert!(e.contains("100 bytes"), "{e}");
        assert!(infer_shape(&[2, 5], 4, 44).is_err());
        assert!(infer_shape(&[-1, -1], 4, 16).is_err());
        assert!(infer_shape(&[-1, 0], 4, 16).is_err());
    }
}
