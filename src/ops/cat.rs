//! Concatenation along an axis with numpy's `concatenate` semantics, streamed.
//!
//! The output is described as a sequence of segments in its memory order: for an output in C
//! order along axis `k`, every index of the axes before `k` is followed by each input's slab
//! (its length on `k` times the elements after `k`), in input order; a Fortran output mirrors
//! this over the axes after `k`. Each block of the output is filled segment by segment from
//! the inputs, whatever their own memory order. `append` reuses the same description.

use std::ops::Range;
use std::path::Path;

use crate::array::NpyFile;
use crate::convert::Report;
use crate::dtype::DType;
use crate::error::{Error, ErrorKind, Result};
use crate::header::{Header, Order, Version};
use crate::ops::Progress;
use crate::ops::cast::CastMode;
use crate::ops::stream::{self, Failure, Output};
use crate::write::Overwrite;

/// Options of [`concatenate`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CatOptions {
    /// The axis to join along (numpy's `axis`, non-negative).
    pub axis: usize,
    /// Output dtype (default: the first input's; the others are converted to it, and must
    /// have the same scalar type unless this is given).
    pub dtype: Option<DType>,
    /// How values that do not fit `dtype` are treated.
    pub cast: CastMode,
    /// Header version (default: what numpy would choose).
    pub version: Option<Version>,
}

/// Inputs joined along an axis, as a sequence of elements in `order`.
pub(crate) struct Concat<'a> {
    parts: Vec<&'a NpyFile>,
    order: Order,
    shape: Vec<usize>,
    /// Elements of each part per outer step.
    chunks: Vec<usize>,
    /// Running sum of `chunks`.
    starts: Vec<usize>,
    /// Sum of `chunks`: output elements per outer step.
    row: usize,
}

impl<'a> Concat<'a> {
    /// Check that `parts` can be joined along `axis` (same number of dimensions, same sizes
    /// off the axis; the same scalar type when `same_scalar`) and describe the result in
    /// `order`. Errors name the first part that does not fit.
    pub(crate) fn new(
        parts: Vec<&'a NpyFile>,
        axis: usize,
        order: Order,
        same_scalar: bool,
    ) -> Result<Concat<'a>> {
        let first = parts
            .first()
            .ok_or_else(|| Error::invalid("nothing to concatenate"))?;
        let ndim = first.ndim();
        if axis >= ndim.max(1) || ndim == 0 {
            return Err(Error::invalid(format!(
                "axis {axis} is out of bounds for an array of {ndim} dimensions"
            ))
            .with_path(first.path()));
        }
        let mut shape = first.shape().to_vec();
        shape[axis] = 0;
        for part in &parts {
            if same_scalar && part.dtype().scalar() != first.dtype().scalar() {
                return Err(Error::invalid(format!(
                    "dtype {} does not match {} of {}",
                    part.dtype(),
                    first.dtype(),
                    first.path().display()
                ))
                .with_path(part.path()));
            }
            let s = part.shape();
            let agrees = s.len() == ndim
                && s.iter()
                    .zip(first.shape())
                    .enumerate()
                    .all(|(k, (a, b))| k == axis || a == b);
            if !agrees {
                return Err(Error::new(ErrorKind::ShapeMismatch(format!(
                    "shape {s:?} cannot join {:?} of {} along axis {axis}",
                    first.shape(),
                    first.path().display()
                )))
                .with_path(part.path()));
            }
            shape[axis] = shape[axis]
                .checked_add(s[axis])
                .ok_or(ErrorKind::Overflow("concatenated shape"))?;
        }
        let (before, after): (usize, usize) = (
            shape[..axis].iter().product(),
            shape[axis + 1..].iter().product(),
        );
        let (outer_block, _) = match order {
            Order::C => (after, before),
            Order::Fortran => (before, after),
        };
        let chunks: Vec<usize> = parts
            .iter()
            .map(|p| p.shape()[axis] * outer_block)
            .collect();
        let mut starts = Vec::with_capacity(chunks.len());
        let mut acc = 0;
        for c in &chunks {
            starts.push(acc);
            acc += c;
        }
        Ok(Concat {
            parts,
            order,
            shape,
            chunks,
            starts,
            row: acc,
        })
    }

    /// Shape of the result.
    pub(crate) fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Elements of the result.
    pub(crate) fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The parts.
    pub(crate) fn parts(&self) -> &[&'a NpyFile] {
        &self.parts
    }

    /// Fill `out` with the result's elements `range` (in the result's order), cast to `to`.
    pub(crate) fn fill(
        &self,
        range: Range<usize>,
        to: DType,
        mode: CastMode,
        out: &mut [u8],
    ) -> std::result::Result<(), Failure> {
        let size = to.itemsize();
        let mut p = range.start;
        let mut written = 0;
        while p < range.end {
            let outer = p / self.row;
            let r = p % self.row;
            // the part whose slab holds r (skipping empty parts)
            let i = self.starts.partition_point(|&s| s <= r) - 1;
            let i = (i..self.parts.len())
                .find(|&j| r < self.starts[j] + self.chunks[j])
                .unwrap_or(i);
            let within = r - self.starts[i];
            let len = (self.chunks[i] - within).min(range.end - p);
            let start = outer * self.chunks[i] + within;
            stream::fill(
                self.parts[i],
                i,
                start..start + len,
                self.order,
                to,
                mode,
                &mut out[written..written + len * size],
            )?;
            p += len;
            written += len * size;
        }
        Ok(())
    }
}

/// Concatenate `inputs` along `opts.axis` into a new file at `output`, like
/// `np.save(output, np.concatenate(inputs, axis))`: the result is in Fortran order when every
/// input is, else in C order. Written atomically; nothing appears at `output` on error.
pub fn concatenate(
    inputs: &[NpyFile],
    output: &Path,
    opts: &CatOptions,
    overwrite: Overwrite,
    progress: Progress<'_>,
) -> Result<Report> {
    let order = if !inputs.is_empty() && inputs.iter().all(|f| f.order() == Order::Fortran) {
        Order::Fortran
    } else {
        Order::C
    };
    let concat = Concat::new(
        inputs.iter().collect(),
        opts.axis,
        order,
        opts.dtype.is_none(),
    )?;
    let dtype = opts.dtype.unwrap_or_else(|| inputs[0].dtype());
    let header = Header::with_version(dtype, concat.shape(), order, opts.version)?;
    let elements = concat.len();
    let bytes_out = stream::write_output(
        &Output {
            path: output,
            header: Some(&header),
            dtype,
            elements,
            overwrite,
            progress,
        },
        concat.parts(),
        false,
        opts.axis == 0 && order == Order::C,
        |range, out| concat.fill(range, dtype, opts.cast, out),
    )?;
    Ok(Report {
        rows: concat.shape().first().copied().unwrap_or(1) as u64,
        bytes_in: inputs.iter().map(|f| f.header().nbytes()).sum(),
        bytes_out,
    })
}
