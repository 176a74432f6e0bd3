//! `mmnpy info FILE... [--json]`: the header of each file, human-readable or as JSON.

use std::io::Write;
use std::path::PathBuf;

use mmnpy::NpyFile;
use serde_json::{Value, json};

use crate::Global;

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
pub(crate) fn info_json(file: &NpyFile) -> Value {
    let h = file.header();
    json!({
        "path": file.path().display().to_string(),
        "version": h.version().as_str(),
        "descr": h.descr(),
        "dtype": h.dtype().name(),
        "shape": h.shape(),
        "fortran_order": h.fortran_order(),
        "data_offset": h.data_offset(),
        "nbytes": h.nbytes(),
        "file_len": file.file_len(),
    })
}

pub(crate) fn run(args: Args, _global: &Global) -> anyhow::Result<()> {
    // Open every file first: one bad file fails the command before anything is printed.
    let files = args
        .files
        .iter()
        .map(NpyFile::open)
        .collect::<mmnpy::Result<Vec<_>>>()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = match files.as_slice() {
            [one] => info_json(one),
            many => Value::Array(many.iter().map(info_json).collect()),
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    for file in &files {
        let h = file.header();
        let shape: Vec<String> = h.shape().iter().map(|n| n.to_string()).collect();
        writeln!(out, "{}", file.path().display())?;
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
            file.file_len()
        )?;
    }
    Ok(())
}
