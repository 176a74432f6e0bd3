//! `.npz` archives (numpy's `np.savez` / `np.savez_compressed`): list the members, open a
//! stored member as a zero-copy mapped array, read or extract any member by streaming.
//!
//! An `.npz` is a zip file whose members are complete `.npy` files named `NAME.npy`. A member
//! written without compression (`np.savez`) is a plain byte range of the archive, so mmnpy maps
//! it in place ([`NpzArchive::open_member`]); numpy silently ignores `mmap_mode` for `.npz`
//! (numpy issue #5976) and reads it into memory. A compressed member (`np.savez_compressed`)
//! is inflated as a stream: [`extract_member`] copies it to an `.npy` file with bounded memory,
//! [`NpzArchive::read_member`] reads it into an owned array.
//!
//! Member names are accepted with or without their `.npy` suffix.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use zip::{CompressionMethod, ZipArchive};

use crate::array::{NpyFile, open_embedded, open_regular_file};
use crate::convert::{Report, check_output};
use crate::dtype::Element;
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::header::{DEFAULT_MAX_HEADER_SIZE, Header};
use crate::read::read_data;
use crate::write::{AtomicFile, Overwrite};

/// One member of an `.npz` archive, with its `.npy` header.
#[derive(Clone, Debug)]
pub struct Member {
    name: String,
    entry: String,
    index: usize,
    header: Header,
    compressed: bool,
    compressed_size: u64,
    size: u64,
    data_start: Option<u64>,
}

impl Member {
    /// The array's name: the zip entry name without `.npy` (the key `np.load` gives).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zip entry name as stored (usually `NAME.npy`).
    pub fn entry_name(&self) -> &str {
        &self.entry
    }

    /// The member's `.npy` header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// True when the member is compressed (`np.savez_compressed`); false when stored.
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// Bytes the member takes in the archive.
    pub fn compressed_size(&self) -> u64 {
        self.compressed_size
    }

    /// Bytes of the member's `.npy` file (header and data).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// For a stored member, the offset in the archive where its `.npy` bytes start.
    pub fn archive_offset(&self) -> Option<u64> {
        if self.compressed {
            None
        } else {
            self.data_start
        }
    }

    /// For a stored member, the offset in the archive of its first data byte. Typed zero-copy
    /// access needs it to be a multiple of the element's alignment (numpy does not align
    /// members; otherwise open it untyped or use [`NpzArchive::read_member`]).
    pub fn data_offset_in_archive(&self) -> Option<u64> {
        self.archive_offset().map(|o| o + self.header.data_offset())
    }
}

/// An open `.npz` archive: its members and their headers, read once at open.
#[derive(Debug)]
pub struct NpzArchive {
    path: PathBuf,
    members: Vec<Member>,
}

fn zip_error(e: zip::result::ZipError) -> Error {
    match e {
        zip::result::ZipError::Io(e) => Error::io("read archive", e),
        other => Error::invalid(format!("not a valid npz (zip) archive: {other}")),
    }
}

fn open_zip(path: &Path) -> Result<ZipArchive<File>> {
    let file = open_regular_file(path, false)?;
    crate::map::lock(&file, false)?;
    ZipArchive::new(file).map_err(zip_error)
}

impl NpzArchive {
    /// Open an archive and read the header of every member. A member that is not an `.npy`
    /// of a supported dtype is an error naming it.
    pub fn open(path: impl AsRef<Path>) -> Result<NpzArchive> {
        let path = path.as_ref();
        NpzArchive::open_inner(path).at(path)
    }

    fn open_inner(path: &Path) -> Result<NpzArchive> {
        let mut zip = open_zip(path)?;
        let mut members = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            let mut entry = zip.by_index(index).map_err(zip_error)?;
            if entry.is_dir() {
                continue;
            }
            let entry_name = entry.name().map_err(zip_error)?.into_owned();
            let compressed = entry.compression() != CompressionMethod::Stored;
            let (compressed_size, size, data_start) =
                (entry.compressed_size(), entry.size(), entry.data_start());
            let header = Header::read_from(&mut entry, DEFAULT_MAX_HEADER_SIZE, Some(size))
                .map_err(|e| Error::invalid(format!("member {entry_name:?}: {e}")))?;
            members.push(Member {
                name: entry_name
                    .strip_suffix(".npy")
                    .unwrap_or(&entry_name)
                    .to_string(),
                entry: entry_name,
                index,
                header,
                compressed,
                compressed_size,
                size,
                data_start,
            });
        }
        Ok(NpzArchive {
            path: path.to_path_buf(),
            members,
        })
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The members, in archive order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The member called `name` (with or without `.npy`), or an error listing the members.
    pub fn member(&self, name: &str) -> Result<&Member> {
        find_member(&self.members, name).at(&self.path)
    }

