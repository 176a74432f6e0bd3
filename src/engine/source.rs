//! What the engine reads from: one logical array's data bytes in memory order, however they
//! are stored. A single `.npy` file is one mapping; a partitioned array (a Dask npy-stack
//! directory, an uncompressed Zarr array) is several shards laid end to end.
//!
//! The engine's blocks are defined over the logical array (see
//! [`ChunkPlan`](crate::engine::ChunkPlan)), never over the shards, so a reduction over a
//! partitioned array sees exactly the same blocks, and gives the same bits, as over the
//! single file holding the same data.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use crate::array::NpyFile;
use crate::dtype::DType;
use crate::header::Order;

/// A logical array whose data bytes the engine can read by range.
pub trait Source: Sync {
    /// The path named in errors (the file, or the directory of a partitioned array).
    fn path(&self) -> &Path;
    /// The element type (with its byte order).
    fn dtype(&self) -> DType;
    /// The logical shape.
    fn shape(&self) -> &[usize];
    /// The memory order of the data bytes.
    fn order(&self) -> Order;
    /// The data bytes `range` (relative to the start of the data): borrowed from a mapping
    /// when they lie in one shard, copied when a range straddles shards.
    fn data(&self, range: Range<usize>) -> Cow<'_, [u8]>;
    /// Ask the kernel to read `range` ahead (a hint; never fails).
    fn will_need(&self, range: Range<usize>);
    /// Drop the pages of `range` from this process's resident set (a hint; never fails).
    fn release(&self, range: Range<usize>);

    /// Number of dimensions.
    fn ndim(&self) -> usize {
        self.shape().len()
    }
    /// Number of elements.
    fn len(&self) -> usize {
        self.shape().iter().product()
    }
    /// True when the array has no elements.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Source for NpyFile {
    fn path(&self) -> &Path {
        NpyFile::path(self)
    }
    fn dtype(&self) -> DType {
        NpyFile::dtype(self)
    }
    fn shape(&self) -> &[usize] {
        NpyFile::shape(self)
    }
    fn order(&self) -> Order {
        NpyFile::order(self)
    }
    fn data(&self, range: Range<usize>) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes()[range])
    }
    fn will_need(&self, range: Range<usize>) {
        NpyFile::will_need(self, range.start, range.len());
    }
    fn release(&self, range: Range<usize>) {
        NpyFile::release(self, range.start, range.len());
    }
}
