//! Reading a whole `.npy` file into owned memory: no mapping, so no hazard from other
//! processes. The safe path for untrusted files that fit in memory.

use std::io::Read;
use std::path::Path;

use ndarray::{ArrayD, IxDyn, ShapeBuilder};

use crate::dtype::{Element, swap_bytes_in_place};
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::header::{DEFAULT_MAX_HEADER_SIZE, Header, Order};

/// Read a whole `.npy` file into an owned array of `T`, converting a non-native byte order.
/// The file's scalar type must be `T`'s.
pub fn read_array<T: Element>(path: impl AsRef<Path>) -> Result<ArrayD<T>> {
    let path = path.as_ref();
    read_inner(path).at(path)
}

fn read_inner<T: Element>(path: &Path) -> Result<ArrayD<T>> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io("open", e))?;
    let meta = file.metadata().map_err(|e| Error::io("stat", e))?;
    if !meta.is_file() {
        return Err(Error::invalid("is not a regular file"));
    }
    let header = Header::read_from(&mut file, DEFAULT_MAX_HEADER_SIZE, Some(meta.len()))?;
    if header.dtype().scalar() != T::SCALAR {
        return Err(ErrorKind::DTypeMismatch {
            expected: T::SCALAR.name(),
            found: header.dtype().to_string(),
        }
        .into());
    }
    let end = header.end()?;
    if end > meta.len() {
        return Err(ErrorKind::Truncated {
            what: "data",
            needed: end,
            found: meta.len(),
        }
        .into());
    }
    read_data(&mut file, &header)
}

/// Read the data that follows `header` from `reader` (positioned just after the header) into
/// an owned array, converting a non-native byte order. The header's scalar type must be `T`'s.
pub(crate) fn read_data<T: Element, R: Read>(reader: &mut R, header: &Header) -> Result<ArrayD<T>> {
    let dtype = header.dtype();
    if dtype.scalar() != T::SCALAR {
        return Err(ErrorKind::DTypeMismatch {
            expected: T::SCALAR.name(),
            found: dtype.to_string(),
        }
        .into());
    }
    let mut data: Vec<T> = vec![T::zeroed(); header.len()];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut data);
    reader
        .read_exact(bytes)
        .map_err(|e| Error::io("read data", e))?;
    if !dtype.is_native() {
        swap_bytes_in_place(dtype.scalar(), bytes);
    }
    let dim = IxDyn(header.shape());
    let shape = match header.order() {
        Order::C => dim.into_shape_with_order(),
        Order::Fortran => dim.f(),
    };
    ArrayD::from_shape_vec(shape, data).map_err(|e| Error::invalid(e.to_string()))
}
