//! Memory-mapped `.npy` arrays: the untyped [`NpyFile`] (runtime dtype, raw bytes) that tools
//! dispatch on, and the typed [`NpyArray<T>`] that hands out zero-copy `ndarray` views.
//!
//! Opening checks everything once — header, length, dtype, byte order, alignment — so views
//! afterwards can trust them. See the crate docs for the safety model.

use std::fs::File;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use ndarray::{ArrayView, ArrayViewD, ArrayViewMut, ArrayViewMutD, Dimension, IxDyn, ShapeBuilder};
use rayon::prelude::*;
use tempfile::TempPath;

use crate::dtype::{DType, Element};
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::header::{DEFAULT_MAX_HEADER_SIZE, Header, Order, Version};
use crate::map::{self, Access, MapAdvice, Region};
use crate::write::{AtomicFile, Overwrite};

/// How a file is opened: numpy's `mmap_mode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// `r`: read-only, shared lock.
    #[default]
    ReadOnly,
    /// `r+`: read-write, writes reach the file; exclusive lock.
    ReadWrite,
    /// `c`: copy-on-write: writes are visible to this process only, never to the file.
    CopyOnWrite,
    /// `w+`: a new file, built at a temporary name until [`NpyFile::persist`]; exclusive lock.
    Create,
}

impl Mode {
    /// numpy's spelling: `r`, `r+`, `c`, `w+`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::ReadOnly => "r",
            Mode::ReadWrite => "r+",
            Mode::CopyOnWrite => "c",
            Mode::Create => "w+",
        }
    }

    /// True for every mode but `r`.
    pub const fn is_writable(self) -> bool {
        !matches!(self, Mode::ReadOnly)
    }
}

impl std::str::FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Mode> {
        match s {
            "r" | "readonly" => Ok(Mode::ReadOnly),
            "r+" | "readwrite" => Ok(Mode::ReadWrite),
            "c" | "copyonwrite" => Ok(Mode::CopyOnWrite),
            "w+" | "write" => Ok(Mode::Create),
            _ => Err(Error::invalid(format!(
                "unknown mode {s:?} (expected r, r+, c or w+)"
            ))),
        }
    }
}

/// Options for opening an existing file, like [`std::fs::OpenOptions`].
///
/// ```no_run
/// use mmnpy::{Mode, OpenOptions};
/// let a = OpenOptions::new().mode(Mode::CopyOnWrite).open::<f32>("x.npy")?;
/// # Ok::<(), mmnpy::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions {
    mode: Mode,
    max_header_size: u64,
    lock: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Read-only, numpy's 10,000-byte header ceiling, locking on.
    pub fn new() -> OpenOptions {
        OpenOptions {
            mode: Mode::ReadOnly,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            lock: true,
        }
    }

    /// The mode: `r`, `r+` or `c` (`w+` is [`NpyFile::create`]).
    pub fn mode(&mut self, mode: Mode) -> &mut Self {
        self.mode = mode;
        self
    }

    /// Refuse headers longer than this many bytes before reading them (numpy's
    /// `max_header_size`). Raise it only for files you trust.
    pub fn max_header_size(&mut self, bytes: u64) -> &mut Self {
        self.max_header_size = bytes;
        self
    }

    /// Take the advisory lock (default: yes). Turning it off gives up the protection against
    /// cooperating writers and is meant for read-only use on filesystems without locks.
    pub fn lock(&mut self, lock: bool) -> &mut Self {
        self.lock = lock;
        self
    }

    /// Open with a runtime dtype.
    pub fn open_untyped(&self, path: impl AsRef<Path>) -> Result<NpyFile> {
        let path = path.as_ref();
        self.open_inner(path).at(path)
    }

    /// Open as a typed array; the file's dtype must be `T` in native byte order.
    pub fn open<T: Element>(&self, path: impl AsRef<Path>) -> Result<NpyArray<T>> {
        self.open_untyped(path)?.into_typed()
    }

    fn open_inner(&self, path: &Path) -> Result<NpyFile> {
        let access = match self.mode {
            Mode::ReadOnly => Access::ReadOnly,
            Mode::ReadWrite => Access::ReadWrite,
            Mode::CopyOnWrite => Access::CopyOnWrite,
            Mode::Create => {
                return Err(Error::invalid(
                    "mode 'w+' creates a file: use NpyFile::create or NpyArray::create",
                ));
            }
        };
        let mut file = open_regular_file(path, access == Access::ReadWrite)?;
        if self.lock {
            map::lock(&file, access == Access::ReadWrite)?;
        }
        let file_len = file.metadata().map_err(|e| Error::io("stat", e))?.len();
        let header = Header::read_from(&mut file, self.max_header_size, Some(file_len))?;
        let region = map_data(
            &file,
            header.data_offset(),
            header.nbytes(),
            header.end()?,
            file_len,
            access,
        )?;
        Ok(NpyFile {
            path: path.to_path_buf(),
            header,
            mode: self.mode,
            file_len,
            region,
            pending: None,
            file,
        })
    }
}

