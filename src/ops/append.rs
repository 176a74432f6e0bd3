//! Growing an `.npy` file in place along its growth axis (axis 0, or the last axis of a
//! Fortran-order file), crash-safely, the way npy-append-array does.
//!
//! # Crash safety
//! 1. Take the exclusive lock on the target; check every source (same scalar type, same
//!    number of dimensions, same sizes off the growth axis) before touching anything.
//! 2. Write the new data after the old data (after `data_offset + nbytes`, overwriting any
//!    trailing bytes an earlier crash left) and **fsync**. The header still describes the old
//!    shape, so a crash here leaves the old array plus ignored trailing bytes, which numpy
//!    loads as the old contents.
//! 3. Rewrite the header in place with the new shape and **fsync** again. numpy and mmnpy
//!    pad the growth axis of a header to 21 digits, so the new header has exactly the old
//!    length and the data does not move; the header fits in one page and is written with one
//!    `pwrite`. A crash before the sync leaves the old or the new header, each consistent
//!    with the file.
//! 4. Trim bytes past the new end that an earlier crash may have left.
//!
//! When the header has no room (a file written without growth padding), the whole file is
//! rewritten to a temporary in the same directory and renamed over the target
//! ([`AtomicFile`]), which is crash-safe too.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::array::NpyFile;
use crate::convert::Report;
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::header::{DEFAULT_MAX_HEADER_SIZE, Header, Order};
use crate::map;
use crate::ops::Progress;
use crate::ops::cast::CastMode;
use crate::ops::cat::Concat;
use crate::ops::stream::{self, ElementPaging, Pass};
use crate::write::{AtomicFile, Overwrite};

/// Append the arrays `sources` to the file `target` along its growth axis, in place. The
/// sources must have the target's scalar type (byte order is converted), its number of
/// dimensions and its sizes off the growth axis; otherwise the target is left untouched.
pub fn append(target: &Path, sources: &[NpyFile], progress: Progress<'_>) -> Result<Report> {
    append_inner(target, sources, progress).at(target)
}

fn append_inner(target: &Path, sources: &[NpyFile], progress: Progress<'_>) -> Result<Report> {
    let mut file = crate::array::open_regular_file(target, true)?;
    for s in sources {
        if same_inode(&file, s.path()) {
            return Err(Error::invalid("cannot append a file to itself").with_path(s.path()));
        }
    }
    map::lock(&file, true)?;
    let file_len = file.metadata().map_err(|e| Error::io("stat", e))?.len();
    let header = Header::read_from(&mut file, DEFAULT_MAX_HEADER_SIZE, Some(file_len))?;
    let old_end = header.end()?;
    if old_end > file_len {
        return Err(ErrorKind::Truncated {
            what: "data",
            needed: old_end,
            found: file_len,
        }
        .into());
    }
    if header.shape().is_empty() {
        return Err(Error::invalid("cannot append to a 0-d array"));
    }
    let ndim = header.shape().len();
    let order = header.order();
    let axis = match order {
        Order::C => 0,
        Order::Fortran => ndim - 1,
    };
    if sources.is_empty() {
        return Ok(Report::default());
    }
    for s in sources {
        if s.dtype().scalar() != header.dtype().scalar() {
            return Err(Error::invalid(format!(
                "dtype {} does not match the target's {}",
                s.dtype(),
                header.dtype()
            ))
            .with_path(s.path()));
        }
        let fits = s.ndim() == ndim
            && s.shape()
                .iter()
                .zip(header.shape())
                .enumerate()
                .all(|(k, (a, b))| k == axis || a == b);
        if !fits {
            return Err(Error::new(ErrorKind::ShapeMismatch(format!(
                "shape {:?} cannot be appended to the target's {:?} along axis {axis}",
                s.shape(),
                header.shape()
            )))
            .with_path(s.path()));
        }
    }
    let concat = Concat::new(sources.iter().collect(), axis, order, true)?;
    let mut new_shape = header.shape().to_vec();
    new_shape[axis] = new_shape[axis]
        .checked_add(concat.shape()[axis])
        .ok_or(ErrorKind::Overflow("appended shape"))?;
    let new_header = header.with_shape(&new_shape)?;
    let new_bytes = new_header.to_bytes()?;
    let bytes_in: u64 = sources.iter().map(|s| s.header().nbytes()).sum();
    let rows = concat.shape()[axis] as u64;
    if new_bytes.len() as u64 != header.data_offset() || new_header.order() != order {
        rewrite(target, &mut file, &header, &new_header, &concat, progress)?;
    } else {
        write_tail(&file, old_end, header.dtype(), &concat, progress)?;
        file.sync_all().map_err(|e| Error::io("sync", e))?;
        file.write_all_at(&new_bytes, 0)
            .map_err(|e| Error::io("write header", e))?;
        file.sync_all().map_err(|e| Error::io("sync", e))?;
        let new_end = new_header.end()?;
        if file.metadata().map_err(|e| Error::io("stat", e))?.len() > new_end {
            file.set_len(new_end).map_err(|e| Error::io("trim", e))?;
        }
    }
    Ok(Report {
        rows,
        bytes_in,
        bytes_out: bytes_in,
    })
}

/// Write the sources, converted to the target's dtype, at `at` of `file`.
fn write_tail(
    file: &File,
    at: u64,
    dtype: crate::DType,
    concat: &Concat<'_>,
    progress: Progress<'_>,
) -> Result<()> {
    let size = dtype.itemsize();
    let plan = stream::output_plan(
        concat.len(),
        size,
        concat.parts().iter().map(|s| s.dtype().itemsize()),
    );
    let release = |_: std::ops::Range<usize>| {
        for s in concat.parts() {
            s.release(0, s.bytes().len());
        }
    };
    let paging = ElementPaging {
        plan: &plan,
        release: &release,
        announce: &|_| {},
    };
    let pass = Pass {
        plan,
        out_itemsize: size,
        keys_in_output_order: true,
        paging: &paging,
        progress,
    };
    stream::run(
        &pass,
        |range, out| concat.fill(range, dtype, CastMode::Unsafe, out),
        |offset, bytes| {
            file.write_all_at(bytes, at + (offset * size) as u64)
                .map_err(|e| Error::io("write", e))
        },
        |f| Error::invalid(format!("cannot convert element {}", f.index)),
    )
}

/// The no-room path: old header replaced, old data copied, new data written, all in a
/// temporary renamed over the target.
fn rewrite(
    target: &Path,
    file: &mut File,
    old: &Header,
    new: &Header,
    concat: &Concat<'_>,
    progress: Progress<'_>,
) -> Result<()> {
    let mut out = AtomicFile::new(target)?;
    let header = new.to_bytes()?;
    out.write_all(&header)
        .map_err(|e| Error::io("write header", e))?;
    file.seek(SeekFrom::Start(old.data_offset()))
        .map_err(|e| Error::io("seek", e))?;
    let copied = std::io::copy(&mut Read::by_ref(file).take(old.nbytes()), out.file_mut())
        .map_err(|e| Error::io("copy data", e))?;
    if copied != old.nbytes() {
        return Err(ErrorKind::Truncated {
            what: "data",
            needed: old.end()?,
            found: old.data_offset() + copied,
        }
        .into());
    }
    write_tail(
        out.file(),
        header.len() as u64 + old.nbytes(),
        new.dtype(),
        concat,
        progress,
    )?;
    out.commit(Overwrite::Replace)
}

/// True when `path` is the file open as `file`.
fn same_inode(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
