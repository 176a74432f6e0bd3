//! The module that owns every `unsafe` touching memory (the only other `unsafe` is the CPU-checked
//! SIMD call in `engine::simd`): file mappings, their access advice, and the advisory locks that
//! make mapping a shared file defensible.
//!
//! # Why mapping is exposed through safe functions
//! A mapping of a file is sound only while nobody truncates or changes the file underneath it
//! behind Rust's back. mmnpy cannot enforce that for non-cooperating processes, so memmap2
//! marks its constructors `unsafe`. We accept the hazard here, in one place, and shrink it:
//! every file is locked (shared for reading, exclusive for writing) before it is mapped, its
//! length is checked against the header before mapping, mmnpy never truncates a file it maps,
//! and it writes new files by rename so readers of an old file keep a valid inode. What remains
//! is a non-cooperating process truncating the file: that raises SIGBUS, which the safety docs
//! (SAFETY.md) state plainly.

use std::fs::File;
use std::io;

use memmap2::{Advice, Mmap, MmapMut, MmapOptions, UncheckedAdvice};

use crate::error::{Error, ErrorKind, Result};

/// How a region is mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Shared, read-only.
    ReadOnly,
    /// Shared, writable: writes reach the file.
    ReadWrite,
    /// Private, writable: writes stay in this process.
    CopyOnWrite,
}

/// A mapped byte range of a file, or nothing for a zero-length range (mmap of zero bytes is an
/// error on Linux, and empty arrays must work in every mode).
pub(crate) enum Region {
    Empty,
    ReadOnly(Mmap),
    Writable { map: MmapMut, shared: bool },
}

/// Map `len` bytes of `file` starting at byte `offset`.
///
/// The caller has checked that `offset + len` is within the file and holds the advisory lock
/// that matches `access`.
pub(crate) fn map(file: &File, offset: u64, len: usize, access: Access) -> Result<Region> {
    if len == 0 {
        return Ok(Region::Empty);
    }
    let mut options = MmapOptions::new();
    options.offset(offset).len(len);
    let mapped = match access {
        Access::ReadOnly => {
            // SAFETY: the file is locked (shared) by this process and its length was checked
            // against offset + len; mmnpy never truncates a mapped file. A non-cooperating
            // process truncating it is the documented residual hazard (module docs).
            let map = unsafe { options.map(file) };
            map.map(Region::ReadOnly)
        }
        Access::ReadWrite => {
            // SAFETY: as above, with an exclusive lock held for writing.
            let map = unsafe { options.map_mut(file) };
            map.map(|map| Region::Writable { map, shared: true })
        }
        Access::CopyOnWrite => {
            // SAFETY: as above; a private mapping never writes back to the file.
            let map = unsafe { options.map_copy(file) };
            map.map(|map| Region::Writable { map, shared: false })
        }
    };
    mapped.map_err(|e| Error::io("map", e))
}

