//! CSV and TSV <-> `.npy`: delimited text of numbers in, a 2-D `(rows, columns)` array out,
//! and back.
//!
//! # Reading
//! The input is mapped read-only (shared lock, like an `.npy` input) and walked in windows of
//! [`WINDOW_BYTES`]. Each window is cut at record boundaries into chunks of about
//! [`CHUNK_BYTES`], the chunks are parsed in parallel into typed row buffers, and a writer
//! thread appends them to the output in order while the next window is parsed; the pages of a
//! finished window are released. Memory stays bounded by a few windows whatever the file size.
//!
//! Cutting is quote-aware: a record boundary is a newline preceded by an even number of `"` since
//! the last boundary, so a quoted field may hold delimiters and newlines (RFC 4180, `""` for a
//! literal quote). Counting quotes is a `memchr` pass and costs nothing on unquoted files.
//!
//! The row count is not known until the end: the output is written through an
//! [`AtomicFile`] with a provisional header of shape `(0, columns)`, and the header is rewritten
//! in place with the final shape before the commit. numpy's growth padding (room for a 21-digit
//! first axis) makes both headers the same length, so the data never moves.
//!
//! Each record goes through a fast path first (a float parser that stops at the delimiter), and
//! only a record the fast path cannot take (quotes, spaces, empty fields, junk) through the
//! general field splitter, which also produces the error messages.
//!
//! Floats are parsed exactly (correctly rounded, like Python's `float()`, which numpy uses):
//! `nan`, `inf`, `-inf`, `Infinity`, `NaN` in any case are accepted. `float32` and `float16`
//! outputs are parsed as `float64` and then rounded, as `np.loadtxt(dtype=np.float32)` does.
//!
//! # Writing
//! Row blocks are formatted in parallel and written in order. Floats are printed like Python's
//! `repr`: the shortest digits that read back to the same value (`0.1`, `1e-05`, `1e+16`,
//! `nan`, `inf`, `-inf`). Booleans are written `True` / `False` (as pandas writes them; the
//! reader accepts `True`, `False`, `true`, `false`, `1`, `0`). Complex numbers are written
//! `re+imj` (e.g. `1.5-2.0j`), which the reader accepts back.

use std::borrow::Cow;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use half::f16;
use num_complex::Complex;
use rayon::prelude::*;

use crate::array::{NpyFile, open_regular_file};
use crate::convert::{Report, check_output, table_shape, write_behind};
use crate::dtype::{
    Bool, DType, Element, Scalar, f16_from_f64, parse_complex, swap_bytes_in_place,
};
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::header::{Header, Order};
use crate::map::{self, Access};
use crate::write::{AtomicFile, Overwrite};

/// Bytes of input parsed per window (then released).
pub const WINDOW_BYTES: usize = 32 << 20;

/// Target bytes of input per parallel parse chunk.
pub const CHUNK_BYTES: usize = 1 << 20;

/// How to read a delimited text file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvReadOptions {
    /// Field separator: `b','` for CSV, `b'\t'` for TSV.
    pub delimiter: u8,
    /// `Some(true)`: the first record is a header; `Some(false)`: it is data; `None`: it is a
    /// header when one of its fields is not a number.
    pub header: Option<bool>,
    /// Element type of the output (default `float64`).
    pub dtype: DType,
}

impl Default for CsvReadOptions {
    fn default() -> Self {
        CsvReadOptions {
            delimiter: b',',
            header: None,
            dtype: DType::native(Scalar::F64),
        }
    }
}

/// How to write a delimited text file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvWriteOptions {
    /// Field separator: `b','` for CSV, `b'\t'` for TSV.
    pub delimiter: u8,
    /// Write a header line `c0,c1,...` first.
    pub header: bool,
}

impl Default for CsvWriteOptions {
    fn default() -> Self {
        CsvWriteOptions {
            delimiter: b',',
            header: false,
        }
    }
}

fn check_delimiter(delimiter: u8) -> Result<()> {
    if matches!(delimiter, b'"' | b'\n' | b'\r') || !delimiter.is_ascii() {
        return Err(Error::invalid(format!(
            "delimiter {:?} cannot separate fields (use an ASCII character other than a quote or line end)",
            delimiter as char
        )));
    }
    Ok(())
}

