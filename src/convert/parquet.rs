//! Apache Parquet <-> `.npy`, through the arrow-rs `parquet` crate (cargo feature `parquet`, on
//! by default).
//!
//! # Import
//! Numeric columns (integers, floats, booleans) become the columns of a 2-D `(rows, columns)`
//! array of one dtype. The row count is known from the footer, so the `.npy` header is written
//! first and the data streamed after it. Row groups are decoded in parallel, a window of
//! `threads` row groups at a time, each by its own reader over the shared footer, and written in
//! order: memory is bounded by a few row groups (decoded columns plus their interleaved rows).
//! A null is NaN for float output and an error naming the column and row for anything else; a
//! value that does not fit the output dtype (out of range, or fractional into an integer) is an
//! error too. Integer to float conversion rounds like numpy's `astype`.
//!
//! # Export
//! A 1-D or 2-D array becomes columns `c0..cN` (or the names given), written in row groups of
//! about [`ROW_GROUP_BYTES`] of data, zstd-compressed (level 1). Complex arrays have no Parquet
//! type and are refused.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, BooleanArray, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use half::f16;
use num_complex::Complex;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::arrow_writer::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::array::NpyFile;
use crate::convert::{Report, check_output, table_shape, write_behind};
use crate::dtype::{Bool, DType, Element, Scalar, f16_from_f64, swap_bytes_in_place};
use crate::error::{Error, Result, ResultExt};
use crate::header::{Header, Order};
use crate::write::{AtomicFile, Overwrite};

/// Target bytes of array data per exported row group.
pub const ROW_GROUP_BYTES: usize = 64 << 20;

/// Rows per record batch when decoding.
const BATCH_ROWS: usize = 64 * 1024;

fn parquet_error(e: parquet::errors::ParquetError) -> Error {
    Error::invalid(format!("parquet: {e}"))
}

fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
        && !matches!(
            t,
            DataType::Decimal32(..)
                | DataType::Decimal64(..)
                | DataType::Decimal128(..)
                | DataType::Decimal256(..)
        )
        || matches!(t, DataType::Boolean)
}

/// Import numeric columns of a Parquet file (all of them, or `columns` in that order) into a
/// 2-D `(rows, columns)` `.npy` array of `dtype`. See the module docs.
pub fn parquet_to_npy(
    input: &Path,
    output: &Path,
    columns: Option<&[String]>,
    dtype: DType,
    overwrite: Overwrite,
) -> Result<Report> {
    parquet_to_npy_with_progress(input, output, columns, dtype, overwrite, &|_| {})
}

/// [`parquet_to_npy`], calling `progress(bytes)` with input file bytes as the work advances:
/// the bytes outside the row groups (magic, footer) once the footer is read, then each row
/// group's compressed size as it is decoded. The calls add up to the file's length.
pub fn parquet_to_npy_with_progress(
    input: &Path,
    output: &Path,
    columns: Option<&[String]>,
    dtype: DType,
    overwrite: Overwrite,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report> {
    check_output(output, &[input], overwrite)?;
    let file = crate::array::open_regular_file(input, false).at(input)?;
    crate::map::lock(&file, false).at(input)?;
    let bytes_in = file
        .metadata()
        .map_err(|e| Error::io("stat", e))
        .at(input)?
        .len();
    let meta = ArrowReaderMetadata::load(&file, Default::default())
        .map_err(parquet_error)
        .at(input)?;
    let schema = meta.schema().clone();
    let fields = schema.fields();
    let selected: Vec<usize> = match columns {
        Some(names) => names
            .iter()
            .map(|name| {
                let index = fields
                    .iter()
                    .position(|f| f.name() == name)
                    .ok_or_else(|| {
                        let all: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
                        Error::invalid(format!("no column {name:?} (columns: {})", all.join(", ")))
                    })?;
                let t = fields[index].data_type();
                if !is_numeric(t) {
                    return Err(Error::invalid(format!(
                        "column {name:?} has type {t}, not a number"
                    )));
                }
                Ok(index)
            })
            .collect::<Result<_>>()
            .at(input)?,
        None => {
            let all: Vec<usize> = (0..fields.len())
                .filter(|&i| is_numeric(fields[i].data_type()))
                .collect();
            if all.is_empty() {
                return Err(Error::invalid("no numeric column to import").with_path(input));
            }
            all
        }
    };
    // The projection yields columns in file order; map each requested column to its position.
    let mut projected: Vec<usize> = selected.clone();
    projected.sort_unstable();
    projected.dedup();
    let positions: Vec<usize> = selected
        .iter()
        .map(|i| projected.binary_search(i).unwrap_or(0))
        .collect();
    let names: Vec<String> = selected.iter().map(|&i| fields[i].name().clone()).collect();
    let mask = ProjectionMask::roots(meta.parquet_schema(), projected.iter().copied());
    let total_rows = usize::try_from(meta.metadata().file_metadata().num_rows())
        .map_err(|_| Error::invalid("negative or huge row count in the footer").with_path(input))?;
    let job = Import {
        input,
        meta: &meta,
        mask: &mask,
        positions: &positions,
        names: &names,
        progress: InputProgress::new(bytes_in, &meta, progress),
    };
    let bytes_out = crate::dispatch_scalar!(dtype.scalar(), T => {
        job.run::<T>(output, dtype, total_rows, overwrite)
    })?;
    Ok(Report {
        rows: total_rows as u64,
        bytes_in,
        bytes_out,
    })
}

struct Import<'a> {
    input: &'a Path,
    meta: &'a ArrowReaderMetadata,
    mask: &'a ProjectionMask,
    positions: &'a [usize],
    names: &'a [String],
    progress: InputProgress<'a>,
}