/// Map the `nbytes` of data at byte `start` of `file`, after checking that the data's `end`
/// (counted the way the caller counts `limit`) is within `limit`: a short file is a
/// [`ErrorKind::Truncated`] error in every mode, never a mapping past the end of the file.
fn map_data(
    file: &File,
    start: u64,
    nbytes: u64,
    end: u64,
    limit: u64,
    access: Access,
) -> Result<Region> {
    if end > limit {
        return Err(ErrorKind::Truncated {
            what: "data",
            needed: end,
            found: limit,
        }
        .into());
    }
    let len = usize::try_from(nbytes).map_err(|_| ErrorKind::Overflow("data size"))?;
    map::map(file, start, len, access)
}

/// Open an `.npy` stored inside another file (an uncompressed `.npz` member): the `len` bytes
/// at `offset` of `path` are a complete `.npy`. Read-only, shared lock, lengths checked before
/// mapping, like [`OpenOptions::open_untyped`]. The handle's [`NpyFile::file_len`] is `len`
/// and its header's data offset is relative to `offset`.
pub(crate) fn open_embedded(path: &Path, offset: u64, len: u64) -> Result<NpyFile> {
    open_embedded_inner(path, offset, len).at(path)
}

fn open_embedded_inner(path: &Path, offset: u64, len: u64) -> Result<NpyFile> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = open_regular_file(path, false)?;
    map::lock(&file, false)?;
    let file_len = file.metadata().map_err(|e| Error::io("stat", e))?.len();
    let member_end = offset
        .checked_add(len)
        .ok_or(ErrorKind::Overflow("member end"))?;
    if member_end > file_len {
        return Err(ErrorKind::Truncated {
            what: "member",
            needed: member_end,
            found: file_len,
        }
        .into());
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io("seek", e))?;
    let header = Header::read_from(
        &mut (&mut file).take(len),
        DEFAULT_MAX_HEADER_SIZE,
        Some(len),
    )?;
    // `offset + len` did not overflow and the data offset is within `len` once `map_data`'s
    // check passes, so the saturation never reaches a mapping.
    let region = map_data(
        &file,
        offset.saturating_add(header.data_offset()),
        header.nbytes(),
        header.end()?,
        len,
        Access::ReadOnly,
    )?;
    Ok(NpyFile {
        path: path.to_path_buf(),
        header,
        mode: Mode::ReadOnly,
        file_len: len,
        region,
        pending: None,
        file,
    })
}

/// Map the first `header.nbytes()` bytes of a raw data file (no `.npy` header: an uncompressed
/// Zarr chunk) as an array described by `header`. Read-only, shared lock, length checked
/// before mapping. Crate-private: the handle's header does not describe the file on disk, so
/// only the mapping (`bytes`, `will_need`, `release`) may be used, never `read_at`.
#[cfg_attr(not(feature = "zarr"), allow(dead_code))]
pub(crate) fn open_raw(path: &Path, header: Header) -> Result<NpyFile> {
    open_raw_inner(path, header).at(path)
}