impl Region {
    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Region::Empty => &[],
            Region::ReadOnly(m) => m,
            Region::Writable { map, .. } => map,
        }
    }

    /// The mapped bytes for writing, or `None` for a read-only mapping.
    pub(crate) fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        match self {
            Region::Empty => Some(&mut []),
            Region::ReadOnly(_) => None,
            Region::Writable { map, .. } => Some(map),
        }
    }

    /// Write dirty pages of a shared writable mapping back to the file (msync).
    pub(crate) fn flush(&self) -> io::Result<()> {
        match self {
            Region::Writable { map, shared: true } => map.flush(),
            _ => Ok(()),
        }
    }

    /// Tell the kernel how the range `[offset, offset + len)` will be read.
    pub(crate) fn advise(&self, advice: Advice, offset: usize, len: usize) {
        let len = len.min(self.bytes().len().saturating_sub(offset));
        if len == 0 {
            return;
        }
        // Advice is a hint: a kernel that refuses it changes speed, never results.
        let _ = match self {
            Region::Empty => Ok(()),
            Region::ReadOnly(m) => m.advise_range(advice, offset, len),
            Region::Writable { map, .. } => map.advise_range(advice, offset, len),
        };
    }

    /// Drop the pages of `[offset, offset + len)` from this process's resident set once they
    /// have been read, so a pass over a huge file keeps bounded memory. The data stays in the
    /// page cache (and in the file); the next access faults it back in. A no-op for private
    /// (copy-on-write) mappings, where it would discard this process's writes.
    pub(crate) fn release(&self, offset: usize, len: usize) {
        let len = len.min(self.bytes().len().saturating_sub(offset));
        if len == 0 {
            return;
        }
        let _ = match self {
            // SAFETY: MADV_DONTNEED on a shared file mapping only unmaps the pages; their
            // contents live on in the page cache and the file, and later reads fault them back
            // in unchanged, so no reference into the mapping observes different bytes.
            Region::ReadOnly(m) => unsafe {
                m.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, len)
            },
            // SAFETY: as above: the mapping is shared, so dirty pages are kept by the page
            // cache and written back as usual; nothing is discarded.
            Region::Writable { map, shared: true } => unsafe {
                map.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, len)
            },
            _ => Ok(()),
        };
    }

    /// Whether the page holding each byte offset in `offsets` is in the page cache (Linux
    /// `mincore`), counted: a caller choosing between random reads (cheap when cached, a
    /// synchronous disk read per page when not) and an in-order walk (the disk's way) asks
    /// about a sample. Offsets past the end, and every offset off Linux, count as not cached.
    pub(crate) fn count_cached(&self, offsets: impl IntoIterator<Item = usize>) -> usize {
        let bytes = self.bytes();
        #[cfg(target_os = "linux")]
        {
            // SAFETY: sysconf only reads a system constant.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let Ok(page) = usize::try_from(page) else {
                return 0;
            };
            offsets
                .into_iter()
                .filter(|&offset| offset < bytes.len())
                .filter(|&offset| {
                    // The start of the page holding `bytes[offset]`: inside this mapping,
                    // which starts on a page boundary at or before its first byte.
                    let at = (bytes.as_ptr() as usize + offset) / page * page;
                    let mut state = 0u8;
                    // SAFETY: the one page asked about (at `at`) is mapped; mincore writes one
                    // byte into `state` and changes nothing any reference could observe.
                    let done = unsafe { libc::mincore(at as *mut libc::c_void, 1, &mut state) };
                    done == 0 && state & 1 == 1
                })
                .count()
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (bytes, offsets);
            0
        }
    }
}

/// Take an advisory lock without waiting: shared (`exclusive == false`) or exclusive.
/// A conflicting lock held elsewhere is an immediate [`ErrorKind::Locked`].
pub(crate) fn lock(file: &File, exclusive: bool) -> Result<()> {
    let attempt = if exclusive {
        file.try_lock()
    } else {
        file.try_lock_shared()
    };
    match attempt {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(ErrorKind::Locked {
            held: if exclusive {
                "wanted an exclusive lock to write"
            } else {
                "wanted a shared lock to read"
            },
        }
        .into()),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io("lock", e)),
    }
}

/// Zero-filled anonymous memory of `len` bytes (at least one) for a big scratch buffer, asked
/// to be backed by huge pages (`MADV_HUGEPAGE`, honoured when transparent huge pages are
/// `madvise` or `always`): one fault per 2 MiB instead of per 4 KiB page, and no TLB misses
/// for random reads across it. Safe: anonymous memory is private to this process.
pub(crate) fn scratch(len: usize) -> Result<MmapMut> {
    let map = MmapMut::map_anon(len.max(1)).map_err(|e| Error::io("map", e))?;
    // A hint: without huge pages the buffer works the same, only slower to touch.
    let _ = map.advise(Advice::HugePage);
    Ok(map)
}