/// Progress over the input file's bytes, reported per row group. The footer's sizes are not
/// trusted to add up: each report is capped at what is left of the file, and whatever the
/// row groups do not account for is reported up front, so the total is the file's length.
struct InputProgress<'a> {
    file_len: u64,
    /// Each row group's compressed size as the footer states it.
    group_bytes: Vec<u64>,
    reported: AtomicU64,
    hook: &'a (dyn Fn(u64) + Sync),
}

impl<'a> InputProgress<'a> {
    fn new(
        file_len: u64,
        meta: &ArrowReaderMetadata,
        hook: &'a (dyn Fn(u64) + Sync),
    ) -> InputProgress<'a> {
        let group_bytes: Vec<u64> = meta
            .metadata()
            .row_groups()
            .iter()
            .map(|g| u64::try_from(g.compressed_size()).unwrap_or(0))
            .collect();
        let in_groups = group_bytes
            .iter()
            .fold(0u64, |sum, &b| sum.saturating_add(b));
        let progress = InputProgress {
            file_len,
            group_bytes,
            reported: AtomicU64::new(0),
            hook,
        };
        progress.report(file_len.saturating_sub(in_groups));
        progress
    }

    /// Report `bytes` more, capped at what is left of the file. Called from one thread at a
    /// time (the window loop), so the load and store need not be one atomic step.
    fn report(&self, bytes: u64) {
        let reported = self.reported.load(Ordering::Relaxed);
        let bytes = bytes.min(self.file_len - reported);
        if bytes > 0 {
            self.reported.store(reported + bytes, Ordering::Relaxed);
            (self.hook)(bytes);
        }
    }

    /// Row groups `groups` are decoded.
    fn groups_done(&self, groups: std::ops::Range<usize>) {
        let bytes = self.group_bytes[groups]
            .iter()
            .fold(0u64, |sum, &b| sum.saturating_add(b));
        self.report(bytes);
    }

    /// The import is complete: report whatever is left.
    fn finish(&self) {
        self.report(self.file_len - self.reported.load(Ordering::Relaxed));
    }
}

