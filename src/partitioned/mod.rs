//! Arrays stored as several files: a Dask npy-stack directory ([`npy_stack`]) or a Zarr v3
//! array ([`zarr`]), and [`Partitioned`], which opens the mappable ones as one logical array
//! for the engine.
//!
//! A partitioned array is a row-major array cut along its first axis into shards laid end to
//! end; each shard is a mapping (an `.npy` file of the stack, an uncompressed Zarr chunk file)
//! or, for a Zarr chunk that was never written, its fill value. The engine's blocks are cut
//! over the logical array, so statistics have the same bits as over one `.npy` file.

mod atomic_dir;
pub mod npy_stack;
pub mod pickle;
#[cfg(feature = "zarr")]
pub mod zarr;

pub use atomic_dir::AtomicDir;

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::array::NpyFile;
use crate::dtype::DType;
use crate::engine::Source;
use crate::error::{Error, Result};
use crate::header::Order;

/// What kind of directory a partitioned array lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A Dask npy-stack: `0.npy`, `1.npy`, ... and a pickled `info` file.
    NpyStack,
    /// A Zarr v3 array with the `bytes` codec only: every chunk file is raw data.
    Zarr,
}

/// One shard's data.
enum Shard {
    /// A mapped file; its bytes are the shard's data.
    Mapped(NpyFile),
    /// `len` bytes of a repeated element (a Zarr chunk never written: its fill value).
    #[cfg_attr(not(feature = "zarr"), allow(dead_code))]
    Fill { element: Vec<u8>, len: usize },
}

impl Shard {
    fn len(&self) -> usize {
        match self {
            Shard::Mapped(f) => f.bytes().len(),
            Shard::Fill { len, .. } => *len,
        }
    }
}

/// A partitioned array opened as one logical C-order array: an engine [`Source`].
///
/// ```no_run
/// use mmnpy::engine::{stats, PassOptions};
/// use mmnpy::partitioned::Partitioned;
/// let a = Partitioned::open("stack/")?; // an npy-stack directory or an uncompressed .zarr
/// let s = stats(&a, 0, &PassOptions::new())?;
/// println!("{} values, mean {:?}", s.count, s.mean);
/// # Ok::<(), mmnpy::Error>(())
/// ```
pub struct Partitioned {
    path: PathBuf,
    layout: Layout,
    dtype: DType,
    shape: Vec<usize>,
    shards: Vec<Shard>,
    /// Byte offset of each shard in the logical data, and the total at the end.
    starts: Vec<usize>,
}

impl std::fmt::Debug for Partitioned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Partitioned")
            .field("path", &self.path)
            .field("layout", &self.layout)
            .field("dtype", &self.dtype)
            .field("shape", &self.shape)
            .field("shards", &self.shards.len())
            .finish()
    }
}

/// The layout of a directory, if it is a partitioned array: an `info` file makes an npy-stack,
/// a `zarr.json` (or `.zarray`) a Zarr array.
pub fn detect(path: &Path) -> Option<Layout> {
    if !path.is_dir() {
        return None;
    }
    if path.join("zarr.json").is_file() || path.join(".zarray").is_file() {
        Some(Layout::Zarr)
    } else if path.join("info").is_file() {
        Some(Layout::NpyStack)
    } else {
        None
    }
}

impl Partitioned {
    /// Open an npy-stack directory or an uncompressed Zarr v3 array (detected by [`detect`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Partitioned> {
        let path = path.as_ref();
        match detect(path) {
            Some(Layout::NpyStack) => npy_stack::open(path),
            #[cfg(feature = "zarr")]
            Some(Layout::Zarr) => zarr::open_mapped(path),
            #[cfg(not(feature = "zarr"))]
            Some(Layout::Zarr) => Err(Error::invalid(
                "Zarr support is not compiled in (cargo feature `zarr`)",
            )
            .with_path(path)),
            None => Err(Error::invalid(
                "not an npy-stack directory (no `info` file) nor a Zarr array (no zarr.json)",
            )
            .with_path(path)),
        }
    }

    /// Assemble shards (in order along the first axis) into one logical array. Each shard's
    /// byte length must be whole rows of `shape`, and they must add up to the whole array.
    fn new(
        path: &Path,
        layout: Layout,
        dtype: DType,
        shape: Vec<usize>,
        shards: Vec<Shard>,
    ) -> Result<Partitioned> {
        let mut starts = Vec::with_capacity(shards.len() + 1);
        let mut offset = 0usize;
        for shard in &shards {
            starts.push(offset);
            offset = offset
                .checked_add(shard.len())
                .ok_or_else(|| Error::invalid("array size overflows").with_path(path))?;
        }
        starts.push(offset);
        let expected = shape
            .iter()
            .try_fold(dtype.itemsize(), |n, &d| n.checked_mul(d))
            .ok_or_else(|| Error::invalid("array size overflows").with_path(path))?;
        if offset != expected {
            return Err(Error::invalid(format!(
                "shards hold {offset} bytes but shape {shape:?} of {} needs {expected}",
                dtype.descr()
            ))
            .with_path(path));
        }
        Ok(Partitioned {
            path: path.to_path_buf(),
            layout,
            dtype,
            shape,
            shards,
            starts,
        })
    }

    /// The directory's layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Number of shards (files, or chunks along the first axis).
    pub fn num_shards(&self) -> usize {
        self.shards.len()
    }

    /// The byte range of each shard in the logical data.
    pub fn shard_bytes(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.starts.windows(2).map(|w| w[0]..w[1])
    }

    /// Index of the shard holding logical byte `offset` (the last shard for the end).
    fn shard_of(&self, offset: usize) -> usize {
        self.starts[1..]
            .partition_point(|&end| end <= offset)
            .min(self.shards.len().saturating_sub(1))
    }

    /// Call `f(shard, range_in_shard)` for the pieces of the logical byte `range`, in order.
    fn pieces(&self, range: Range<usize>, mut f: impl FnMut(&Shard, Range<usize>)) {
        let mut pos = range.start;
        while pos < range.end {
            let i = self.shard_of(pos);
            let (start, end) = (self.starts[i], self.starts[i + 1]);
            let stop = range.end.min(end);
            if stop > pos {
                f(&self.shards[i], pos - start..stop - start);
            }
            if end <= pos {
                break;
            }
            pos = stop;
        }
    }
}