#[cfg_attr(not(feature = "zarr"), allow(dead_code))]
fn open_raw_inner(path: &Path, header: Header) -> Result<NpyFile> {
    let file = open_regular_file(path, false)?;
    map::lock(&file, false)?;
    let file_len = file.metadata().map_err(|e| Error::io("stat", e))?.len();
    let nbytes = header.nbytes();
    let region = map_data(&file, 0, nbytes, nbytes, file_len, Access::ReadOnly)?;
    Ok(NpyFile {
        path: path.to_path_buf(),
        header,
        mode: Mode::ReadOnly,
        file_len,
        region,
        pending: None,
        file,
    })
}

/// Open an input file without blocking on FIFOs, and refuse anything but a regular file.
/// Every file mmnpy reads (or grows in place) is opened through here: a plain `open` of a
/// FIFO waits for a writer forever, and a directory or device cannot be mapped.
pub(crate) fn open_regular_file(path: &Path, write: bool) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io("open", e))?;
    let meta = file.metadata().map_err(|e| Error::io("stat", e))?;
    if meta.is_dir() {
        return Err(Error::invalid("is a directory, not a file"));
    }
    if !meta.is_file() {
        return Err(Error::invalid("is not a regular file"));
    }
    Ok(file)
}

/// An open `.npy` file with a runtime dtype: header, mode and the mapped data bytes.
///
/// This is the handle for code that dispatches on the dtype at run time (the CLI is built on
/// it); [`NpyArray<T>`] is the typed view for code that knows its element type.
pub struct NpyFile {
    path: PathBuf,
    header: Header,
    mode: Mode,
    file_len: u64,
    // Field order matters: the mapping is dropped before the file (and its lock).
    region: Region,
    pending: Option<TempPath>,
    file: File,
}

impl Drop for NpyFile {
    /// Unmap, then release the advisory lock explicitly. Closing the descriptor is not
    /// enough: a child process forked by another thread between our `open` and its `exec`
    /// holds a copy of the descriptor, and with it the lock, until it execs.
    fn drop(&mut self) {
        self.region = Region::Empty;
        let _ = self.file.unlock();
    }
}