/// Convert delimited text to a 2-D `.npy` array of `opts.dtype`, in parallel and with bounded
/// memory. An empty field is NaN for float output and an error otherwise; blank lines are
/// skipped; an input with no data records gives shape `(0, columns)` (`(0, 0)` when it has no
/// header either).
pub fn csv_to_npy(
    input: &Path,
    output: &Path,
    opts: &CsvReadOptions,
    overwrite: Overwrite,
) -> Result<Report> {
    csv_to_npy_with_progress(input, output, opts, overwrite, &|_| {})
}

/// [`csv_to_npy`], calling `progress(bytes)` with the input bytes of the header line, then of
/// each window as it is parsed: the calls add up to the input file's length.
pub fn csv_to_npy_with_progress(
    input: &Path,
    output: &Path,
    opts: &CsvReadOptions,
    overwrite: Overwrite,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report> {
    check_delimiter(opts.delimiter)?;
    check_output(output, &[input], overwrite)?;
    let file = open_regular_file(input, false).at(input)?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io("stat", e))
        .at(input)?;
    map::lock(&file, false).at(input)?;
    let len = usize::try_from(meta.len())
        .map_err(|_| Error::new(ErrorKind::Overflow("file size")))
        .at(input)?;
    let region = map::map(&file, 0, len, Access::ReadOnly).at(input)?;
    let data = region.bytes();
    let layout = Layout::detect(data, opts)?;
    // The header line is read once detected; the windows cover the rest of the file, so the
    // reports add up to its length.
    if layout.body_start > 0 {
        progress(layout.body_start as u64);
    }
    let release = |start: usize, end: usize| {
        region.release(start, end - start);
        progress((end - start) as u64);
    };
    let (rows, bytes_out) = crate::dispatch_scalar!(opts.dtype.scalar(), T => {
        write_npy::<T>(data, &layout, opts, output, overwrite, &release)
    })
    .map_err(|e| match e.kind() {
        ErrorKind::Parse { .. } => e.with_path(input),
        _ => e.with_path(output),
    })?;
    Ok(Report {
        rows,
        bytes_in: len as u64,
        bytes_out,
    })
}

/// Where the data records start and how many columns they have.
struct Layout {
    body_start: usize,
    columns: usize,
}

impl Layout {
    fn detect(data: &[u8], opts: &CsvReadOptions) -> Result<Layout> {
        let Some(first) = next_record(data, 0) else {
            return Ok(Layout {
                body_start: data.len(),
                columns: 0,
            });
        };
        let fields = split_record(first.content(data), opts.delimiter);
        let is_header = match opts.header {
            Some(forced) => forced,
            None => fields.iter().any(|f| {
                let f = trim(unquote(f).as_ref()).to_vec();
                !f.is_empty() && <f64 as Field>::parse_all(&f).is_none()
            }),
        };
        Ok(Layout {
            body_start: if is_header { first.next } else { first.start },
            columns: fields.len(),
        })
    }
}

/// One record: `[start, end)` is its content without the line ending; `next` is where the
/// following record starts.
#[derive(Clone, Copy, Debug)]
struct Record {
    start: usize,
    end: usize,
    next: usize,
}

impl Record {
    fn content(self, data: &[u8]) -> &[u8] {
        &data[self.start..self.end]
    }
}

/// The next non-blank record at or after `pos` (quote-aware).
fn next_record(data: &[u8], mut pos: usize) -> Option<Record> {
    while pos < data.len() {
        let rec = record_at(data, pos, true);
        if !trim(rec.content(data)).is_empty() {
            return Some(rec);
        }
        pos = rec.next;
    }
    None
}

/// The record starting at `start`; with `quoted`, newlines inside quotes do not end it.
fn record_at(data: &[u8], start: usize, quoted: bool) -> Record {
    let rest = &data[start..];
    let newline = if quoted {
        let mut in_quote = false;
        let mut found = None;
        for i in memchr::memchr2_iter(b'"', b'\n', rest) {
            if rest[i] == b'"' {
                in_quote = !in_quote;
            } else if !in_quote {
                found = Some(i);
                break;
            }
        }
        found
    } else {
        memchr::memchr(b'\n', rest)
    };
    let (mut end, next) = match newline {
        Some(i) => (start + i, start + i + 1),
        None => (data.len(), data.len()),
    };
    if end > start && data[end - 1] == b'\r' {
        end -= 1;
    }
    Record { start, end, next }
}

