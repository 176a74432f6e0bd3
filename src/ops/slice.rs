//! Slices of mapped arrays: the zero-copy view ([`NpyArray::slice`]) and the streamed,
//! parallel, byte-level copy into a new file ([`slice_to_file`]).
//!
//! The copy never looks at values: elements are moved as `itemsize`-byte units, so it works
//! for every dtype and keeps the input's byte order. The selection is reduced to a strided
//! walk over the input in its memory order (C, or F seen as C with the axes reversed), with
//! contiguous inner runs merged into single `memcpy`s.

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::ArrayViewD;

use super::stream::{self, Pass};
use super::{OUT_WINDOW_BYTES, OutputOptions, Selection, SliceExpr};
use crate::array::{NpyArray, NpyFile};
use crate::dtype::Element;
use crate::engine::{ChunkPlan, Paging};
use crate::error::{Error, Result, ResultExt};
use crate::header::Order;

impl<T: Element> NpyArray<T> {
    /// A zero-copy view of `a[expr]` with numpy's basic-indexing rules (C and Fortran files).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("a.npy");
    /// use mmnpy::{NpyArray, Order};
    /// let mut a = NpyArray::<i32>::create(&path, &[4, 5], Order::C)?;
    /// for (i, x) in a.as_slice_mut()?.iter_mut().enumerate() { *x = i as i32; }
    /// let v = a.slice("1:, ::-2")?;
    /// assert_eq!(v.shape(), &[3, 3]);
    /// assert_eq!(v[[0, 0]], 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn slice(&self, expr: &str) -> Result<ArrayViewD<'_, T>> {
        let selection = SliceExpr::parse(expr)?
            .resolve(self.shape())
            .at(self.file().path())?;
        Ok(selection.apply(self.view()))
    }
}

/// Copy `input[selection]` into a new `.npy` file at `out`, in parallel, streaming the input.
/// The output has the input's dtype (byte order included) and memory order (see the module
/// docs of [`crate::ops`]). Nothing appears at `out` unless the whole copy succeeds.
pub fn slice_to_file(
    input: &NpyFile,
    selection: &Selection,
    out: impl AsRef<Path>,
    options: &OutputOptions<'_>,
) -> Result<NpyFile> {
    let out = out.as_ref();
    options.check_output(input, out)?;
    if selection.axes().len() != input.ndim() {
        return Err(crate::Error::invalid(format!(
            "selection has {} axes but the array has {}",
            selection.axes().len(),
            input.ndim()
        ))
        .with_path(input.path()));
    }
    let walk = StridedWalk::new(input, selection);
    let mut output = NpyFile::create(out, input.dtype(), &selection.shape(), input.order())?;
    walk.copy_windowed(input, &output, options)?;
    output.persist_with(options.overwrite_mode())?;
    Ok(output)
}

/// A selection flattened to "output element `i` is the input element at byte offset
/// `base + sum(index_k * strides_k)`", with `dims` the output's extents in memory order.
#[derive(Debug, Clone)]
pub(crate) struct StridedWalk {
    itemsize: usize,
    base: isize,
    dims: Vec<usize>,
    strides: Vec<isize>,
    len: usize,
}

impl StridedWalk {
    pub(crate) fn new(input: &NpyFile, selection: &Selection) -> StridedWalk {
        StridedWalk::from_parts(
            input.shape(),
            input.order(),
            input.dtype().itemsize(),
            selection,
        )
    }