impl std::fmt::Debug for NpyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpyFile")
            .field("path", &self.path)
            .field("header", &self.header)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl NpyFile {
    /// Open read-only (`r`).
    pub fn open(path: impl AsRef<Path>) -> Result<NpyFile> {
        OpenOptions::new().open_untyped(path)
    }

    /// Open read-write (`r+`).
    pub fn open_rw(path: impl AsRef<Path>) -> Result<NpyFile> {
        OpenOptions::new().mode(Mode::ReadWrite).open_untyped(path)
    }

    /// Create a zero-filled array at `path` (mode `w+`), with the header version numpy would
    /// choose. Nothing appears at `path` until [`persist`](NpyFile::persist); dropping the
    /// handle before that removes the temporary file.
    pub fn create(
        path: impl AsRef<Path>,
        dtype: DType,
        shape: &[usize],
        order: Order,
    ) -> Result<NpyFile> {
        let path = path.as_ref();
        Header::new(dtype, shape, order)
            .and_then(|h| NpyFile::create_with_header(path, h))
            .at(path)
    }

    /// Like [`create`](NpyFile::create) with an explicit format version.
    pub fn create_with_version(
        path: impl AsRef<Path>,
        dtype: DType,
        shape: &[usize],
        order: Order,
        version: Version,
    ) -> Result<NpyFile> {
        let path = path.as_ref();
        Header::with_version(dtype, shape, order, Some(version))
            .and_then(|h| NpyFile::create_with_header(path, h))
            .at(path)
    }

    fn create_with_header(path: &Path, header: Header) -> Result<NpyFile> {
        use std::io::Write;
        let mut out = AtomicFile::new(path)?;
        map::lock(out.file(), true)?;
        out.write_all(&header.to_bytes()?)
            .map_err(|e| Error::io("write header", e))?;
        let file_len = header.end()?;
        // set_len leaves the data as a hole: zero-filled and sparse.
        out.file()
            .set_len(file_len)
            .map_err(|e| Error::io("allocate", e))?;
        let (file, temp) = out.into_parts();
        let region = map::map(
            &file,
            header.data_offset(),
            usize::try_from(header.nbytes()).map_err(|_| ErrorKind::Overflow("data size"))?,
            Access::ReadWrite,
        )?;
        Ok(NpyFile {
            path: path.to_path_buf(),
            header,
            mode: Mode::Create,
            file_len,
            region,
            pending: temp,
            file,
        })
    }

    /// Make a created (`w+`) file durable and visible at its path: msync, fsync, rename onto
    /// the path (replacing any file there), fsync the directory. The handle stays open as `r+`.
    /// A no-op for other modes.
    pub fn persist(&mut self) -> Result<()> {
        self.persist_with(Overwrite::Replace)
    }

    /// Like [`persist`](NpyFile::persist), choosing what to do if the path exists by now.
    pub fn persist_with(&mut self, overwrite: Overwrite) -> Result<()> {
        let Some(temp) = self.pending.take() else {
            return Ok(());
        };
        let mut out = AtomicFile::from_parts(
            self.file.try_clone().map_err(|e| Error::io("dup", e))?,
            temp,
            self.path.clone(),
        );
        let result = self
            .flush()
            .and_then(|()| out.commit(overwrite))
            .at(&self.path);
        if result.is_ok() {
            self.mode = Mode::ReadWrite;
        } else {
            self.pending = out.into_parts().1;
        }
        result
    }

    /// Write changes of an `r+` or `w+` mapping back to the file (msync). Copy-on-write and
    /// read-only handles have nothing to flush.
    pub fn flush(&self) -> Result<()> {
        self.region
            .flush()
            .map_err(|e| Error::io("flush", e))
            .at(&self.path)
    }

    /// The path given at open or create.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.header.dtype()
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.header.shape()
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.header.shape().len()
    }

    /// Memory order.
    pub fn order(&self) -> Order {
        self.header.order()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.header.len()
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.header.is_empty()
    }

    /// The mode it was opened in (`w+` until persisted, then `r+`).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Length of the file when it was opened.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The data bytes, in the file's byte order and memory order.
    pub fn bytes(&self) -> &[u8] {
        self.region.bytes()
    }

    /// The data bytes for writing (modes `r+`, `c`, `w+`).
    pub fn bytes_mut(&mut self) -> Result<&mut [u8]> {
        self.region
            .bytes_mut()
            .ok_or_else(|| Error::new(ErrorKind::ReadOnly).with_path(&self.path))
    }

    /// Fill every element with the bytes of one element (`value.len()` must be the itemsize),
    /// in parallel.
    pub fn fill_bytes(&mut self, value: &[u8]) -> Result<()> {
        let itemsize = self.dtype().itemsize();
        if value.len() != itemsize {
            return Err(Error::invalid(format!(
                "fill value has {} bytes, the dtype needs {itemsize}",
                value.len()
            )));
        }
        let bytes = self.bytes_mut()?;
        let block = itemsize * (1 << 16);
        bytes.par_chunks_mut(block).for_each(|chunk| {
            for element in chunk.chunks_exact_mut(itemsize) {
                element.copy_from_slice(value);
            }
        });
        Ok(())
    }

    /// Hint that `[offset, offset + len)` of the data will be read soon (MADV_WILLNEED).
    pub fn will_need(&self, offset: usize, len: usize) {
        self.region.advise(MapAdvice::WillNeed, offset, len);
    }

    /// Read data bytes `[offset, offset + buf.len())` with `pread`, bypassing the mapping:
    /// nothing is mapped, so resident memory does not grow. It reads the file, so a
    /// copy-on-write handle's private changes are not seen.
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        self.file
            .read_exact_at(buf, self.header.data_offset() + offset as u64)
            .map_err(|e| Error::io("read", e))
            .at(&self.path)
    }

    /// Write data bytes at `offset` with `pwrite` (modes `r+` and `w+`), bypassing the
    /// mapping; on Linux the mapping sees the new bytes at once (one page cache).
    pub fn write_at(&self, offset: usize, bytes: &[u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        if !matches!(self.mode, Mode::ReadWrite | Mode::Create) {
            return Err(Error::new(ErrorKind::ReadOnly).with_path(&self.path));
        }
        self.file
            .write_all_at(bytes, self.header.data_offset() + offset as u64)
            .map_err(|e| Error::io("write", e))
            .at(&self.path)
    }

    /// Hint that the data will be read sequentially (MADV_SEQUENTIAL).
    pub fn advise_sequential(&self) {
        self.region
            .advise(MapAdvice::Sequential, 0, self.region.bytes().len());
    }

    /// How many of the data byte offsets in `offsets` lie in pages the page cache holds (each
    /// asked with `mincore`; past the end, or off Linux: not cached). A sample of the rows a
    /// job will read tells whether reading them at random is cheap.
    pub(crate) fn count_cached(&self, offsets: impl IntoIterator<Item = usize>) -> usize {
        self.region.count_cached(offsets)
    }

    /// Release the resident pages of `[offset, offset + len)` of the data after reading them,
    /// keeping memory bounded on a pass over a huge file. The data itself is untouched (it
    /// stays in the page cache and the file); a no-op for copy-on-write handles.
    pub fn release(&self, offset: usize, len: usize) {
        self.region.release(offset, len);
    }

    /// View as a typed array; the dtype must be `T` in native byte order and the data aligned.
    pub fn into_typed<T: Element>(self) -> Result<NpyArray<T>> {
        check_typed::<T>(&self).at(&self.path)?;
        Ok(NpyArray {
            file: self,
            _element: PhantomData,
        })
    }
}

