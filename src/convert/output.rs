//! Checks every conversion makes on its output path before doing any work: not an existing
//! file unless overwriting was asked for, and never one of the inputs.

use std::path::Path;

use crate::error::{Error, ErrorKind, Result};
use crate::write::Overwrite;

/// Refuse `output` if it exists (with [`Overwrite::Refuse`]) or is the same file as one of
/// `inputs` (same device and inode, so links and other spellings are caught). The atomic
/// commit checks existence again at the end, so this is an early, friendly error.
pub fn check_output(output: &Path, inputs: &[&Path], overwrite: Overwrite) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(out) = std::fs::metadata(output) else {
        return Ok(());
    };
    for input in inputs {
        if let Ok(meta) = std::fs::metadata(input)
            && meta.dev() == out.dev()
            && meta.ino() == out.ino()
        {
            return Err(Error::invalid(format!(
                "the output is the input {}: write to another file",
                input.display()
            ))
            .with_path(output));
        }
    }
    if overwrite == Overwrite::Refuse {
        return Err(Error::new(ErrorKind::OutputExists).with_path(output));
    }
    Ok(())
}