    fn from_parts(
        shape: &[usize],
        order: Order,
        itemsize: usize,
        selection: &Selection,
    ) -> StridedWalk {
        let mut axes: Vec<(usize, crate::ops::AxisSelection)> = shape
            .iter()
            .copied()
            .zip(selection.axes().iter().copied())
            .collect();
        if order == Order::Fortran {
            axes.reverse(); // F order is C order of the reversed axes
        }
        let mut base = 0isize;
        let mut dims = Vec::new();
        let mut strides = Vec::new();
        let mut axis_stride = itemsize as isize;
        for &(extent, sel) in axes.iter().rev() {
            base += sel.start as isize * axis_stride;
            if sel.keep && sel.len != 1 {
                dims.push(sel.len);
                strides.push(sel.step * axis_stride);
            }
            axis_stride *= extent as isize;
        }
        dims.reverse();
        strides.reverse();
        // Merge an axis into its inner neighbour when together they walk one stride.
        let mut k = dims.len();
        while k >= 2 {
            let (outer, inner) = (k - 2, k - 1);
            if strides[outer] == strides[inner] * dims[inner] as isize {
                dims[outer] *= dims[inner];
                strides[outer] = strides[inner];
                dims.remove(inner);
                strides.remove(inner);
            }
            k -= 1;
        }
        if dims.is_empty() {
            dims.push(1);
            strides.push(itemsize as isize);
        }
        let len = if selection.is_empty() {
            0
        } else {
            dims.iter().product()
        };
        StridedWalk {
            itemsize,
            base,
            dims,
            strides,
            len,
        }
    }

    /// Copy output elements `first..first + out.len() / itemsize` from `src`; returns the
    /// lowest and one-past-highest input byte touched.
    pub(crate) fn copy_range(&self, src: &[u8], first: usize, out: &mut [u8]) -> (usize, usize) {
        let n = self.dims.len();
        let last = n - 1;
        let inner = self.dims[last];
        let inner_stride = self.strides[last];
        let isz = self.itemsize;
        let count = out.len() / isz;
        let mut index = vec![0usize; n];
        let mut rem = first;
        let mut offset = self.base;
        for k in (0..n).rev() {
            index[k] = rem % self.dims[k];
            rem /= self.dims[k];
            offset += index[k] as isize * self.strides[k];
        }
        let (mut lo, mut hi) = (usize::MAX, 0usize);
        let mut done = 0;
        while done < count {
            let run = (inner - index[last]).min(count - done);
            let dst = &mut out[done * isz..(done + run) * isz];
            let end = offset + (run as isize - 1) * inner_stride;
            lo = lo.min(offset.min(end) as usize);
            hi = hi.max(offset.max(end) as usize + isz);
            copy_run(src, offset, inner_stride, isz, dst);
            done += run;
            index[last] += run;
            offset += run as isize * inner_stride;
            if index[last] == inner {
                offset -= inner as isize * inner_stride;
                index[last] = 0;
                for k in (0..last).rev() {
                    index[k] += 1;
                    offset += self.strides[k];
                    if index[k] < self.dims[k] {
                        break;
                    }
                    offset -= self.dims[k] as isize * self.strides[k];
                    index[k] = 0;
                }
            }
        }
        (lo, hi)
    }

    /// Input byte offset of output element `flat`.
    fn offset_of(&self, flat: usize) -> usize {
        let mut rem = flat;
        let mut offset = self.base;
        for k in (0..self.dims.len()).rev() {
            offset += (rem % self.dims[k]) as isize * self.strides[k];
            rem /= self.dims[k];
        }
        offset as usize
    }

    /// Bytes of input per byte of output over the whole walk (>= 1 for a real selection):
    /// sizes the output windows so that each covers about one engine window of input.
    fn expansion(&self) -> f64 {
        let span: isize = self
            .dims
            .iter()
            .zip(&self.strides)
            .map(|(&d, &s)| (d as isize - 1) * s.abs())
            .sum::<isize>()
            + self.itemsize as isize;
        (span as f64 / (self.len * self.itemsize).max(1) as f64).max(1.0)
    }