fn check_typed<T: Element>(file: &NpyFile) -> Result<()> {
    let dtype = file.dtype();
    if dtype.scalar() != T::SCALAR {
        return Err(ErrorKind::DTypeMismatch {
            expected: T::SCALAR.name(),
            found: dtype.to_string(),
        }
        .into());
    }
    if !dtype.is_native() {
        return Err(ErrorKind::NonNativeByteOrder {
            descr: file.header.descr().to_string(),
        }
        .into());
    }
    let align = std::mem::align_of::<T>();
    let bytes = file.bytes();
    if !bytes.is_empty() && !(bytes.as_ptr() as usize).is_multiple_of(align) {
        return Err(ErrorKind::Misaligned {
            offset: file.header.data_offset(),
            align,
        }
        .into());
    }
    Ok(())
}

/// A typed, memory-mapped `.npy` array: zero-copy `ndarray` views over the file's data.
///
/// # Safety model
/// The views borrow a mapping of the file. They are valid while nobody truncates the file:
/// mmnpy takes an advisory lock (shared for `r`/`c`, exclusive for `r+`/`w+`), checks the
/// file's length against the header before mapping, never truncates a file it maps, and
/// writes new files by atomic rename so readers of an old file keep a valid inode. Locks bind
/// only cooperating processes: another program truncating the file while it is mapped makes
/// the next access raise SIGBUS. Use [`read_array`](crate::read_array) to copy an untrusted
/// file into owned memory instead.
pub struct NpyArray<T: Element> {
    file: NpyFile,
    _element: PhantomData<T>,
}

impl<T: Element> std::fmt::Debug for NpyArray<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.file.fmt(f)
    }
}

impl<T: Element> NpyArray<T> {
    /// Open read-only (`r`).
    pub fn open(path: impl AsRef<Path>) -> Result<NpyArray<T>> {
        OpenOptions::new().open(path)
    }

    /// Open read-write (`r+`): writes through [`view_mut`](NpyArray::view_mut) reach the file.
    pub fn open_rw(path: impl AsRef<Path>) -> Result<NpyArray<T>> {
        OpenOptions::new().mode(Mode::ReadWrite).open(path)
    }