impl Import<'_> {
    fn run<T: FromNumber>(
        &self,
        output: &Path,
        dtype: DType,
        total_rows: usize,
        overwrite: Overwrite,
    ) -> Result<u64> {
        use std::io::Write;
        let ncols = self.positions.len();
        let header = Header::new(dtype, &[total_rows, ncols], Order::C).at(output)?;
        let mut out = AtomicFile::new(output)?;
        out.write_all(&header.to_bytes()?)
            .map_err(|e| Error::io("write header", e))
            .at(output)?;
        let groups = self.meta.metadata().row_groups();
        let mut first_rows = Vec::with_capacity(groups.len());
        let mut rows_before = 0usize;
        for g in groups {
            first_rows.push(rows_before);
            rows_before += g.num_rows() as usize;
        }
        if rows_before != total_rows {
            return Err(
                Error::invalid("row groups do not add up to the file's row count")
                    .with_path(self.input),
            );
        }
        let per_window = rayon::current_num_threads().max(1);
        write_behind::<T>(out.file(), |tx| {
            let mut g = 0;
            while g < groups.len() {
                let window = g..(g + per_window).min(groups.len());
                let parts = window
                    .clone()
                    .into_par_iter()
                    .map(|i| self.read_group::<T>(i, first_rows[i], ncols))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .collect::<Result<Vec<Vec<T>>>>()
                    .at(self.input)?;
                self.progress.groups_done(window.clone());
                let mut parts = parts;
                if !dtype.is_native() {
                    for part in &mut parts {
                        swap_bytes_in_place(dtype.scalar(), bytemuck::cast_slice_mut(part));
                    }
                }
                if tx.send(parts).is_err() {
                    break; // the writer failed; write_behind reports its error
                }
                g = window.end;
            }
            Ok(())
        })
        .at(output)?;
        out.commit(overwrite)?;
        self.progress.finish();
        header.end()
    }

    /// Decode row group `group` into row-major values.
    fn read_group<T: FromNumber>(
        &self,
        group: usize,
        first_row: usize,
        ncols: usize,
    ) -> Result<Vec<T>> {
        let file = File::open(self.input).map_err(|e| Error::io("open", e))?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
            .with_projection(self.mask.clone())
            .with_row_groups(vec![group])
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(parquet_error)?;
        let rows = self.meta.metadata().row_group(group).num_rows() as usize;
        let mut values = vec![T::zeroed(); rows * ncols];
        let mut done = 0;
        for batch in reader {
            let batch = batch.map_err(|e| Error::invalid(format!("parquet: {e}")))?;
            let n = batch.num_rows();
            if done + n > rows {
                return Err(Error::invalid(
                    "row group holds more rows than its metadata says",
                ));
            }
            let block = &mut values[done * ncols..(done + n) * ncols];
            for (c, &pos) in self.positions.iter().enumerate() {
                fill_column(batch.column(pos).as_ref(), c, ncols, block).map_err(|(i, why)| {
                    Error::invalid(format!(
                        "column {:?}, row {}: {why}",
                        self.names[c],
                        first_row + done + i
                    ))
                })?;
            }
            done += n;
        }
        if done != rows {
            return Err(Error::invalid(
                "row group holds fewer rows than its metadata says",
            ));
        }
        Ok(values)
    }
}

/// Conversion of one Parquet value into an output element, checked.
trait FromNumber: Element {
    /// The value of a null, if allowed (NaN for float outputs).
    const NULL: Option<Self>;
    fn from_f64(v: f64) -> Option<Self>;
    fn from_i64(v: i64) -> Option<Self>;
    fn from_u64(v: u64) -> Option<Self>;
}

macro_rules! float_from {
    ($($t:ty => $from_f64:expr),*) => {$(
        impl FromNumber for $t {
            const NULL: Option<$t> = Some(<$t>::NAN);
            fn from_f64(v: f64) -> Option<$t> { Some($from_f64(v)) }
            fn from_i64(v: i64) -> Option<$t> { Some($from_f64(v as f64)) }
            fn from_u64(v: u64) -> Option<$t> { Some($from_f64(v as f64)) }
        }
    )*};
}

float_from!(f64 => |v: f64| v, f32 => |v: f64| v as f32, f16 => f16_from_f64);

macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl FromNumber for $t {
            const NULL: Option<$t> = None;
            fn from_f64(v: f64) -> Option<$t> {
                // Exactly integral and in range; the bounds are exact in f64 after rounding out.
                if v.fract() != 0.0 || !v.is_finite() {
                    return None;
                }
                let wide = v as i128;
                if wide as f64 != v {
                    return None;
                }
                <$t>::try_from(wide).ok()
            }
            fn from_i64(v: i64) -> Option<$t> { <$t>::try_from(v).ok() }
            fn from_u64(v: u64) -> Option<$t> { <$t>::try_from(v).ok() }
        }
    )*};
}

int_from!(i8, i16, i32, i64, u8, u16, u32, u64);

impl FromNumber for Bool {
    const NULL: Option<Bool> = None;
    fn from_f64(v: f64) -> Option<Bool> {
        Some(Bool::from(v != 0.0))
    }
    fn from_i64(v: i64) -> Option<Bool> {
        Some(Bool::from(v != 0))
    }
    fn from_u64(v: u64) -> Option<Bool> {
        Some(Bool::from(v != 0))
    }
}

macro_rules! complex_from {
    ($($t:ty),*) => {$(
        impl FromNumber for Complex<$t> {
            const NULL: Option<Complex<$t>> = Some(Complex::new(<$t>::NAN, 0.0));
            fn from_f64(v: f64) -> Option<Self> { Some(Complex::new(v as $t, 0.0)) }
            fn from_i64(v: i64) -> Option<Self> { Some(Complex::new(v as $t, 0.0)) }
            fn from_u64(v: u64) -> Option<Self> { Some(Complex::new(v as $t, 0.0)) }
        }
    )*};
}

