//! `mmnpy info FILE... [--json]`: the header of each file, human-readable or as JSON.
//!
//! An `.npz` archive (recognised by its zip signature, whatever its name) is listed member by
//! member. With `--json`, each `.npy` file gives one object and each `.npz` member gives one
//! object with the same keys plus `member` (the array name), `compressed` and
//! `compressed_size`; there `path` is the archive, `data_offset` is relative to the start of
//! the member's `.npy` bytes and `file_len` is the member's uncompressed size. The output is
//! the single object for one `.npy` file, otherwise a flat JSON array of all the objects in
//! order (an `.npz` always gives an array, even with one member).

use std::io::Write;
use std::path::{Path, PathBuf};

use mmnpy::convert::npz::NpzArchive;
use mmnpy::partitioned::{Layout, npy_stack};
use mmnpy::{Header, NpyFile};
use serde_json::{Value, json};

use crate::Global;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// .npy or .npz files to describe, or one partitioned array (npy-stack directory, .zarr).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per file (a JSON array when several files are given).
    #[arg(long)]
    json: bool,
}

/// An `.npz` member's own facts.
struct MemberFacts {
    name: String,
    compressed: bool,
    compressed_size: u64,
}

/// What `info` shows about one array, kept after its file is closed: holding every file open
/// until the end would run out of file descriptors on `mmnpy info dir/*.npy`.
pub(crate) struct Described {
    path: String,
    header: Header,
    file_len: u64,
    member: Option<MemberFacts>,
}

impl Described {
    /// Open `path` just long enough to read what `info` shows: one entry for an `.npy` file,
    /// one per member for an `.npz` archive.
    pub(crate) fn open(path: &Path) -> mmnpy::Result<Vec<Described>> {
        if !is_zip(path) {
            return NpyFile::open(path).map(|file| vec![Described::of(&file)]);
        }
        let archive = NpzArchive::open(path)?;
        let archive_path = archive.path().display().to_string();
        Ok(archive
            .members()
            .iter()
            .map(|m| Described {
                path: archive_path.clone(),
                header: m.header().clone(),
                file_len: m.size(),
                member: Some(MemberFacts {
                    name: m.name().to_string(),
                    compressed: m.is_compressed(),
                    compressed_size: m.compressed_size(),
                }),
            })
            .collect())
    }

    /// What `info` shows about an open file.
    pub(crate) fn of(file: &NpyFile) -> Described {
        Described {
            path: file.path().display().to_string(),
            header: file.header().clone(),
            file_len: file.file_len(),
            member: None,
        }
    }

    /// The `--json` object (keys fixed by the CLI contract).
    pub(crate) fn json(&self) -> Value {
        let h = &self.header;
        let mut value = json!({
            "path": self.path,
            "version": h.version().as_str(),
            "descr": h.descr(),
            "dtype": h.dtype().name(),
            "shape": h.shape(),
            "fortran_order": h.fortran_order(),
            "data_offset": h.data_offset(),
            "nbytes": h.nbytes(),
            "file_len": self.file_len,
        });
        if let (Some(m), Value::Object(map)) = (&self.member, &mut value) {
            map.insert("member".into(), m.name.clone().into());
            map.insert("compressed".into(), m.compressed.into());
            map.insert("compressed_size".into(), m.compressed_size.into());
        }
        value
    }

    /// The human-readable block.
    fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        let h = &self.header;
        let shape: Vec<String> = h.shape().iter().map(|n| n.to_string()).collect();
        let (title, extra) = match &self.member {
            None => (self.path.clone(), String::new()),
            Some(m) => (
                format!("{}:{}", self.path, m.name),
                if m.compressed {
                    format!("; compressed to {} bytes", m.compressed_size)
                } else {
                    "; stored".to_string()
                },
            ),
        };
        writeln!(out, "{title}")?;
        writeln!(out, "  dtype    {} ({})", h.dtype().name(), h.descr())?;
        writeln!(out, "  shape    ({})", shape.join(", "))?;
        writeln!(
            out,
            "  order    {}",
            if h.fortran_order() { "Fortran" } else { "C" }
        )?;
        writeln!(out, "  version  {}", h.version().as_str())?;
        writeln!(
            out,
            "  data     {} bytes at offset {} (file {} bytes){extra}",
            h.nbytes(),
            h.data_offset(),
            self.file_len
        )
    }
}

