//! Array operations that select or rearrange elements: basic-indexing slices ([`SliceExpr`],
//! zero-copy views and streamed copies to a new file) and gathers along an axis ([`take`]).
//!
//! The file-to-file operations copy bytes, not values: they work for every dtype, keep the
//! input's byte order, write through [`NpyFile::create`] + persist (never a partial output),
//! and walk the input window by window, releasing pages behind them, so resident memory stays
//! bounded whatever the file size.
//!
//! Output memory order: C, unless the input is Fortran-ordered, in which case the output is
//! Fortran too — what numpy's `a[expr].copy(order='K')` gives for a sliced Fortran array.

mod expr;
mod slice;
mod take;

use std::path::Path;

pub use expr::{AxisSelection, IndexItem, Selection, SliceExpr, resolve_slice};
pub use slice::slice_to_file;
pub use take::{Indices, take_to_file};

use crate::array::NpyFile;
use crate::error::{Error, ErrorKind, Result};
use crate::write::Overwrite;

/// How a file-producing operation writes its output.
#[derive(Clone, Copy, Default)]
pub struct OutputOptions<'a> {
    overwrite: Overwrite,
    progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl std::fmt::Debug for OutputOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputOptions")
            .field("overwrite", &self.overwrite)
            .field("progress", &self.progress.is_some())
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

    pub(crate) fn overwrite_mode(&self) -> Overwrite {
        self.overwrite
    }

    pub(crate) fn report(&self, bytes: usize) {
        if let Some(progress) = self.progress {
            progress(bytes as u64);
        }
    }

    /// Refuse an existing output (unless replacing) and, always, an output that is the input.
    pub(crate) fn check_output(&self, input: &NpyFile, out: &Path) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let Ok(out_meta) = std::fs::metadata(out) else {
            return Ok(());
        };
        if let Ok(in_meta) = std::fs::metadata(input.path())
            && in_meta.dev() == out_meta.dev()
            && in_meta.ino() == out_meta.ino()
        {
            return Err(
                Error::invalid("the output is the input file; write to another path")
                    .with_path(out),
            );
        }
        if self.overwrite == Overwrite::Refuse {
            return Err(Error::new(ErrorKind::OutputExists).with_path(out));
        }
        Ok(())
    }
}

/// Output windows hold about this many bytes: their pages are released once written.
const OUT_WINDOW_BYTES: usize = crate::engine::WINDOW_BYTES;