complex_from!(f32, f64);

/// Write column `col` of a `(n, ncols)` row-major block from one Arrow array. On failure,
/// returns the row within the batch and why.
fn fill_column<T: FromNumber>(
    array: &dyn Array,
    col: usize,
    ncols: usize,
    block: &mut [T],
) -> std::result::Result<(), (usize, String)> {
    fn put<T: FromNumber, V: Copy>(
        array: &dyn Array,
        values: impl Fn(usize) -> V,
        convert: impl Fn(V) -> Option<T>,
        show: impl Fn(V) -> String,
        col: usize,
        ncols: usize,
        block: &mut [T],
    ) -> std::result::Result<(), (usize, String)> {
        let nulls = array.null_count() > 0;
        for (i, slot) in block.iter_mut().skip(col).step_by(ncols).enumerate() {
            *slot = if nulls && array.is_null(i) {
                T::NULL
                    .ok_or_else(|| (i, format!("null cannot be stored as {}", T::SCALAR.name())))?
            } else {
                let v = values(i);
                convert(v).ok_or_else(|| {
                    (
                        i,
                        format!("value {} does not fit in {}", show(v), T::SCALAR.name()),
                    )
                })?
            };
        }
        Ok(())
    }
    macro_rules! prim {
        ($ty:ty, $via:ident, $cast:ty) => {{
            let a = array.as_primitive::<$ty>();
            let raw = a.values();
            put(
                array,
                |i| raw[i] as $cast,
                T::$via,
                |v| v.to_string(),
                col,
                ncols,
                block,
            )
        }};
    }
    match array.data_type() {
        DataType::Float64 => prim!(Float64Type, from_f64, f64),
        DataType::Float32 => prim!(Float32Type, from_f64, f64),
        DataType::Float16 => {
            let a = array.as_primitive::<Float16Type>();
            let raw = a.values();
            put(
                array,
                |i| raw[i].to_f64(),
                T::from_f64,
                |v| v.to_string(),
                col,
                ncols,
                block,
            )
        }
        DataType::Int8 => prim!(Int8Type, from_i64, i64),
        DataType::Int16 => prim!(Int16Type, from_i64, i64),
        DataType::Int32 => prim!(Int32Type, from_i64, i64),
        DataType::Int64 => prim!(Int64Type, from_i64, i64),
        DataType::UInt8 => prim!(UInt8Type, from_u64, u64),
        DataType::UInt16 => prim!(UInt16Type, from_u64, u64),
        DataType::UInt32 => prim!(UInt32Type, from_u64, u64),
        DataType::UInt64 => prim!(UInt64Type, from_u64, u64),
        DataType::Boolean => {
            let a = array.as_boolean();
            put(
                array,
                |i| a.value(i) as u64,
                T::from_u64,
                |v| v.to_string(),
                col,
                ncols,
                block,
            )
        }
        other => Err((0, format!("type {other} is not numeric"))),
    }
}

/// Export a 1-D or 2-D array as a Parquet file with one column per array column, named
/// `c0..cN` or by `names` (one per column).
pub fn npy_to_parquet(
    input: &NpyFile,
    output: &Path,
    names: Option<&[String]>,
    overwrite: Overwrite,
) -> Result<Report> {
    npy_to_parquet_with_progress(input, output, names, overwrite, &|_| {})
}

