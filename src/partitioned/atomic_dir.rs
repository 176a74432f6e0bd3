//! Atomic output directories: a partitioned array is built in a temporary directory next to
//! its target and renamed into place only when every file in it is complete and on disk, so
//! the target holds either nothing (or what was there before) or the whole array.

use std::fs::File;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::write::{Overwrite, TEMP_SUFFIX};

/// A directory being built at a temporary name, renamed onto its target by
/// [`AtomicDir::commit`]; dropped unfinished, it is removed with its contents.
#[derive(Debug)]
pub struct AtomicDir {
    temp: Option<TempDir>,
    target: PathBuf,
}

impl AtomicDir {
    /// Start building a directory that will become `target`.
    pub fn new(target: impl AsRef<Path>) -> Result<AtomicDir> {
        let target = target.as_ref().to_path_buf();
        let name = target
            .file_name()
            .ok_or_else(|| Error::invalid("output path has no file name").with_path(&target))?
            .to_string_lossy()
            .into_owned();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(TEMP_SUFFIX)
            .tempdir_in(parent(&target))
            .map_err(|e| Error::io("create temporary directory", e))
            .at(&target)?;
        Ok(AtomicDir {
            temp: Some(temp),
            target,
        })
    }

    /// The temporary directory to write into.
    pub fn path(&self) -> &Path {
        self.temp
            .as_ref()
            .map(TempDir::path)
            .unwrap_or(self.target.as_path())
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// fsync every file and directory in the tree, rename it onto the target and fsync the
    /// parent. With [`Overwrite::Replace`] an existing target (file or directory) is moved
    /// aside first and removed after the rename; with [`Overwrite::Refuse`] it is an error.
    pub fn commit(&mut self, overwrite: Overwrite) -> Result<()> {
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let result = self.commit_inner(&temp, overwrite);
        if result.is_ok() {
            // Renamed away: nothing left for TempDir to remove.
            let _ = temp.keep();
        } else {
            self.temp = Some(temp);
        }
        result.at(&self.target)
    }

    fn commit_inner(&self, temp: &TempDir, overwrite: Overwrite) -> Result<()> {
        sync_tree(temp.path())?;
        let exists = std::fs::symlink_metadata(&self.target).is_ok();
        let mut old = None;
        if exists {
            if overwrite == Overwrite::Refuse {
                return Err(Error::new(ErrorKind::OutputExists));
            }
            let aside = tempfile::Builder::new()
                .prefix(".old.")
                .suffix(TEMP_SUFFIX)
                .tempdir_in(parent(&self.target))
                .map_err(|e| Error::io("create temporary directory", e))?
                .keep();
            let aside = aside.join("old");
            std::fs::rename(&self.target, &aside).map_err(|e| Error::io("rename", e))?;
            old = Some(aside);
        }
        let renamed =
            std::fs::rename(temp.path(), &self.target).map_err(|e| Error::io("rename", e));
        if let Some(old) = &old {
            if renamed.is_err() {
                // Put the old target back; the new tree stays in its temporary directory.
                let _ = std::fs::rename(old, &self.target);
            } else if old.is_dir() {
                let _ = std::fs::remove_dir_all(old);
            } else {
                let _ = std::fs::remove_file(old);
            }
            if let Some(holder) = old.parent() {
                let _ = std::fs::remove_dir_all(holder);
            }
        }
        renamed?;
        crate::write::sync_dir(parent(&self.target))
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsync every regular file and directory under `dir` (files first, then their directory).
fn sync_tree(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io("read directory", e))? {
        let entry = entry.map_err(|e| Error::io("read directory", e))?;
        let kind = entry.file_type().map_err(|e| Error::io("stat", e))?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            File::open(entry.path())
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io("fsync", e))?;
        }
    }
    crate::write::sync_dir(dir)
}
