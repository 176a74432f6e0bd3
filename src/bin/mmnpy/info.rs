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
use std::path::PathBuf;

use mmnpy::NpyFile;
use mmnpy::convert::npz::{Member, NpzArchive};
use serde_json::{Value, json};

use crate::Global;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// .npy or .npz files to describe.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per file (a JSON array when several files are given).
    #[arg(long)]
    json: bool,
}

/// The `--json` object for one file (keys fixed by the CLI contract).
pub(crate) fn info_json(file: &NpyFile) -> Value {
    header_json(
        &file.path().display().to_string(),
        file.header(),
        file.file_len(),
    )
}

/// The `--json` object for one `.npz` member: the `.npy` keys plus the member's own.
fn member_json(archive: &NpzArchive, member: &Member) -> Value {
    let mut value = header_json(
        &archive.path().display().to_string(),
        member.header(),
        member.size(),
    );
    if let Value::Object(map) = &mut value {
        map.insert("member".into(), member.name().into());
        map.insert("compressed".into(), member.is_compressed().into());
        map.insert("compressed_size".into(), member.compressed_size().into());
    }
    value
}

fn header_json(path: &str, h: &mmnpy::Header, file_len: u64) -> Value {
    json!({
        "path": path,
        "version": h.version().as_str(),
        "descr": h.descr(),
        "dtype": h.dtype().name(),
        "shape": h.shape(),
        "fortran_order": h.fortran_order(),
        "data_offset": h.data_offset(),
        "nbytes": h.nbytes(),
        "file_len": file_len,
    })
}

/// One input: an `.npy` file or an `.npz` archive.
enum Input {
    Npy(NpyFile),
    Npz(NpzArchive),
}

/// True when the file starts with a zip local-file signature.
fn is_zip(path: &std::path::Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06")
}

fn open(path: &PathBuf) -> mmnpy::Result<Input> {
    if is_zip(path) {
        NpzArchive::open(path).map(Input::Npz)
    } else {
        NpyFile::open(path).map(Input::Npy)
    }
}

fn describe(
    out: &mut impl Write,
    title: &str,
    h: &mmnpy::Header,
    file_len: u64,
    extra: &str,
) -> std::io::Result<()> {
    let shape: Vec<String> = h.shape().iter().map(|n| n.to_string()).collect();
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
        file_len
    )
}

pub(crate) fn run(args: Args, _global: &Global) -> anyhow::Result<()> {
    // Open every file first: one bad file fails the command before anything is printed.
    let inputs = args
        .files
        .iter()
        .map(open)
        .collect::<mmnpy::Result<Vec<_>>>()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = match inputs.as_slice() {
            [Input::Npy(one)] => info_json(one),
            many => Value::Array(
                many.iter()
                    .flat_map(|input| match input {
                        Input::Npy(file) => vec![info_json(file)],
                        Input::Npz(archive) => archive
                            .members()
                            .iter()
                            .map(|m| member_json(archive, m))
                            .collect(),
                    })
                    .collect(),
            ),
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    for input in &inputs {
        match input {
            Input::Npy(file) => describe(
                &mut out,
                &file.path().display().to_string(),
                file.header(),
                file.file_len(),
                "",
            )?,
            Input::Npz(archive) => {
                for m in archive.members() {
                    let how = if m.is_compressed() {
                        format!("; compressed to {} bytes", m.compressed_size())
                    } else {
                        "; stored".to_string()
                    };
                    let title = format!("{}:{}", archive.path().display(), m.name());
                    describe(&mut out, &title, m.header(), m.size(), &how)?;
                }
            }
        }
    }
    Ok(())
}