    /// Open copy-on-write (`c`): writes are visible to this handle only.
    pub fn open_copy_on_write(path: impl AsRef<Path>) -> Result<NpyArray<T>> {
        OpenOptions::new().mode(Mode::CopyOnWrite).open(path)
    }

    /// Create a zero-filled array (`w+`); see [`NpyFile::create`].
    pub fn create(path: impl AsRef<Path>, shape: &[usize], order: Order) -> Result<NpyArray<T>> {
        NpyFile::create(path, T::DTYPE, shape, order)?.into_typed()
    }

    /// The untyped handle.
    pub fn file(&self) -> &NpyFile {
        &self.file
    }

    /// Give back the untyped handle.
    pub fn into_file(self) -> NpyFile {
        self.file
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.file.shape()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.file.len()
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.file.is_empty()
    }

    /// The header.
    pub fn header(&self) -> &Header {
        self.file.header()
    }

    /// The elements in memory order (C or Fortran, as the file says).
    pub fn as_slice(&self) -> &[T] {
        cast(self.file.bytes())
    }

    /// The elements in memory order, for writing (modes `r+`, `c`, `w+`).
    pub fn as_slice_mut(&mut self) -> Result<&mut [T]> {
        Ok(cast_mut(self.file.bytes_mut()?))
    }

    fn dim(&self) -> ndarray::Shape<IxDyn> {
        let dim = IxDyn(self.file.shape());
        match self.file.order() {
            Order::C => dim.into_shape_with_order(),
            Order::Fortran => dim.f(),
        }
    }

    /// A zero-copy view; Fortran files give F-strided views.
    pub fn view(&self) -> ArrayViewD<'_, T> {
        ArrayView::from_shape(self.dim(), self.as_slice())
            .expect("shape and length were checked when the file was opened")
    }

    /// A zero-copy view with a fixed number of dimensions, or a shape-mismatch error.
    pub fn view_as<D: Dimension>(&self) -> Result<ArrayView<'_, T, D>> {
        self.view()
            .into_dimensionality::<D>()
            .map_err(|_| self.ndim_error::<D>())
    }

    /// A mutable zero-copy view (modes `r+`, `c`, `w+`).
    pub fn view_mut(&mut self) -> Result<ArrayViewMutD<'_, T>> {
        let dim = self.dim();
        let data = self.as_slice_mut()?;
        Ok(ArrayViewMut::from_shape(dim, data)
            .expect("shape and length were checked when the file was opened"))
    }

    /// A mutable view with a fixed number of dimensions.
    pub fn view_mut_as<D: Dimension>(&mut self) -> Result<ArrayViewMut<'_, T, D>> {
        let err = self.ndim_error::<D>();
        self.view_mut()?.into_dimensionality::<D>().map_err(|_| err)
    }

    fn ndim_error<D: Dimension>(&self) -> Error {
        Error::new(ErrorKind::ShapeMismatch(format!(
            "the array has {} dimensions {:?}, not {}",
            self.shape().len(),
            self.shape(),
            D::NDIM.map_or("a dynamic number".to_string(), |n| n.to_string())
        )))
        .with_path(self.file.path())
    }

    /// Fill every element with `value`, in parallel.
    pub fn fill(&mut self, value: T) -> Result<()> {
        self.file.fill_bytes(bytemuck::bytes_of(&value))
    }

    /// See [`NpyFile::persist`].
    pub fn persist(&mut self) -> Result<()> {
        self.file.persist()
    }

    /// See [`NpyFile::flush`].
    pub fn flush(&self) -> Result<()> {
        self.file.flush()
    }
}

// Alignment and length were checked by `check_typed`; empty slices are special-cased because
// an empty byte slice's dangling pointer need not be aligned for `T`.
fn cast<T: Element>(bytes: &[u8]) -> &[T] {
    if bytes.is_empty() {
        return &[];
    }
    bytemuck::cast_slice(bytes)
}

fn cast_mut<T: Element>(bytes: &mut [u8]) -> &mut [T] {
    if bytes.is_empty() {
        return &mut [];
    }
    bytemuck::cast_slice_mut(bytes)
}
