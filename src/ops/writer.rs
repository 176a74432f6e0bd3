//! [`NpyWriter`]: write an array of unknown length row by row, then publish it atomically.
//!
//! The header is written first with a placeholder length of 0 on axis 0; its growth padding
//! (21 digits, as numpy writes) leaves room for any final length, so [`NpyWriter::finish`]
//! rewrites it in place before the atomic rename. Until then nothing exists at the target.

use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::dtype::{DType, Element};
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::header::{Header, Order};
use crate::write::{AtomicFile, Overwrite};

/// A C-order `.npy` file being written row by row (a row is one index of axis 0).
///
/// ```
/// use mmnpy::ops::NpyWriter;
/// use mmnpy::{DType, NpyArray, Overwrite};
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("rows.npy");
/// let mut w = NpyWriter::create(&path, DType::native(mmnpy::Scalar::F32), &[3])?;
/// w.push(&[1.0f32, 2.0, 3.0])?;
/// w.push(&[4.0f32, 5.0, 6.0, 7.0, 8.0, 9.0])?; // two rows at once
/// w.finish(Overwrite::Refuse)?;
/// let a = NpyArray::<f32>::open(&path)?;
/// assert_eq!(a.shape(), &[3, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NpyWriter {
    out: BufWriter<AtomicFile>,
    path: PathBuf,
    header: Header,
    row_bytes: usize,
    rows: usize,
}

impl NpyWriter {
    /// Start a file of `dtype` whose rows have shape `row_shape` (empty for a 1-D array).
    pub fn create(path: impl AsRef<Path>, dtype: DType, row_shape: &[usize]) -> Result<NpyWriter> {
        let path = path.as_ref();
        let mut shape = vec![0];
        shape.extend_from_slice(row_shape);
        let header = Header::new(dtype, &shape, Order::C).at(path)?;
        let row_elements = row_shape
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))
            .ok_or(ErrorKind::Overflow("row size"))?;
        let mut out = BufWriter::with_capacity(1 << 20, AtomicFile::new(path)?);
        out.write_all(&header.to_bytes()?)
            .map_err(|e| Error::io("write header", e).with_path(path))?;
        Ok(NpyWriter {
            out,
            path: path.to_path_buf(),
            row_bytes: row_elements * dtype.itemsize(),
            header,
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Append whole rows given as raw element bytes in the file's dtype and byte order.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let rows = if self.row_bytes == 0 {
            return Err(
                Error::invalid("rows of zero elements: use push_empty_rows").with_path(&self.path)
            );
        } else if !bytes.len().is_multiple_of(self.row_bytes) {
            return Err(Error::invalid(format!(
                "{} bytes are not a whole number of rows of {} bytes",
                bytes.len(),
                self.row_bytes
            ))
            .with_path(&self.path));
        } else {
            bytes.len() / self.row_bytes
        };
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io("write", e).with_path(&self.path))?;
        self.rows += rows;
        Ok(())
    }

    /// Append whole rows of `T` (the file's dtype must be `T` in native byte order).
    pub fn push<T: Element>(&mut self, values: &[T]) -> Result<()> {
        let dtype = self.header.dtype();
        if dtype.scalar() != T::SCALAR || !dtype.is_native() {
            return Err(Error::new(ErrorKind::DTypeMismatch {
                expected: T::SCALAR.name(),
                found: dtype.to_string(),
            })
            .with_path(&self.path));
        }
        self.push_bytes(bytemuck::cast_slice(values))
    }

    /// Count `n` more rows of a zero-element row shape (nothing to write).
    pub fn push_empty_rows(&mut self, n: usize) -> Result<()> {
        if self.row_bytes != 0 {
            return Err(Error::invalid("rows have elements: use push").with_path(&self.path));
        }
        self.rows += n;
        Ok(())
    }

    /// Write the final shape into the header, fsync, and rename onto the path (refusing or
    /// replacing an existing file per `overwrite`). Returns the final header.
    pub fn finish(self, overwrite: Overwrite) -> Result<Header> {
        let path = self.path;
        let mut shape = self.header.shape().to_vec();
        shape[0] = self.rows;
        let header = self.header.with_shape(&shape).at(&path)?;
        let bytes = header.to_bytes()?;
        if bytes.len() as u64 != self.header.data_offset() {
            return Err(Error::invalid("header grew while writing").with_path(&path));
        }
        let mut out = self
            .out
            .into_inner()
            .map_err(|e| Error::io("write", e.into_error()).with_path(&path))?;
        out.file()
            .write_all_at(&bytes, 0)
            .map_err(|e| Error::io("write header", e).with_path(&path))?;
        out.commit(overwrite)?;
        Ok(header)
    }
}