    /// The whole copy, through the engine's streaming skeleton: blocks of output in order,
    /// each gathered into a per-thread buffer and written with `pwrite` (writing through a
    /// mapping of the new file would cost a page fault per 4 KiB), windows of output sized to
    /// cover about one engine window of input; the input pages a window read are released
    /// once all its blocks are done, and those of the window after the current one asked for
    /// ahead, so resident memory stays bounded. Blocks run through [`stream::run`], which
    /// returns the first write error in block order.
    pub(crate) fn copy_windowed(
        &self,
        input: &NpyFile,
        output: &NpyFile,
        options: &OutputOptions,
    ) -> Result<()> {
        let isz = self.itemsize;
        if self.len == 0 {
            return Ok(());
        }
        let window_elems = ((OUT_WINDOW_BYTES as f64 / self.expansion()) as usize / isz).max(1);
        let block_elems = (window_elems / 16).clamp((64 << 10) / isz, (1 << 20) / isz);
        let plan = ChunkPlan::with_block_units(self.len, isz, block_elems)
            .with_window_blocks((window_elems / block_elems).max(1));
        let src = input.bytes();
        let paging = InputPaging {
            walk: self,
            input,
            plan: &plan,
            spans: (0..plan.num_blocks())
                .map(|_| (AtomicUsize::new(usize::MAX), AtomicUsize::new(0)))
                .collect(),
        };
        let pass = Pass {
            plan,
            out_itemsize: isz,
            keys_in_output_order: true,
            paging: &paging,
            progress: options.progress_hook(),
        };
        stream::run(
            &pass,
            |range, out| {
                let span = &paging.spans[range.start / block_elems];
                let (lo, hi) = self.copy_range(src, range.start, out);
                span.0.store(lo, Ordering::Relaxed);
                span.1.store(hi, Ordering::Relaxed);
                Ok(())
            },
            |first, bytes| output.write_at(first * isz, bytes),
            // Never called: a copy of bytes has no value to refuse.
            |f| Error::invalid(format!("cannot copy element {}", f.index)),
        )
    }
}

/// The input pages of a strided copy, a window of output blocks at a time: released over the
/// byte spans the blocks read (recorded as they ran), asked for between the input offsets of
/// the window's first and last elements.
struct InputPaging<'a> {
    walk: &'a StridedWalk,
    input: &'a NpyFile,
    plan: &'a ChunkPlan,
    /// The input byte span `(lo, hi)` each block read (`(MAX, 0)` until it ran).
    spans: Vec<(AtomicUsize, AtomicUsize)>,
}

impl Paging for InputPaging<'_> {
    fn release(&self, blocks: Range<usize>) {
        let spans = &self.spans[blocks];
        let lo = spans.iter().map(|s| s.0.load(Ordering::Relaxed)).min();
        let hi = spans.iter().map(|s| s.1.load(Ordering::Relaxed)).max();
        if let (Some(lo), Some(hi)) = (lo, hi)
            && lo < hi
        {
            self.input.release(lo, hi - lo);
        }
    }

    fn announce(&self, blocks: Range<usize>) {
        let elements = self.plan.blocks_units(blocks);
        let (a, b) = (
            self.walk.offset_of(elements.start),
            self.walk.offset_of(elements.end - 1),
        );
        self.input
            .will_need(a.min(b), a.abs_diff(b) + self.walk.itemsize);
    }
}

/// Copy `dst.len() / isz` elements starting at byte `offset` of `src`, `stride` bytes apart.
fn copy_run(src: &[u8], offset: isize, stride: isize, isz: usize, dst: &mut [u8]) {
    let offset = offset as usize;
    if stride == isz as isize {
        dst.copy_from_slice(&src[offset..offset + dst.len()]);
        return;
    }
    match isz {
        1 => gather_fixed::<1>(src, offset, stride, dst),
        2 => gather_fixed::<2>(src, offset, stride, dst),
        4 => gather_fixed::<4>(src, offset, stride, dst),
        8 => gather_fixed::<8>(src, offset, stride, dst),
        16 => gather_fixed::<16>(src, offset, stride, dst),
        _ => {
            for (k, d) in dst.chunks_exact_mut(isz).enumerate() {
                let at = (offset as isize + k as isize * stride) as usize;
                d.copy_from_slice(&src[at..at + isz]);
            }
        }
    }
}