/// The first record boundary at or after `target`, given that `from` is one: the byte after a
/// newline that is not inside quotes.
fn boundary_after(data: &[u8], from: usize, target: usize) -> usize {
    if target >= data.len() {
        return data.len();
    }
    if target <= from {
        return from;
    }
    // A newline right before `target` makes `target` itself a boundary. Finding no quote at
    // all (the common case) is a faster scan than counting them.
    let before = &data[from..target];
    let mut in_quote = match memchr::memchr(b'"', before) {
        None => false,
        Some(first) => memchr::memchr_iter(b'"', &before[first..]).count() % 2 == 1,
    };
    if !in_quote && data[target - 1] == b'\n' {
        return target;
    }
    for i in memchr::memchr2_iter(b'"', b'\n', &data[target..]) {
        if data[target + i] == b'"' {
            in_quote = !in_quote;
        } else if !in_quote {
            return target + i + 1;
        }
    }
    data.len()
}

/// Split one record (without its line ending) into raw fields, quote-aware. Fields keep their
/// quotes; see [`unquote`].
fn split_record(record: &[u8], delimiter: u8) -> Vec<&[u8]> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    for (i, &b) in record.iter().enumerate() {
        if b == b'"' {
            in_quote = !in_quote;
        } else if b == delimiter && !in_quote {
            fields.push(&record[start..i]);
            start = i + 1;
        }
    }
    fields.push(&record[start..]);
    fields
}

/// A field's text: surrounding spaces trimmed, then the quotes of a quoted field removed (and
/// `""` inside turned into `"`).
fn unquote(field: &[u8]) -> Cow<'_, [u8]> {
    let t = trim(field);
    match t {
        [b'"', inner @ .., b'"'] => {
            if memchr::memchr(b'"', inner).is_some() {
                let mut out = Vec::with_capacity(inner.len());
                let mut i = 0;
                while i < inner.len() {
                    out.push(inner[i]);
                    i += if inner[i] == b'"' && inner.get(i + 1) == Some(&b'"') {
                        2
                    } else {
                        1
                    };
                }
                Cow::Owned(out)
            } else {
                Cow::Borrowed(inner)
            }
        }
        _ => Cow::Borrowed(t),
    }
}

fn trim(field: &[u8]) -> &[u8] {
    field.trim_ascii()
}

/// A problem at a byte offset of the input, turned into a line number only when reported.
#[derive(Debug)]
struct ParseError {
    offset: usize,
    msg: String,
}

impl ParseError {
    fn into_error(self, data: &[u8]) -> Error {
        let line = memchr::memchr_iter(b'\n', &data[..self.offset]).count() as u64 + 1;
        Error::new(ErrorKind::Parse {
            line,
            msg: self.msg,
        })
    }
}

/// A value type a text field can be parsed into.
trait Field: Element {
    /// The value of an empty field, if one is allowed (NaN for floats).
    const EMPTY: Option<Self>;

    /// Parse a number at the start of `s`: the value and the bytes it took. The fast path.
    fn parse_prefix(s: &[u8]) -> Option<(Self, usize)>;

    /// Parse a whole trimmed, unquoted, non-empty field.
    fn parse_all(s: &[u8]) -> Option<Self> {
        match Self::parse_prefix(s) {
            Some((v, n)) if n == s.len() => Some(v),
            _ => None,
        }
    }
}

fn parse_f64_prefix(s: &[u8]) -> Option<(f64, usize)> {
    match fast_float2::parse_partial::<f64, _>(s) {
        Ok((v, n)) if n > 0 => Some((v, n)),
        _ => None,
    }
}

impl Field for f64 {
    const EMPTY: Option<f64> = Some(f64::NAN);
    fn parse_prefix(s: &[u8]) -> Option<(f64, usize)> {
        parse_f64_prefix(s)
    }
}