/// [`npy_to_parquet`], calling `progress(bytes)` with the input data bytes of each batch of
/// rows as it is handed to the writer: the calls add up to the array's data size
/// (`header().nbytes()`).
pub fn npy_to_parquet_with_progress(
    input: &NpyFile,
    output: &Path,
    names: Option<&[String]>,
    overwrite: Overwrite,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report> {
    check_output(output, &[input.path()], overwrite)?;
    let (rows, ncols) = table_shape(input, "parquet")?;
    crate::convert::check_columns_without_rows(input, rows, ncols)?;
    let names: Vec<String> = match names {
        Some(n) if n.len() != ncols => {
            return Err(Error::invalid(format!(
                "{} column names given for {ncols} columns",
                n.len()
            ))
            .with_path(output));
        }
        Some(n) => n.to_vec(),
        None => (0..ncols).map(|c| format!("c{c}")).collect(),
    };
    let scalar = input.dtype().scalar();
    let Some(data_type) = arrow_type(scalar) else {
        return Err(Error::invalid(format!(
            "{} has no parquet type (export the real and imaginary parts as separate columns)",
            scalar.name()
        ))
        .with_path(input.path()));
    };
    let bytes_out = crate::dispatch_scalar!(scalar, T => {
        let table = Table {
            rows,
            ncols,
            names: &names,
            data_type,
        };
        export::<T>(input, &table, output, overwrite, progress)
    })
    .at(output)?;
    Ok(Report {
        rows: rows as u64,
        bytes_in: input.header().nbytes(),
        bytes_out,
    })
}

/// The Arrow type a column of `scalar` is exported as; none for complex numbers.
fn arrow_type(scalar: Scalar) -> Option<DataType> {
    Some(match scalar {
        Scalar::Bool => DataType::Boolean,
        Scalar::I8 => DataType::Int8,
        Scalar::I16 => DataType::Int16,
        Scalar::I32 => DataType::Int32,
        Scalar::I64 => DataType::Int64,
        Scalar::U8 => DataType::UInt8,
        Scalar::U16 => DataType::UInt16,
        Scalar::U32 => DataType::UInt32,
        Scalar::U64 => DataType::UInt64,
        Scalar::F16 => DataType::Float16,
        Scalar::F32 => DataType::Float32,
        Scalar::F64 => DataType::Float64,
        Scalar::C64 | Scalar::C128 => return None,
    })
}

/// One column of values as an Arrow array.
fn column_array<T: Element>(values: Vec<T>, data_type: &DataType) -> ArrayRef {
    macro_rules! prim {
        ($ty:ty) => {
            Arc::new(PrimitiveArray::<$ty>::from_iter_values(
                bytemuck::cast_slice::<T, <$ty as arrow_array::ArrowPrimitiveType>::Native>(
                    &values,
                )
                .iter()
                .copied(),
            )) as ArrayRef
        };
    }
    match data_type {
        DataType::Boolean => {
            let bools: &[Bool] = bytemuck::cast_slice(&values);
            Arc::new(BooleanArray::from_iter(bools.iter().map(|b| Some(b.get()))))
        }
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float16 => prim!(Float16Type),
        DataType::Float32 => prim!(Float32Type),
        _ => prim!(Float64Type),
    }
}

/// The shape and columns of an export.
struct Table<'a> {
    rows: usize,
    ncols: usize,
    names: &'a [String],
    data_type: DataType,
}

fn export<T: Element>(
    input: &NpyFile,
    table: &Table<'_>,
    output: &Path,
    overwrite: Overwrite,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64> {
    let Table {
        rows,
        ncols,
        names,
        ref data_type,
    } = *table;
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, data_type.clone(), false))
            .collect::<Vec<_>>(),
    ));
    let row_bytes = (ncols * std::mem::size_of::<T>()).max(1);
    let group_rows = (ROW_GROUP_BYTES / row_bytes).max(1);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).map_err(parquet_error)?,
        ))
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let out = AtomicFile::new(output)?;
    let mut writer = ArrowWriter::try_new(
        std::io::BufWriter::with_capacity(1 << 20, out),
        schema.clone(),
        Some(props),
    )
    .map_err(parquet_error)?;
    let dtype = input.dtype();
    let fortran = input.order() == Order::Fortran && ncols > 1;
    let size = dtype.itemsize();
    let bytes = input.bytes();
    let batch_rows = (BATCH_ROWS * 4 / ncols.max(1)).max(1);
    let mut start = 0;
    while start < rows {
        let end = (start + batch_rows).min(rows);
        let columns: Vec<ArrayRef> = (0..ncols)
            .into_par_iter()
            .map(|c| {
                let mut values: Vec<T> = (start..end)
                    .map(|r| {
                        let index = if fortran { c * rows + r } else { r * ncols + c };
                        bytemuck::pod_read_unaligned(&bytes[index * size..(index + 1) * size])
                    })
                    .collect();
                if !dtype.is_native() {
                    swap_bytes_in_place(dtype.scalar(), bytemuck::cast_slice_mut(&mut values));
                }
                column_array(values, data_type)
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| Error::invalid(e.to_string()))?;
        writer.write(&batch).map_err(parquet_error)?;
        progress(((end - start) * ncols * size) as u64);
        start = end;
    }
    // into_inner writes the footer.
    let buffered = writer.into_inner().map_err(parquet_error)?;
    let mut out = buffered
        .into_inner()
        .map_err(|e| Error::io("write", e.into_error()))?;
    let written = out
        .file()
        .metadata()
        .map_err(|e| Error::io("stat", e))?
        .len();
    out.commit(overwrite)?;
    Ok(written)
}
