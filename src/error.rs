//! One error type for the whole crate: an [`ErrorKind`] that callers can match on, plus
//! the file it concerns, so that every message a person reads names the file and the problem.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The result type of every fallible function in mmnpy.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from mmnpy: what went wrong ([`ErrorKind`]) and, when known, which file.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    path: Option<PathBuf>,
}

/// What went wrong. Messages are lowercase, without a trailing period, and short: they never
/// echo a whole header or file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An operating-system error while doing `op`.
    #[error("{op}: {source}")]
    Io {
        /// What was being done, e.g. "open", "read header", "map".
        op: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The file does not start with `\x93NUMPY`.
    #[error("not an .npy file (bad magic string)")]
    BadMagic,
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)")]
    UnsupportedVersion {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The header length field exceeds the configured ceiling.
    #[error(
        "header of {len} bytes exceeds the limit of {max} bytes (raise max_header_size only for files you trust)"
    )]
    HeaderTooLarge {
        /// Declared header length.
        len: u64,
        /// The ceiling in force.
        max: u64,
    },
    /// The file ends before something it declares.
    #[error("file is truncated: {what} needs {needed} bytes but the file has {found}")]
    Truncated {
        /// What was being read: "preamble", "header", "data".
        what: &'static str,
        /// Bytes needed from the start of the file.
        needed: u64,
        /// Bytes the file has.
        found: u64,
    },
    /// The header dictionary is malformed.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// A dtype mmnpy does not handle (strings, objects, datetimes, records, long double...).
    #[error("unsupported dtype {descr:?}: {why}")]
    UnsupportedDType {
        /// The descr as found.
        descr: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// An element or byte count that does not fit in 64 bits / the address space.
    #[error("{0} overflows")]
    Overflow(&'static str),
    /// The element type asked for is not the file's.
    #[error(
        "dtype mismatch: the file holds {found} but {expected} was requested (open it untyped, or convert it)"
    )]
    DTypeMismatch {
        /// Requested dtype name.
        expected: &'static str,
        /// The file's dtype.
        found: String,
    },
    /// Typed access to data whose byte order is not the machine's.
    #[error(
        "the file's byte order ({descr}) is not native: open it untyped, or convert it with `mmnpy convert --byte-order native`"
    )]
    NonNativeByteOrder {
        /// The file's descr.
        descr: String,
    },
    /// The data is not aligned for the element type.
    #[error("data at byte offset {offset} is not aligned to {align} bytes for typed access")]
    Misaligned {
        /// Offset of the data in the file.
        offset: u64,
        /// Alignment required.
        align: usize,
    },
    /// Another cooperating process holds a conflicting lock.
    #[error(
        "another process holds a conflicting lock on this file ({held}); locks bind only processes that use them"
    )]
    Locked {
        /// Which lock we wanted: "shared" or "exclusive".
        held: &'static str,
    },
    /// A write was attempted through a read-only handle.
    #[error("the array is open read-only (mode 'r'); open it with mode 'r+', 'c' or 'w+' to write")]
    ReadOnly,
    /// Shapes that must agree do not, or a view of the wrong dimensionality was asked for.
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
    /// A bad argument or value: an index, a slice expression, a fill value, an option.
    #[error("{0}")]
    InvalidInput(String),
    /// A value that cannot be represented in the target dtype.
    #[error(
        "value {value} at index {index} does not fit in {target} (use --cast unsafe for numpy's astype behaviour)"
    )]
    Cast {
        /// Flat index of the first offending element.
        index: u64,
        /// The value as text.
        value: String,
        /// Target dtype name.
        target: &'static str,
    },
    /// An index outside an axis.
    #[error("index {index} is out of bounds for axis {axis} with size {len}")]
    IndexOutOfBounds {
        /// The offending index as given.
        index: i64,
        /// Axis.
        axis: usize,
        /// Axis length.
        len: usize,
    },
    /// A parse error at a line of a text input.
    #[error("line {line}: {msg}")]
    Parse {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        msg: String,
    },
    /// The output exists and overwriting was not asked for.
    #[error("output already exists (use --force to overwrite)")]
    OutputExists,
}

impl Error {
    /// An error of this kind, not tied to a file.
    pub fn new(kind: ErrorKind) -> Error {
        Error {
            inner: Box::new(Inner { kind, path: None }),
        }
    }

    /// An [`ErrorKind::InvalidInput`] with this message.
    pub fn invalid(msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidInput(msg.into()))
    }

    /// An [`ErrorKind::Io`] for operation `op`.
    pub fn io(op: &'static str, source: io::Error) -> Error {
        Error::new(ErrorKind::Io { op, source })
    }

    /// Attach the file this error concerns (kept if one is already attached).
    pub fn with_path(mut self, path: impl AsRef<Path>) -> Error {
        if self.inner.path.is_none() {
            self.inner.path = Some(path.as_ref().to_path_buf());
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The file concerned, if known.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error::new(kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.inner.kind),
            None => write!(f, "{}", self.inner.kind),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The message already includes the underlying OS error, so `source` is left empty: error
/// reporters that walk the chain would otherwise print it twice.
impl std::error::Error for Error {}

/// Attach a path to the error of a `Result`.
pub(crate) trait ResultExt<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|e| e.with_path(path))
    }
}