impl Field for f32 {
    const EMPTY: Option<f32> = Some(f32::NAN);
    fn parse_prefix(s: &[u8]) -> Option<(f32, usize)> {
        // Through float64 first, as numpy does: the same double rounding, the same bits.
        parse_f64_prefix(s).map(|(v, n)| (v as f32, n))
    }
}

impl Field for f16 {
    const EMPTY: Option<f16> = Some(f16::NAN);
    fn parse_prefix(s: &[u8]) -> Option<(f16, usize)> {
        parse_f64_prefix(s).map(|(v, n)| (f16_from_f64(v), n))
    }
}

impl Field for Bool {
    const EMPTY: Option<Bool> = None;
    fn parse_prefix(s: &[u8]) -> Option<(Bool, usize)> {
        for (text, value) in [
            (&b"True"[..], true),
            (b"False", false),
            (b"true", true),
            (b"false", false),
            (b"1", true),
            (b"0", false),
        ] {
            if s.starts_with(text) {
                return Some((Bool::from(value), text.len()));
            }
        }
        None
    }
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            const EMPTY: Option<$t> = None;
            fn parse_prefix(s: &[u8]) -> Option<($t, usize)> {
                let (negative, digits_start) = match s.first() {
                    Some(b'-') => (true, 1),
                    Some(b'+') => (false, 1),
                    _ => (false, 0),
                };
                let mut value: $t = 0;
                let mut i = digits_start;
                while let Some(&b) = s.get(i) {
                    if !b.is_ascii_digit() {
                        break;
                    }
                    let digit = (b - b'0') as $t;
                    value = value.checked_mul(10)?;
                    // Accumulate negatively for negative numbers so that MIN parses.
                    value = if negative {
                        value.checked_sub(digit)?
                    } else {
                        value.checked_add(digit)?
                    };
                    i += 1;
                }
                if i == digits_start {
                    return None;
                }
                Some((value, i))
            }
        }
    )*};
}

int_field!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! complex_field {
    ($($t:ty),*) => {$(
        impl Field for Complex<$t> {
            const EMPTY: Option<Complex<$t>> = None;
            fn parse_prefix(_: &[u8]) -> Option<(Complex<$t>, usize)> {
                None // no fast path: every record takes the general splitter
            }
            fn parse_all(s: &[u8]) -> Option<Complex<$t>> {
                let (re, im) = parse_complex(std::str::from_utf8(s).ok()?)?;
                Some(Complex::new(re as $t, im as $t))
            }
        }
    )*};
}

complex_field!(f32, f64);

/// Parse one record the fast way: numbers separated by exactly the delimiter, nothing else.
/// Returns false (and leaves `out` as it was) for anything else.
fn parse_record_fast<T: Field>(
    line: &[u8],
    columns: usize,
    delimiter: u8,
    out: &mut Vec<T>,
) -> bool {
    let before = out.len();
    let mut pos = 0;
    for column in 0..columns {
        if column > 0 {
            if line.get(pos) != Some(&delimiter) {
                out.truncate(before);
                return false;
            }
            pos += 1;
        }
        match T::parse_prefix(&line[pos..]) {
            Some((v, n)) => {
                out.push(v);
                pos += n;
            }
            None => {
                out.truncate(before);
                return false;
            }
        }
    }
    if pos != line.len() {
        out.truncate(before);
        return false;
    }
    true
}

/// Parse one record through the general splitter, with precise errors.
fn parse_record_slow<T: Field>(
    line: &[u8],
    columns: usize,
    delimiter: u8,
    out: &mut Vec<T>,
) -> std::result::Result<(), String> {
    let fields = split_record(line, delimiter);
    if fields.len() != columns {
        return Err(format!(
            "expected {columns} fields, found {} (ragged row)",
            fields.len()
        ));
    }
    if fields.last().is_some_and(|f| {
        let t = trim(f);
        t.first() == Some(&b'"') && (t.len() < 2 || t.last() != Some(&b'"'))
    }) {
        return Err("unterminated quoted field".to_string());
    }
    for (column, raw) in fields.iter().enumerate() {
        let text = unquote(raw);
        let text = trim(&text);
        let value = if text.is_empty() {
            T::EMPTY.ok_or_else(|| {
                format!(
                    "empty field in column {} cannot be read as {}",
                    column + 1,
                    T::SCALAR.name()
                )
            })?
        } else {
            T::parse_all(text).ok_or_else(|| {
                let shown: String = String::from_utf8_lossy(text).chars().take(40).collect();
                format!(
                    "cannot read {shown:?} in column {} as {}",
                    column + 1,
                    T::SCALAR.name()
                )
            })?
        };
        out.push(value);
    }
    Ok(())
}