    /// Open a stored (uncompressed) member as a zero-copy, read-only mapped array. Use
    /// [`NpyFile::into_typed`] for typed views: it refuses (rather than copies) data that is
    /// not aligned for the element type. A compressed member is an error: read it with
    /// [`read_member`](NpzArchive::read_member) or [`extract_member`] instead.
    pub fn open_member(&self, name: &str) -> Result<NpyFile> {
        let member = self.member(name)?;
        let Some(offset) = member.archive_offset() else {
            return Err(Error::invalid(format!(
                "member {:?} is compressed and cannot be mapped: read it (read_member) or extract it",
                member.name
            ))
            .with_path(&self.path));
        };
        open_embedded(&self.path, offset, member.size)
    }

    /// Read a member (compressed or not) into an owned array, inflating it as a stream. The
    /// member's scalar type must be `T`'s; a non-native byte order is converted.
    pub fn read_member<T: Element>(&self, name: &str) -> Result<ArrayD<T>> {
        let member = self.member(name)?;
        let read = || -> Result<ArrayD<T>> {
            let mut zip = open_zip(&self.path)?;
            let mut entry = zip.by_index(member.index).map_err(zip_error)?;
            let header = Header::read_from(&mut entry, DEFAULT_MAX_HEADER_SIZE, Some(member.size))?;
            let end = header.end()?;
            if end > member.size {
                return Err(ErrorKind::Truncated {
                    what: "member data",
                    needed: end,
                    found: member.size,
                }
                .into());
            }
            // The zip directory's sizes are not verified until the member is read: let the
            // buffer grow with the bytes that really arrive.
            let array = read_data(&mut entry, &header, false)
                .map_err(|e| Error::invalid(format!("member {:?}: {e}", member.name)))?;
            // Read to the end so the zip reader checks the CRC.
            io::copy(&mut entry, &mut io::sink()).map_err(|e| Error::io("read member", e))?;
            Ok(array)
        };
        read().at(&self.path)
    }
}

fn find_member<'a>(members: &'a [Member], name: &str) -> Result<&'a Member> {
    let bare = name.strip_suffix(".npy").unwrap_or(name);
    members
        .iter()
        .find(|m| m.entry == name || m.name == bare)
        .ok_or_else(|| {
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            Error::invalid(format!(
                "no member {name:?} in the archive (members: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ))
        })
}

/// A reader that keeps a copy of what it has read, to write a member's header bytes verbatim.
struct Recording<'a, R> {
    inner: &'a mut R,
    seen: Vec<u8>,
}

impl<R: Read> Read for Recording<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Bytes inflated (or copied) between two progress reports.
const COPY_BLOCK: usize = 1 << 20;

/// `io::copy` a block at a time, reporting each block written.
fn copy_reporting(
    from: &mut impl Read,
    to: &mut impl Write,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<u64> {
    let mut block = vec![0u8; COPY_BLOCK];
    let mut copied = 0u64;
    loop {
        let n = match from.read(&mut block) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&block[..n])?;
        copied += n as u64;
        progress(n as u64);
    }
}

/// Extract one member of an `.npz` to an `.npy` file, byte for byte, streaming (a compressed
/// member is inflated through a fixed buffer, never loaded whole). The member's header is
/// validated and its length checked; the zip CRC is verified.
pub fn extract_member(
    input: &Path,
    member: &str,
    output: &Path,
    overwrite: Overwrite,
) -> Result<Report> {
    extract_member_with_progress(input, member, output, overwrite, &|_| {})
}

/// [`extract_member`], calling `progress(bytes)` with the member bytes written as they are
/// inflated or copied (a block at a time): the calls add up to the member's size
/// ([`Member::size`]), the length of the extracted `.npy` file.
pub fn extract_member_with_progress(
    input: &Path,
    member: &str,
    output: &Path,
    overwrite: Overwrite,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report> {
    check_output(output, &[input], overwrite)?;
    let archive = NpzArchive::open(input)?;
    let found = archive.member(member)?.clone();
    let mut zip = open_zip(input).at(input)?;
    let mut entry = zip.by_index(found.index).map_err(zip_error).at(input)?;
    let mut recording = Recording {
        inner: &mut entry,
        seen: Vec::new(),
    };
    let header = Header::read_from(&mut recording, DEFAULT_MAX_HEADER_SIZE, Some(found.size))
        .map_err(|e| Error::invalid(format!("member {:?}: {e}", found.name)))
        .at(input)?;
    let head = std::mem::take(&mut recording.seen);
    let mut out = io::BufWriter::with_capacity(1 << 20, AtomicFile::new(output)?);
    let copied = (|| -> Result<u64> {
        out.write_all(&head).map_err(|e| Error::io("write", e))?;
        progress(head.len() as u64);
        let rest = copy_reporting(&mut entry, &mut out, progress)
            .map_err(|e| Error::io("copy member", e))?;
        Ok(head.len() as u64 + rest)
    })()
    .at(output)?;
    let end = header.end().at(input)?;
    if copied < end {
        return Err(Error::new(ErrorKind::Truncated {
            what: "data",
            needed: end,
            found: copied,
        })
        .with_path(input));
    }
    let mut out = out
        .into_inner()
        .map_err(|e| Error::io("write", e.into_error()).with_path(output))?;
    out.commit(overwrite)?;
    Ok(Report {
        rows: header.shape().first().map_or(1, |&n| n as u64),
        bytes_in: found.compressed_size,
        bytes_out: copied,
    })
}
