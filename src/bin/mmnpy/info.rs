//! `mmnpy info FILE... [--json]`: the header of each file, human-readable or as JSON.

use std::io::Write;
use std::path::PathBuf;

use mmnpy::{Header, NpyFile};
use serde_json::{Value, json};

use crate::Global;

/// What `info` shows about one file, kept after the file is closed: holding every file open
/// until the end would run out of file descriptors on `mmnpy info dir/*.npy`.
pub(crate) struct Described {
    path: String,
    header: Header,
    file_len: u64,
}

impl Described {
    /// Open `path` just long enough to read what `info` shows.
    pub(crate) fn open(path: &std::path::Path) -> mmnpy::Result<Described> {
        NpyFile::open(path).map(|file| Described::of(&file))
    }

    /// What `info` shows about an open file.
    pub(crate) fn of(file: &NpyFile) -> Described {
        Described {
            path: file.path().display().to_string(),
            header: file.header().clone(),
            file_len: file.file_len(),
        }
    }

    /// The `--json` object (keys fixed by the CLI contract).
    pub(crate) fn json(&self) -> Value {
        let h = &self.header;
        json!({
            "path": self.path,
            "version": h.version().as_str(),
            "descr": h.descr(),
            "dtype": h.dtype().name(),
            "shape": h.shape(),
            "fortran_order": h.fortran_order(),
            "data_offset": h.data_offset(),
            "nbytes": h.nbytes(),
            "file_len": self.file_len,
        })
    }
}

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// .npy files to describe.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per file (a JSON array when several files are given).
    #[arg(long)]
    json: bool,
}

/// The `--json` object for one file (keys fixed by the CLI contract).
#[allow(dead_code)] // for commands that describe the files they write
pub(crate) fn info_json(file: &NpyFile) -> Value {
    Described::of(file).json()
}

pub(crate) fn run(args: Args, _global: &Global) -> anyhow::Result<()> {
    // Read every header first (closing each file as we go): one bad file fails the command
    // before anything is printed.
    let files = args
        .files
        .iter()
        .map(|path| Described::open(path))
        .collect::<mmnpy::Result<Vec<_>>>()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = match files.as_slice() {
            [one] => one.json(),
            many => Value::Array(many.iter().map(Described::json).collect()),
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    for file in &files {
        let h = &file.header;
        let shape: Vec<String> = h.shape().iter().map(|n| n.to_string()).collect();
        writeln!(out, "{}", file.path)?;
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
            "  data     {} bytes at offset {} (file {} bytes)",
            h.nbytes(),
            h.data_offset(),
            file.file_len
        )?;
    }
    Ok(())
}