/// Parse the whole records of `data[range]` into row-major values.
/// `quoted` says whether the range may hold quotes (if not, newlines always end records).
fn parse_chunk<T: Field>(
    data: &[u8],
    range: std::ops::Range<usize>,
    columns: usize,
    delimiter: u8,
    quoted: bool,
) -> std::result::Result<Vec<T>, ParseError> {
    let chunk = &data[..range.end];
    // ~18 bytes per number is typical; a wrong guess only costs a reallocation.
    let mut out = Vec::with_capacity(range.len() / 16 + columns);
    let mut pos = range.start;
    while pos < range.end {
        let rec = record_at(chunk, pos, quoted);
        let line = rec.content(chunk);
        if !parse_record_fast(line, columns, delimiter, &mut out) && !trim(line).is_empty() {
            parse_record_slow(line, columns, delimiter, &mut out)
                .map_err(|msg| ParseError { offset: pos, msg })?;
        }
        pos = rec.next;
    }
    Ok(out)
}

/// Cut `data[start..end]` (both record boundaries) into chunks of about [`CHUNK_BYTES`].
/// Without quotes in the range, every newline is a boundary.
fn cut_chunks(
    data: &[u8],
    start: usize,
    end: usize,
    quoted: bool,
    chunk_bytes: usize,
) -> Vec<std::ops::Range<usize>> {
    let data = &data[..end];
    let mut cuts = Vec::new();
    let mut pos = start;
    while pos < end {
        let target = pos + chunk_bytes.max(1);
        let next = if quoted {
            boundary_after(data, pos, target)
        } else if target >= end {
            end
        } else {
            memchr::memchr(b'\n', &data[target - 1..]).map_or(end, |i| target + i)
        };
        cuts.push(pos..next);
        pos = next;
    }
    cuts
}