fn gather_fixed<const N: usize>(src: &[u8], offset: usize, stride: isize, dst: &mut [u8]) {
    // Walk the source span in `|stride|`-byte chunks (the last one is exactly N bytes), so the
    // loop has no index arithmetic and one cheap length check per element.
    let count = dst.len() / N;
    if count == 0 {
        return;
    }
    let step = stride.unsigned_abs();
    let span_len = (count - 1) * step + N;
    let first = if stride > 0 {
        offset
    } else {
        offset + N - span_len
    };
    let chunks = src[first..first + span_len].chunks(step);
    let pairs = dst.chunks_exact_mut(N);
    if stride > 0 {
        for (d, chunk) in pairs.zip(chunks) {
            d.copy_from_slice(&chunk[..N]);
        }
    } else {
        for (d, chunk) in pairs.zip(chunks.rev()) {
            d.copy_from_slice(&chunk[..N]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::SliceExpr;
    use proptest::prelude::*;

    /// The naive twin: every output element's input offset computed from its multi-index.
    fn naive(shape: &[usize], order: Order, isz: usize, sel: &Selection, src: &[u8]) -> Vec<u8> {
        let n = shape.len();
        let strides: Vec<usize> = (0..n)
            .map(|k| match order {
                Order::C => shape[k + 1..].iter().product::<usize>() * isz,
                Order::Fortran => shape[..k].iter().product::<usize>() * isz,
            })
            .collect();
        let out_shape = sel.shape();
        let total: usize = sel.len();
        let mut out = Vec::with_capacity(total * isz);
        let kept: Vec<usize> = (0..n).filter(|&k| sel.axes()[k].keep).collect();
        for flat in 0..total {
            // multi-index of the output element in the output's memory order
            let mut out_index = vec![0usize; out_shape.len()];
            let mut rem = flat;
            let dims: Vec<usize> = match order {
                Order::C => (0..out_shape.len()).rev().collect(),
                Order::Fortran => (0..out_shape.len()).collect(),
            };
            for d in dims {
                out_index[d] = rem % out_shape[d];
                rem /= out_shape[d];
            }
            let mut offset = 0;
            for (k, (a, stride)) in sel.axes().iter().zip(&strides).enumerate() {
                let i = match kept.iter().position(|&kk| kk == k) {
                    Some(p) => (a.start as isize + out_index[p] as isize * a.step) as usize,
                    None => a.start,
                };
                offset += i * stride;
            }
            out.extend_from_slice(&src[offset..offset + isz]);
        }
        out
    }

    fn run(
        shape: &[usize],
        order: Order,
        isz: usize,
        expr: &str,
        block: usize,
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        let sel = SliceExpr::parse(expr).ok()?.resolve(shape).ok()?;
        let total: usize = shape.iter().product();
        let src: Vec<u8> = (0..total * isz).map(|i| (i * 7 % 251) as u8).collect();
        let walk = StridedWalk::from_parts(shape, order, isz, &sel);
        let mut out = vec![0u8; sel.len() * isz];
        for (b, chunk) in out.chunks_mut(block * isz).enumerate() {
            walk.copy_range(&src, b * block, chunk);
        }
        Some((out, naive(shape, order, isz, &sel, &src)))
    }

    proptest! {
        #[test]
        fn strided_copy_equals_naive_gather(
            shape in proptest::collection::vec(0usize..6, 0..4),
            fortran in any::<bool>(),
            isz in prop_oneof![Just(1usize), Just(2), Just(4), Just(8), Just(16), Just(3)],
            parts in proptest::collection::vec(
                (proptest::option::of(-7i64..7), proptest::option::of(-7i64..7),
                 prop_oneof![-3i64..-1, 1i64..4], any::<bool>(), -6i64..6), 0..4),
            block in 1usize..9,
        ) {
            let expr: Vec<String> = parts.iter().take(shape.len()).map(|(a, b, s, int, i)| {
                if *int { i.to_string() } else {
                    format!("{}:{}:{}", a.map(|v| v.to_string()).unwrap_or_default(),
                        b.map(|v| v.to_string()).unwrap_or_default(), s)
                }
            }).collect();
            let order = if fortran { Order::Fortran } else { Order::C };
            if let Some((got, want)) = run(&shape, order, isz, &expr.join(","), block) {
                prop_assert_eq!(got, want);
            }
        }
    }
}