impl Source for Partitioned {
    fn path(&self) -> &Path {
        &self.path
    }
    fn dtype(&self) -> DType {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn order(&self) -> Order {
        Order::C
    }
    fn data(&self, range: Range<usize>) -> Cow<'_, [u8]> {
        if range.is_empty() {
            return Cow::Borrowed(&[]);
        }
        let i = self.shard_of(range.start);
        if let Shard::Mapped(file) = &self.shards[i]
            && range.end <= self.starts[i + 1]
        {
            let start = self.starts[i];
            return Cow::Borrowed(&file.bytes()[range.start - start..range.end - start]);
        }
        // A block straddling shards (or a fill): copied, at most one block (~1 MiB).
        let mut out = Vec::with_capacity(range.len());
        self.pieces(range, |shard, r| match shard {
            Shard::Mapped(file) => out.extend_from_slice(&file.bytes()[r]),
            Shard::Fill { element, .. } => {
                let size = element.len().max(1);
                out.extend((r.start..r.end).map(|k| element[k % size]));
            }
        });
        Cow::Owned(out)
    }
    fn will_need(&self, range: Range<usize>) {
        self.pieces(range, |shard, r| {
            if let Shard::Mapped(file) = shard {
                file.will_need(r.start, r.len());
            }
        });
    }
    fn release(&self, range: Range<usize>) {
        self.pieces(range, |shard, r| {
            if let Shard::Mapped(file) = shard {
                file.release(r.start, r.len());
            }
        });
    }
}

/// Write the logical array `input` (a partitioned array, or any [`Source`]) to one C-order
/// `.npy` file at `output`, copying in parallel pieces; atomic like every output.
pub fn to_npy(
    input: &dyn Source,
    output: &Path,
    overwrite: crate::write::Overwrite,
    progress: crate::ops::Progress<'_>,
) -> Result<crate::convert::Report> {
    use rayon::prelude::*;
    const PIECE: usize = 8 << 20;
    if input.order() != Order::C && !crate::ops::stream::orders_coincide(input.shape()) {
        return Err(
            Error::invalid("only C-order inputs are supported here").with_path(input.path())
        );
    }
    let mut file = NpyFile::create(output, input.dtype(), input.shape(), Order::C)?;
    file.bytes_mut()?
        .par_chunks_mut(PIECE)
        .enumerate()
        .for_each(|(k, piece)| npy_stack::copy_into(input, k * PIECE, piece, progress));
    file.persist_with(overwrite)?;
    let bytes = (input.len() * input.dtype().itemsize()) as u64;
    Ok(crate::convert::Report {
        rows: input.shape().first().copied().unwrap_or(1) as u64,
        bytes_in: bytes,
        bytes_out: bytes,
    })
}

/// Open `path` for the engine: a partitioned array when it is a directory [`detect`]
/// recognises, otherwise an `.npy` file.
pub fn open_source(path: impl AsRef<Path>) -> Result<Box<dyn Source>> {
    let path = path.as_ref();
    if detect(path).is_some() {
        Ok(Box::new(Partitioned::open(path)?))
    } else {
        Ok(Box::new(NpyFile::open(path)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Shards of whole `u16` elements, each filled with its own element, laid end to end.
    fn filled(rows: &[usize]) -> (Partitioned, Vec<u8>) {
        let dtype = DType::parse("<u2").unwrap();
        let mut naive = Vec::new();
        let shards = rows
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let element = vec![i as u8, 0x80 | i as u8];
                for _ in 0..n * 3 {
                    naive.extend_from_slice(&element);
                }
                Shard::Fill {
                    element,
                    len: n * 3 * 2,
                }
            })
            .collect();
        let total = rows.iter().sum();
        let p =
            Partitioned::new(Path::new("t"), Layout::Zarr, dtype, vec![total, 3], shards).unwrap();
        (p, naive)
    }

    proptest! {
        #[test]
        fn data_of_any_range_is_the_concatenation(
            rows in proptest::collection::vec(0usize..5, 1..6),
            a in 0usize..200,
            b in 0usize..200,
        ) {
            let (p, naive) = filled(&rows);
            let (lo, hi) = (a.min(b).min(naive.len()), a.max(b).min(naive.len()));
            prop_assert_eq!(&*p.data(lo..hi), &naive[lo..hi]);
            let mut seen = 0;
            p.pieces(lo..hi, |_, r| seen += r.len());
            prop_assert_eq!(seen, hi - lo);
        }
    }

    #[test]
    fn shards_must_add_up_to_the_shape() {
        let dtype = DType::parse("<u2").unwrap();
        let shards = vec![Shard::Fill {
            element: vec![0, 0],
            len: 4,
        }];
        let err = Partitioned::new(Path::new("t"), Layout::Zarr, dtype, vec![3], shards)
            .unwrap_err()
            .to_string();
        assert!(err.contains("shards hold 4 bytes"), "{err}");
    }
}
