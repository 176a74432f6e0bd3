//! `.npy` -> `.npy`: change the dtype (with safe or numpy-`astype` casting), the memory order
//! (a real transposed copy), the byte order and the format version, streaming in parallel
//! blocks with bounded memory. The output is byte-identical to `np.save` of the same result.

use std::path::Path;

use crate::array::NpyFile;
use crate::convert::Report;
use crate::dtype::{ByteOrder, DType};
use crate::error::Result;
use crate::header::{Header, Order, Version};
use crate::ops::Progress;
use crate::ops::cast::CastMode;
use crate::ops::stream::{self, Output};
use crate::write::Overwrite;

/// What to change in an npy -> npy (or npy -> raw) conversion; `None` keeps the input's.
#[derive(Clone, Copy, Debug, Default)]
pub struct NpyOptions {
    /// Target dtype. Its byte order is used unless `byte_order` is given.
    pub dtype: Option<DType>,
    /// Target memory order.
    pub order: Option<Order>,
    /// Target byte order (`ByteOrder::NATIVE` for "native").
    pub byte_order: Option<ByteOrder>,
    /// Header version (default: what numpy would choose).
    pub version: Option<Version>,
    /// How values that do not fit the target dtype are treated.
    pub cast: CastMode,
}

impl NpyOptions {
    /// The dtype and order the output of `input` gets.
    pub fn target(&self, input: &NpyFile) -> (DType, Order) {
        let mut dtype = self.dtype.unwrap_or(input.dtype());
        if let Some(order) = self.byte_order {
            dtype = dtype.with_byte_order(order);
        }
        (dtype, self.order.unwrap_or(input.order()))
    }
}

/// Convert `input` into a new `.npy` file at `output` (atomically: nothing appears there on
/// error, including a failed safe cast).
pub fn npy_to_npy(
    input: &NpyFile,
    output: &Path,
    opts: &NpyOptions,
    overwrite: Overwrite,
    progress: Progress<'_>,
) -> Result<Report> {
    let (dtype, order) = opts.target(input);
    let header = Header::with_version(dtype, input.shape(), order, opts.version)?;
    write(
        input,
        output,
        Some(&header),
        dtype,
        header.order(),
        opts.cast,
        overwrite,
        progress,
    )
}

/// Write the data bytes of `input`, converted per `opts`, to `output` with no header (raw
/// binary export). The version option is ignored.
pub fn npy_to_raw(
    input: &NpyFile,
    output: &Path,
    opts: &NpyOptions,
    overwrite: Overwrite,
    progress: Progress<'_>,
) -> Result<Report> {
    let (dtype, order) = opts.target(input);
    write(
        input, output, None, dtype, order, opts.cast, overwrite, progress,
    )
}

#[allow(clippy::too_many_arguments)]
fn write(
    input: &NpyFile,
    output: &Path,
    header: Option<&Header>,
    dtype: DType,
    order: Order,
    cast: CastMode,
    overwrite: Overwrite,
    progress: Progress<'_>,
) -> Result<Report> {
    let contiguous = input.order() == order || stream::orders_coincide(input.shape());
    input.will_need(0, crate::engine::WINDOW_BYTES);
    let out = Output {
        path: output,
        header,
        dtype,
        elements: input.len(),
        overwrite,
        progress,
    };
    let bytes_out = if !contiguous && stream::wants_tiles(input.shape()) {
        stream::write_transposed(&out, input, order, cast)?
    } else {
        stream::write_output(
            &out,
            &[input],
            contiguous,
            order == Order::C,
            |range, buf| stream::fill(input, 0, range, order, dtype, cast, buf),
        )?
    };
    Ok(Report {
        rows: input.shape().first().copied().unwrap_or(1) as u64,
        bytes_in: input.header().nbytes(),
        bytes_out,
    })
}