/// Parse the body in windows and write the `.npy`; returns (rows, bytes written).
fn write_npy<T: Field>(
    data: &[u8],
    layout: &Layout,
    opts: &CsvReadOptions,
    output: &Path,
    overwrite: Overwrite,
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<(u64, u64)> {
    let columns = layout.columns;
    let provisional = Header::new(opts.dtype, &[0, columns], Order::C)?;
    let header_bytes = provisional.to_bytes()?;
    let mut out = AtomicFile::new(output)?;
    out.write_all(&header_bytes)
        .map_err(|e| Error::io("write header", e))?;
    let swap = !opts.dtype.is_native();
    let scalar = opts.dtype.scalar();

    let mut values: u64 = 0;
    write_behind::<T>(out.file(), |tx| {
        let mut pos = layout.body_start;
        while pos < data.len() {
            let end = boundary_after(data, pos, pos + WINDOW_BYTES);
            let quoted = memchr::memchr(b'"', &data[pos..end]).is_some();
            let chunks = cut_chunks(data, pos, end, quoted, CHUNK_BYTES);
            // Collected whole, then checked in order, so the error reported is the first one.
            let parsed: std::result::Result<Vec<Vec<T>>, ParseError> = chunks
                .into_par_iter()
                .map(|range| {
                    let mut v = parse_chunk::<T>(data, range, columns, opts.delimiter, quoted)?;
                    if swap {
                        swap_bytes_in_place(scalar, bytemuck::cast_slice_mut(&mut v));
                    }
                    Ok(v)
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect();
            let parsed = parsed.map_err(|e| e.into_error(data))?;
            values += parsed.iter().map(|c| c.len() as u64).sum::<u64>();
            if tx.send(parsed).is_err() {
                break; // the writer failed; write_behind reports its error
            }
            release(pos, end);
            pos = end;
        }
        Ok(())
    })?;

    let rows = if columns == 0 {
        0
    } else {
        values / columns as u64
    };
    let rows_usize =
        usize::try_from(rows).map_err(|_| Error::new(ErrorKind::Overflow("row count")))?;
    let header = Header::with_version(
        opts.dtype,
        &[rows_usize, columns],
        Order::C,
        Some(provisional.version()),
    )?;
    let final_bytes = header.to_bytes()?;
    if final_bytes.len() != header_bytes.len() {
        // Cannot happen with numpy's growth padding; refuse rather than corrupt.
        return Err(Error::invalid(
            "final header does not fit the provisional one",
        ));
    }
    out.file()
        .write_all_at(&final_bytes, 0)
        .map_err(|e| Error::io("rewrite header", e))?;
    out.commit(overwrite)?;
    Ok((rows, header.end()?))
}

/// Write a 1-D or 2-D array as delimited text (see the module docs for the number format).
pub fn npy_to_csv(
    input: &NpyFile,
    output: &Path,
    opts: &CsvWriteOptions,
    overwrite: Overwrite,
) -> Result<Report> {
    npy_to_csv_with_progress(input, output, opts, overwrite, &|_| {})
}

/// [`npy_to_csv`], calling `progress(bytes)` with the input data bytes of each window of rows
/// as it is written: the calls add up to the array's data size (`header().nbytes()`).
pub fn npy_to_csv_with_progress(
    input: &NpyFile,
    output: &Path,
    opts: &CsvWriteOptions,
    overwrite: Overwrite,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report> {
    check_delimiter(opts.delimiter)?;
    check_output(output, &[input.path()], overwrite)?;
    let (rows, columns) = table_shape(input, "text")?;
    if opts.header {
        // The header line is the one thing written per column whatever the rows.
        crate::convert::check_columns_without_rows(input, rows, columns)?;
    }
    let bytes_out = crate::dispatch_scalar!(input.dtype().scalar(), T => {
        write_text::<T>(input, rows, columns, opts, output, overwrite, progress)
    })
    .at(output)?;
    Ok(Report {
        rows: rows as u64,
        bytes_in: input.header().nbytes(),
        bytes_out,
    })
}

/// Elements formatted per parallel block.
const FORMAT_BLOCK_ELEMENTS: usize = 1 << 16;

fn write_text<T: Text>(
    input: &NpyFile,
    rows: usize,
    columns: usize,
    opts: &CsvWriteOptions,
    output: &Path,
    overwrite: Overwrite,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, AtomicFile::new(output)?);
    let mut written = 0u64;
    let write_err = |e| Error::io("write", e);
    if opts.header {
        let names: Vec<String> = (0..columns).map(|c| format!("c{c}")).collect();
        let line = format!("{}\n", names.join(&(opts.delimiter as char).to_string()));
        out.write_all(line.as_bytes()).map_err(write_err)?;
        written += line.len() as u64;
    }
    let block_rows = (FORMAT_BLOCK_ELEMENTS / columns.max(1)).max(1);
    let blocks = rows.div_ceil(block_rows);
    let per_window = rayon::current_num_threads() * 4;
    let dtype = input.dtype();
    let fortran = input.order() == Order::Fortran && columns > 1;
    let row_bytes = columns * dtype.itemsize();
    let mut block = 0;
    while block < blocks {
        let window = block..(block + per_window).min(blocks);
        let texts: Vec<Vec<u8>> = window
            .clone()
            .into_par_iter()
            .map(|b| {
                let first = b * block_rows;
                let last = (first + block_rows).min(rows);
                let values = gather_rows::<T>(input, dtype, fortran, rows, columns, first..last);
                let mut text = Vec::with_capacity(values.len() * 20);
                for row in values.chunks(columns.max(1)) {
                    for (c, v) in row.iter().enumerate() {
                        if c > 0 {
                            text.push(opts.delimiter);
                        }
                        v.write_text(&mut text);
                    }
                    text.push(b'\n');
                }
                text
            })
            .collect();
        for text in &texts {
            out.write_all(text).map_err(write_err)?;
            written += text.len() as u64;
        }
        let start = window.start * block_rows * row_bytes;
        let end = (window.end * block_rows).min(rows) * row_bytes;
        if !fortran {
            input.release(start, end - start);
        }
        progress((end - start) as u64);
        block = window.end;
    }
    let mut out = out
        .into_inner()
        .map_err(|e| Error::io("write", e.into_error()))?;
    out.commit(overwrite)?;
    Ok(written)
}

/// Rows `range` of the array as row-major native values.
fn gather_rows<T: Element>(
    input: &NpyFile,
    dtype: DType,
    fortran: bool,
    rows: usize,
    columns: usize,
    range: std::ops::Range<usize>,
) -> Vec<T> {
    let size = dtype.itemsize();
    let bytes = input.bytes();
    let mut values = vec![T::zeroed(); range.len() * columns];
    if fortran {
        for (i, row) in range.clone().enumerate() {
            for c in 0..columns {
                let at = (c * rows + row) * size;
                values[i * columns + c] = bytemuck::pod_read_unaligned(&bytes[at..at + size]);
            }
        }
    } else {
        let start = range.start * columns * size;
        let end = range.end * columns * size;
        bytemuck::cast_slice_mut::<T, u8>(&mut values).copy_from_slice(&bytes[start..end]);
    }
    if !dtype.is_native() {
        swap_bytes_in_place(dtype.scalar(), bytemuck::cast_slice_mut(&mut values));
    }
    values
}

/// A value that can be written as text.
trait Text: Element {
    fn write_text(&self, out: &mut Vec<u8>);
}

impl Text for f64 {
    fn write_text(&self, out: &mut Vec<u8>) {
        write_float_repr(*self, out);
    }
}

impl Text for f32 {
    fn write_text(&self, out: &mut Vec<u8>) {
        if self.is_finite() {
            let mut buf = ryu::Buffer::new();
            python_repr(buf.format_finite(*self), out);
        } else {
            write_float_repr(f64::from(*self), out);
        }
    }
}

impl Text for f16 {
    fn write_text(&self, out: &mut Vec<u8>) {
        let v = self.to_f64();
        if !v.is_finite() {
            return write_float_repr(v, out);
        }
        // The fewest significant digits that read back as the same half, like numpy's repr.
        for digits in 0..5 {
            let s = format!("{v:.digits$e}");
            if s.parse::<f64>()
                .is_ok_and(|back| f16_from_f64(back) == *self)
            {
                let mut buf = ryu::Buffer::new();
                let shortest: f64 = s.parse().unwrap_or(v);
                return python_repr(buf.format_finite(shortest), out);
            }
        }
        write_float_repr(v, out);
    }
}

impl Text for Bool {
    fn write_text(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.get() { b"True" } else { b"False" });
    }
}

macro_rules! int_text {
    ($($t:ty),*) => {$(
        impl Text for $t {
            fn write_text(&self, out: &mut Vec<u8>) {
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{self}");
            }
        }
    )*};
}

int_text!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! complex_text {
    ($($t:ty),*) => {$(
        impl Text for Complex<$t> {
            fn write_text(&self, out: &mut Vec<u8>) {
                self.re.write_text(out);
                if !self.im.is_sign_negative() || self.im.is_nan() {
                    out.push(b'+');
                }
                self.im.write_text(out);
                out.push(b'j');
            }
        }
    )*};
}

complex_text!(f32, f64);

/// Write a float as Python's `repr` does.
fn write_float_repr(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
    } else {
        let mut buf = ryu::Buffer::new();
        python_repr(buf.format_finite(v), out);
    }
}

/// Rewrite ryu's shortest round-trip digits (`1e16`, `1.5e-7`, `0.001`, `123.0`) in Python's
/// `repr` style: positional for decimal exponents in `-4..16`, else `d.ddde+XX` with at least
/// two exponent digits.
fn python_repr(ryu: &str, out: &mut Vec<u8>) {
    let (negative, body) = match ryu.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, ryu),
    };
    let (mantissa, exp) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    let leading = all.iter().take_while(|&&b| b == b'0').count();
    let digits = &all[leading..];
    let digits = &digits[..digits.len() - digits.iter().rev().take_while(|&&b| b == b'0').count()];
    if negative {
        out.push(b'-');
    }
    if digits.is_empty() {
        out.extend_from_slice(b"0.0");
        return;
    }
    // value = d.ddd × 10^e10
    let e10 = int_part.len() as i32 - leading as i32 - 1 + exp;
    if (-4..16).contains(&e10) {
        if e10 >= 0 {
            let int_len = e10 as usize + 1;
            if digits.len() <= int_len {
                out.extend_from_slice(digits);
                out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            }
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-e10 - 1) as usize));
            out.extend_from_slice(digits);
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if e10 < 0 { '-' } else { '+' },
            e10.unsigned_abs()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn repr(v: f64) -> String {
        let mut out = Vec::new();
        write_float_repr(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_print_like_python_repr() {
        // Expected strings are Python's repr() of the same values.
        for (v, want) in [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123.456, "123.456"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-2.5e100, "-2.5e+100"),
            (12345678901234567.0, "1.2345678901234568e+16"),
        ] {
            assert_eq!(repr(v), want, "{v:e}");
        }
    }

    #[test]
    fn boundaries_respect_quotes() {
        let data = b"a,\"x\ny\"\n1,2\n3,4\n";
        assert_eq!(boundary_after(data, 0, 1), 8);
        assert_eq!(boundary_after(data, 0, 4), 8);
        assert_eq!(boundary_after(data, 8, 9), 12);
        assert_eq!(boundary_after(data, 8, 12), 12);
        assert_eq!(boundary_after(data, 0, 100), data.len());
    }

    #[test]
    fn slow_and_fast_paths_agree_on_plain_records() {
        let mut fast = Vec::new();
        let mut slow = Vec::new();
        let line = b"1.5,-2,nan,inf,-Infinity,1e-300";
        assert!(parse_record_fast::<f64>(line, 6, b',', &mut fast));
        parse_record_slow::<f64>(line, 6, b',', &mut slow).unwrap();
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
        let mut ints = Vec::new();
        assert!(!parse_record_fast::<i8>(b"127,128", 2, b',', &mut ints));
        assert!(ints.is_empty());
        assert!(parse_record_fast::<i8>(b"127,-128", 2, b',', &mut ints));
        assert_eq!(ints, [127, -128]);
    }

    /// A naive reference: split lines, split fields, parse with std.
    fn naive(text: &str, columns: usize) -> Vec<f64> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .flat_map(|l| l.split(',').map(|f| f.trim().parse::<f64>().unwrap()))
            .inspect(|_| assert!(columns > 0))
            .collect()
    }

    proptest! {
        #[test]
        fn chunked_parse_matches_naive_reference(
            values in prop::collection::vec(prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO, 0..300),
            columns in 1usize..5,
            crlf in any::<bool>(),
            chunk in 1usize..200,
        ) {
            let rows = values.len() / columns;
            let mut text = String::new();
            for r in 0..rows {
                let line: Vec<String> = values[r * columns..(r + 1) * columns].iter().map(|v| format!("{v:e}")).collect();
                text.push_str(&line.join(","));
                text.push_str(if crlf { "\r\n" } else { "\n" });
            }
            let data = text.as_bytes();
            let mut got = Vec::new();
            let quoted = memchr::memchr(b'"', data).is_some();
            for range in cut_chunks(data, 0, data.len(), quoted, chunk) {
                got.extend(parse_chunk::<f64>(data, range, columns, b',', quoted).unwrap());
            }
            // The quote-aware cut agrees with the plain one on unquoted text.
            prop_assert_eq!(cut_chunks(data, 0, data.len(), true, chunk), cut_chunks(data, 0, data.len(), false, chunk));
            let want = naive(&text, columns);
            prop_assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }

        #[test]
        fn repr_round_trips(v in any::<f64>()) {
            let s = repr(v);
            let back: f64 = s.parse().unwrap();
            prop_assert!(back.to_bits() == v.to_bits() || (v.is_nan() && back.is_nan()));
            let mut ryu = ryu::Buffer::new();
            if v.is_finite() {
                // Never more digits than the shortest representation.
                let digits = |s: &str| s.split(['e', 'E']).next().unwrap().bytes().filter(u8::is_ascii_digit).collect::<Vec<_>>().len();
                prop_assert!(digits(&s) <= digits(ryu.format_finite(v)).max(2) + 16);
            }
        }
    }
}
