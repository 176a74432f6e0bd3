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
    let mut file = crate::array::open_regular_file(path, false)?;
    let meta = file.metadata().map_err(|e| Error::io("stat", e))?;
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
    read_data(&mut file, &header, true)
}

/// How much of an array is read per step: the buffer never runs more than this ahead of the
/// bytes actually read.
const READ_CHUNK_BYTES: usize = 64 << 20;

/// Read the data that follows `header` from `reader` (positioned just after the header) into
/// an owned array, converting a non-native byte order. The header's scalar type must be `T`'s.
/// `checked_len`: the caller has checked that the reader holds all the data the header
/// declares, so the buffer is allocated once at its final size.
pub(crate) fn read_data<T: Element, R: Read>(
    reader: &mut R,
    header: &Header,
    checked_len: bool,
) -> Result<ArrayD<T>> {
    let dtype = header.dtype();
    if dtype.scalar() != T::SCALAR {
        return Err(ErrorKind::DTypeMismatch {
            expected: T::SCALAR.name(),
            found: dtype.to_string(),
        }
        .into());
    }
    // Otherwise the buffer grows as the data arrives instead of being allocated on the
    // header's word: a few hundred bytes of compressed npz member can declare petabytes, and
    // must cost an error, not an allocation failure (which aborts the process).
    let len = header.len();
    let chunk = (READ_CHUNK_BYTES / std::mem::size_of::<T>()).max(1);
    let mut data: Vec<T> = Vec::with_capacity(if checked_len { len } else { len.min(chunk) });
    while data.len() < len {
        let start = data.len();
        data.resize(start + chunk.min(len - start), T::zeroed());
        reader
            .read_exact(bytemuck::cast_slice_mut(&mut data[start..]))
            .map_err(|e| Error::io("read data", e))?;
    }
    if !dtype.is_native() {
        swap_bytes_in_place(dtype.scalar(), bytemuck::cast_slice_mut(&mut data));
    }
    let dim = IxDyn(header.shape());
    let shape = match header.order() {
        Order::C => dim.into_shape_with_order(),
        Order::Fortran => dim.f(),
    };
    ArrayD::from_shape_vec(shape, data).map_err(|e| Error::invalid(e.to_string()))
}