/// The `--json` object for one file (keys fixed by the CLI contract).
#[allow(dead_code)] // for commands that describe the files they write
pub(crate) fn info_json(file: &NpyFile) -> Value {
    Described::of(file).json()
}

/// True when the file starts with a zip local-file (or empty-archive) signature.
fn is_zip(path: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    let mut magic = [0u8; 4];
    // O_NONBLOCK: a FIFO must not block the sniffing; the open that follows refuses it.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .and_then(|f| {
            if f.metadata()?.is_file() {
                Ok(f)
            } else {
                Err(std::io::Error::other("not a regular file"))
            }
        })
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06")
}

/// The `--json` object of a partitioned array (an npy-stack directory or a Zarr array):
/// `path`, `format`, `dtype`, `descr`, `shape`, `nbytes`, then `chunks` (the shard lengths
/// along axis 0 for a stack, the chunk shape for Zarr) and, for Zarr, `zarr_format` and
/// `codecs`.
fn describe_partitioned(path: &Path, layout: Layout) -> mmnpy::Result<Value> {
    let nbytes = |shape: &[u64], dtype: mmnpy::DType| {
        shape.iter().product::<u64>() * dtype.itemsize() as u64
    };
    match layout {
        Layout::NpyStack => {
            let info = npy_stack::read_info_file(path)?;
            let shape = info.shape();
            Ok(json!({
                "path": path.display().to_string(),
                "format": "npy-stack",
                "dtype": info.dtype.name(),
                "descr": info.dtype.descr(),
                "shape": shape,
                "nbytes": nbytes(&shape, info.dtype),
                "axis": info.axis,
                "chunks": info.chunks[info.axis],
            }))
        }
        #[cfg(feature = "zarr")]
        Layout::Zarr => {
            let z = mmnpy::partitioned::zarr::describe(path)?;
            Ok(json!({
                "path": path.display().to_string(),
                "format": "zarr",
                "dtype": z.dtype.name(),
                "descr": z.dtype.descr(),
                "shape": z.shape,
                "nbytes": nbytes(&z.shape, z.dtype),
                "zarr_format": z.zarr_format,
                "chunks": z.chunks,
                "codecs": z.codecs,
            }))
        }
        #[cfg(not(feature = "zarr"))]
        Layout::Zarr => {
            Err(mmnpy::Error::invalid("Zarr support is not compiled in").with_path(path))
        }
    }
}

pub(crate) fn run(args: Args, _global: &Global) -> anyhow::Result<()> {
    if let [path] = args.files.as_slice()
        && let Some(layout) = mmnpy::partitioned::detect(path)
    {
        let doc = describe_partitioned(path, layout)?;
        let mut out = std::io::stdout().lock();
        if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        } else {
            writeln!(out, "{}", path.display())?;
            if let Value::Object(map) = &doc {
                for (key, value) in map.iter().skip(1) {
                    writeln!(out, "  {key:<11} {value}")?;
                }
            }
        }
        return Ok(());
    }
    // Read every header first (closing each file as we go): one bad file fails the command
    // before anything is printed.
    let mut entries = Vec::new();
    let mut single_npy = args.files.len() == 1;
    for path in &args.files {
        if mmnpy::partitioned::detect(path).is_some() {
            anyhow::bail!(
                "{}: describe partitioned arrays one at a time (mmnpy info DIR)",
                path.display()
            );
        }
        let described = Described::open(path)?;
        single_npy &= described.len() == 1 && described[0].member.is_none();
        entries.extend(described);
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = if single_npy {
            entries[0].json()
        } else {
            Value::Array(entries.iter().map(Described::json).collect())
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    for entry in &entries {
        entry.write_text(&mut out)?;
    }
    Ok(())
}