/// Ask for the pages of `buffer` (fresh heap memory not touched yet, such as a big zeroed
/// `Vec` that a gather is about to fill) to be backed by huge pages (`MADV_HUGEPAGE` on the
/// 2 MiB-aligned part of it): one fault and one clear per 2 MiB instead of per 4 KiB page.
/// A hint; without it (or off Linux) the buffer works the same, only slower to touch.
pub(crate) fn prefer_huge_pages(buffer: &mut [u8]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = buffer.as_mut_ptr() as usize;
        let (first, last) = (
            start.next_multiple_of(HUGE),
            (start + buffer.len()) / HUGE * HUGE,
        );
        if last > first {
            // SAFETY: `[first, last)` lies inside `buffer`, which is exclusively borrowed;
            // MADV_HUGEPAGE changes how the kernel backs those pages, never their contents,
            // so no reference observes a change. The result is ignored: it is a hint.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
}

/// A share of the rows of a buffer for one of several parallel writers: the rows named by its
/// `(source, destination row)` entries, which no other share of the same [`split_rows`] names.
///
/// This is how a gather scatters rows it reads in source order straight into their output
/// places from several threads at once, with no intermediate copy: safe Rust cannot split a
/// buffer into row sets that interleave, so the split is checked here once and the writes
/// are raw copies.
pub(crate) struct RowSlots<'a> {
    base: *mut u8,
    row_bytes: usize,
    entries: &'a [(usize, usize)],
    _buffer: std::marker::PhantomData<&'a mut [u8]>,
}

// SAFETY: a `RowSlots` writes only the destination rows of its own entries, and `split_rows`
// checked that no two entries of a split name the same row, so two shares used on two threads
// never touch the same bytes; the buffer stays exclusively borrowed (`'a`) meanwhile.
unsafe impl Send for RowSlots<'_> {}

impl<'a> RowSlots<'a> {
    /// The entries of this share, `(source, destination row)`.
    pub(crate) fn entries(&self) -> &'a [(usize, usize)] {
        self.entries
    }

    /// Write `row` (exactly one row of bytes) to the destination row of entry `k`.
    pub(crate) fn put(&mut self, k: usize, row: &[u8]) {
        let dest = self.entries[k].1;
        assert_eq!(row.len(), self.row_bytes, "a row of the wrong length");
        // SAFETY: `split_rows` checked `dest < rows` of the buffer, so the destination lies
        // inside it; no other share writes that row (distinct destinations, checked there);
        // `&mut self` rules out concurrent use of this share; `row` is a shared borrow, which
        // cannot point into the buffer while the buffer is exclusively borrowed.
        unsafe {
            std::ptr::copy_nonoverlapping(
                row.as_ptr(),
                self.base.add(dest * self.row_bytes),
                self.row_bytes,
            );
        }
    }
}

/// Split `buffer` (whole rows of `row_bytes`) among writers: one [`RowSlots`] per `group`
/// consecutive `entries` (`(source, destination row)`). `None` unless every destination row
/// lies in the buffer and no two entries name the same one (what makes the shares disjoint).
pub(crate) fn split_rows<'a>(
    buffer: &'a mut [u8],
    row_bytes: usize,
    entries: &'a [(usize, usize)],
    group: usize,
) -> Option<Vec<RowSlots<'a>>> {
    if row_bytes == 0 || group == 0 {
        return None;
    }
    let rows = buffer.len() / row_bytes;
    let mut seen = vec![0u64; rows.div_ceil(64)];
    for &(_, dest) in entries {
        if dest >= rows || seen[dest / 64] & (1 << (dest % 64)) != 0 {
            return None;
        }
        seen[dest / 64] |= 1 << (dest % 64);
    }
    let base = buffer.as_mut_ptr();
    Some(
        entries
            .chunks(group)
            .map(|entries| RowSlots {
                base,
                row_bytes,
                entries,
                _buffer: std::marker::PhantomData,
            })
            .collect(),
    )
}

/// Re-export so callers can name advice without depending on memmap2 directly.
pub(crate) use memmap2::Advice as MapAdvice;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_rows_refuses_shared_or_outside_destinations() {
        let mut buffer = vec![0u8; 8];
        assert!(split_rows(&mut buffer, 2, &[(0, 1), (0, 1)], 1).is_none());
        assert!(split_rows(&mut buffer, 2, &[(0, 4)], 1).is_none());
        assert!(split_rows(&mut buffer, 0, &[], 1).is_none());
        let entries = [(7, 3), (8, 0), (9, 2)];
        let mut shares = split_rows(&mut buffer, 2, &entries, 2).unwrap();
        assert_eq!(shares.len(), 2);
        shares[0].put(0, &[1, 2]);
        shares[0].put(1, &[3, 4]);
        shares[1].put(0, &[5, 6]);
        drop(shares);
        assert_eq!(buffer, [3, 4, 0, 0, 5, 6, 1, 2]);
    }
}
