//! Atomic output files: everything mmnpy writes is built at a temporary name in the target's
//! directory, fsynced, renamed into place, and the directory fsynced, so a crash at any moment
//! leaves either no file or the complete one at the target.
//!
//! Temporaries are named `.{target}.XXXXXX.mmnpy-tmp`; one is removed when its writer is
//! dropped unfinished, and only a kill leaves one behind.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::TempPath;

use crate::error::{Error, ErrorKind, Result, ResultExt};

/// Suffix of every temporary file mmnpy creates.
pub const TEMP_SUFFIX: &str = ".mmnpy-tmp";

/// What to do when the target already exists at commit time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Replace it atomically.
    #[default]
    Replace,
    /// Fail with [`ErrorKind::OutputExists`] and leave it alone.
    Refuse,
}

/// A file being written at a temporary name, renamed onto its target by [`AtomicFile::commit`].
pub struct AtomicFile {
    file: File,
    temp: Option<TempPath>,
    target: PathBuf,
}

impl AtomicFile {
    /// Start writing a file that will become `target`.
    pub fn new(target: impl AsRef<Path>) -> Result<AtomicFile> {
        let target = target.as_ref().to_path_buf();
        let dir = parent_dir(&target);
        let name = target
            .file_name()
            .ok_or_else(|| Error::invalid("output path has no file name").with_path(&target))?
            .to_string_lossy()
            .into_owned();
        let named = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(TEMP_SUFFIX)
            // A normal new file's mode (subject to the umask), not tempfile's private 0600.
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(|e| Error::io("create temporary file", e))
            .at(&target)?;
        let (file, temp) = named.into_parts();
        Ok(AtomicFile {
            file,
            temp: Some(temp),
            target,
        })
    }

    /// The file being written.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The file being written, mutably.
    pub fn file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    /// Where the file will end up.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary path while uncommitted.
    pub fn temp_path(&self) -> Option<&Path> {
        self.temp.as_deref()
    }

    /// Rebuild from the pieces taken by [`into_parts`](AtomicFile::into_parts).
    pub(crate) fn from_parts(file: File, temp: TempPath, target: PathBuf) -> AtomicFile {
        AtomicFile {
            file,
            temp: Some(temp),
            target,
        }
    }

    /// The open file and its temporary path (`None` once committed), for writers that keep
    /// the file open themselves (a `w+` mapping).
    pub(crate) fn into_parts(self) -> (File, Option<TempPath>) {
        (self.file, self.temp)
    }

    /// fsync the data, rename onto the target, fsync the directory. Idempotent.
    pub fn commit(&mut self, overwrite: Overwrite) -> Result<()> {
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let target = self.target.clone();
        let fail = |e: Error, temp: TempPath, slot: &mut Option<TempPath>| {
            *slot = Some(temp);
            Err(e.with_path(&target))
        };
        if let Err(e) = self.file.sync_all() {
            return fail(Error::io("sync", e), temp, &mut self.temp);
        }
        let renamed = match overwrite {
            Overwrite::Replace => temp.persist(&target),
            Overwrite::Refuse => temp.persist_noclobber(&target),
        };
        if let Err(e) = renamed {
            let err = if e.error.kind() == io::ErrorKind::AlreadyExists {
                ErrorKind::OutputExists.into()
            } else {
                Error::io("rename into place", e.error)
            };
            return fail(err, e.path, &mut self.temp);
        }
        sync_dir(parent_dir(&target)).at(&target)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The directory a path lives in (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsync a directory so a rename in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync directory", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let mut f = AtomicFile::new(&target).unwrap();
        f.write_all(b"hello").unwrap();
        assert!(!target.exists());
        f.commit(Overwrite::Refuse).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"hello");

        let mut g = AtomicFile::new(&target).unwrap();
        g.write_all(b"other").unwrap();
        let e = g.commit(Overwrite::Refuse).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::OutputExists));
        drop(g);
        assert_eq!(std::fs::read(&target).unwrap(), b"hello");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary left behind"
        );
    }
}
