//! Array operations that select, rearrange or grow arrays:
//! - basic-indexing slices ([`SliceExpr`], zero-copy views and streamed copies to a new file)
//!   and gathers along an axis (into a new file, [`take_to_file`], or into memory, [`take`]);
//! - casts ([`cast`], safe or numpy's `astype`), concatenation ([`concatenate`]), crash-safe
//!   in-place [`append()`] and the streaming writer for arrays of unknown length ([`NpyWriter`]).
//!
//! The slice and gather file-to-file operations copy bytes, not values: they work for every
//! dtype and keep the input's byte order. The output is made by [`NpyFile::create`] (a
//! temporary next to the target) and filled with parallel `pwrite`s of per-thread blocks, then
//! persisted (fsync, rename), so a failure never leaves a partial output. The input is read
//! window by window through its mapping, with the next window announced (`MADV_WILLNEED`) and
//! finished windows released, so resident memory stays bounded whatever the file size; a
//! random gather from a big file walks the mapping once in source order, releasing pages
//! behind it (see [`take_to_file`]).
//!
//! Output memory order of slices and gathers: C, unless the input is Fortran-ordered, in which
//! case the output is Fortran too — what numpy's `a[expr].copy(order='K')` gives for a sliced
//! Fortran array.
//!
//! Casts, concatenation and appends stream with bounded memory through `stream` (the engine's
//! streaming skeleton, blocks of output taken in order without a barrier per window) and write
//! through [`AtomicFile`](crate::AtomicFile) (or, for an in-place append, in the crash-safe
//! order described in [`mod@append`]).

pub mod append;
pub mod cast;
mod cat;
mod expr;
mod slice;
pub(crate) mod stream;
mod take;
mod writer;

use std::path::Path;

pub use expr::{AxisSelection, IndexItem, Selection, SliceExpr, resolve_slice};
pub use slice::slice_to_file;
pub use take::{Indices, take, take_to_file};

pub use append::append;
pub use cast::CastMode;
pub use cat::{CatOptions, concatenate};
pub use writer::NpyWriter;

/// A progress callback: called from time to time with the bytes just processed.
pub type Progress<'a> = Option<&'a (dyn Fn(u64) + Sync)>;

use crate::array::NpyFile;
use crate::error::Result;
use crate::write::Overwrite;

/// How a file-producing operation writes its output.
#[derive(Clone, Copy)]
pub struct OutputOptions<'a> {
    overwrite: Overwrite,
    progress: Option<&'a (dyn Fn(u64) + Sync)>,
    bounded_memory: bool,
    /// Tests only: take the sorted gather whatever the input size, with these (staging,
    /// group) byte sizes, so small files exercise every part of it.
    sorted_gather: Option<(usize, usize)>,
}

impl Default for OutputOptions<'_> {
    fn default() -> Self {
        OutputOptions {
            overwrite: Overwrite::Replace,
            progress: None,
            bounded_memory: true,
            sorted_gather: None,
        }
    }
}

impl std::fmt::Debug for OutputOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputOptions")
            .field("overwrite", &self.overwrite)
            .field("progress", &self.progress.is_some())
            .field("bounded_memory", &self.bounded_memory)
            .finish()
    }
}

impl<'a> OutputOptions<'a> {
    /// Replace an existing output, no progress reports.
    pub fn new() -> OutputOptions<'a> {
        OutputOptions::default()
    }

    /// What to do when the output exists (checked before any work and again at the rename).
    pub fn overwrite(mut self, overwrite: Overwrite) -> OutputOptions<'a> {
        self.overwrite = overwrite;
        self
    }

    /// Call `progress(bytes)` as output bytes are written.
    pub fn progress(mut self, progress: &'a (dyn Fn(u64) + Sync)) -> OutputOptions<'a> {
        self.progress = Some(progress);
        self
    }

    /// Keep resident memory bounded (default: yes). Only a random gather from a big file
    /// ([`take_to_file`]) has a choice: bounded, it copies the rows from the mapping in
    /// source order, releasing pages behind it, and parks them in the output file (~195 MiB
    /// resident for 1M rows of a 4 GiB file); unbounded, it copies them in output order from
    /// the mapping (the touched pages of the input — up to the whole file — count as resident
    /// until the copy ends). The output is the same.
    pub fn bounded_memory(mut self, bounded: bool) -> OutputOptions<'a> {
        self.bounded_memory = bounded;
        self
    }

    /// Force the sorted gather of [`take_to_file`] with tiny buffers (tests).
    #[cfg(test)]
    pub(crate) fn force_sorted_gather(mut self, stage_bytes: usize, group_bytes: usize) -> Self {
        self.sorted_gather = Some((stage_bytes, group_bytes));
        self
    }

    pub(crate) fn sorted_gather(&self) -> Option<(usize, usize)> {
        self.sorted_gather
    }

    pub(crate) fn is_bounded(&self) -> bool {
        self.bounded_memory
    }

    pub(crate) fn overwrite_mode(&self) -> Overwrite {
        self.overwrite
    }

    pub(crate) fn progress_hook(&self) -> Option<&'a (dyn Fn(u64) + Sync)> {
        self.progress
    }

    pub(crate) fn report(&self, bytes: usize) {
        if let Some(progress) = self.progress {
            progress(bytes as u64);
        }
    }

    /// Refuse an existing output (unless replacing) and, always, an output that is the input.
    pub(crate) fn check_output(&self, input: &NpyFile, out: &Path) -> Result<()> {
        crate::convert::check_output(out, &[input.path()], self.overwrite)
    }
}

/// Output windows hold about this many bytes: their pages are released once written.
const OUT_WINDOW_BYTES: usize = crate::engine::WINDOW_BYTES;
