//! Chunk plan and windowed driver.
//!
//! The data is cut into blocks of whole units (elements, or rows for row-wise work) of about
//! [`BLOCK_BYTES`]; blocks are grouped into windows of about [`WINDOW_BYTES`]. The driver runs
//! one window's blocks in parallel while a side task asks the kernel to read the next window
//! ahead (`MADV_WILLNEED`) and releases the pages of the previous one (`MADV_DONTNEED`), so a
//! pass over any file keeps a few windows resident at most.

use std::ops::Range;

use rayon::prelude::*;

use crate::engine::source::Source;

/// Target size of one block: big enough to amortise scheduling, small enough to balance load
/// over the threads within a window and stay cache-friendly.
pub const BLOCK_BYTES: usize = 1 << 20;

/// Target size of one window of the streaming pass (see `../shared/PERF.md`: 64 MiB windows
/// released behind the readers kept full speed with ~160 MiB resident).
pub const WINDOW_BYTES: usize = 64 << 20;

/// A deterministic cut of `units` units of `unit_bytes` bytes each into blocks of
/// `block_units` units. It depends only on its arguments, never on the thread count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkPlan {
    units: usize,
    unit_bytes: usize,
    block_units: usize,
    window_blocks: Option<usize>,
}

impl ChunkPlan {
    /// Blocks of about [`BLOCK_BYTES`] (at least one unit each).
    pub fn new(units: usize, unit_bytes: usize) -> ChunkPlan {
        let block_units = (BLOCK_BYTES / unit_bytes.max(1)).max(1);
        ChunkPlan::with_block_units(units, unit_bytes, block_units)
    }

    /// Blocks of exactly `block_units` units (the last may be shorter). For tests and for
    /// kernels that need a particular granularity.
    pub fn with_block_units(units: usize, unit_bytes: usize, block_units: usize) -> ChunkPlan {
        ChunkPlan {
            units,
            unit_bytes,
            block_units: block_units.max(1),
            window_blocks: None,
        }
    }

    /// Windows of exactly `blocks` blocks instead of about [`WINDOW_BYTES`] (for tests that
    /// need several windows on small data, and for tuning).
    pub fn with_window_blocks(mut self, blocks: usize) -> ChunkPlan {
        self.window_blocks = Some(blocks.max(1));
        self
    }

    /// Number of units covered.
    pub fn units(&self) -> usize {
        self.units
    }

    /// Bytes per unit.
    pub fn unit_bytes(&self) -> usize {
        self.unit_bytes
    }

    /// Units per block (the last block may have fewer).
    pub fn block_units(&self) -> usize {
        self.block_units
    }

    /// Number of blocks.
    pub fn num_blocks(&self) -> usize {
        self.units.div_ceil(self.block_units)
    }

    /// The units of block `i`.
    pub fn block(&self, i: usize) -> Range<usize> {
        let start = i * self.block_units;
        start..(start + self.block_units).min(self.units)
    }

    /// The bytes of block `i`, relative to the start of the data.
    pub fn block_bytes(&self, i: usize) -> Range<usize> {
        let units = self.block(i);
        units.start * self.unit_bytes..units.end * self.unit_bytes
    }

    fn blocks_per_window(&self) -> usize {
        if let Some(blocks) = self.window_blocks {
            return blocks;
        }
        (WINDOW_BYTES / (self.block_units * self.unit_bytes).max(1)).max(1)
    }
}

/// Runs work over the blocks of a [`ChunkPlan`] on the current rayon pool, window by window.
pub struct Driver<'a> {
    source: &'a dyn Source,
    progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl<'a> Driver<'a> {
    /// A driver over the data of `source` (an [`NpyFile`](crate::NpyFile) or a partitioned
    /// array).
    pub fn new(source: &'a dyn Source) -> Driver<'a> {
        Driver {
            source,
            progress: None,
        }
    }

    /// Call `progress(bytes)` after each window with the bytes it covered.
    pub fn progress(mut self, progress: &'a (dyn Fn(u64) + Sync)) -> Driver<'a> {
        self.progress = Some(progress);
        self
    }

    /// Apply `f(block_index, block_bytes)` to every block, in parallel, and return the results
    /// in block order. `plan` must cover at most the file's data bytes.
    pub fn map_blocks<R, F>(&self, plan: &ChunkPlan, f: F) -> Vec<R>
    where
        R: Send,
        F: Fn(usize, &[u8]) -> R + Sync,
    {
        let mut results = Vec::with_capacity(plan.num_blocks());
        let source = self.source;
        self.for_each_window(plan, |window| {
            let part: Vec<R> = window
                .into_par_iter()
                .map(|i| f(i, &source.data(plan.block_bytes(i))))
                .collect();
            results.extend(part);
        });
        results
    }

    /// Map every block with `map`, then combine the results in block order with `combine`,
    /// starting from `init`: a deterministic parallel reduction. Results are combined after
    /// each window, so at most one window's block results are held at a time.
    pub fn fold_blocks<R, A, F, C>(&self, plan: &ChunkPlan, map: F, init: A, mut combine: C) -> A
    where
        R: Send,
        F: Fn(usize, &[u8]) -> R + Sync,
        C: FnMut(A, R) -> A,
    {
        let mut acc = Some(init);
        let source = self.source;
        self.for_each_window(plan, |window| {
            let part: Vec<R> = window
                .into_par_iter()
                .map(|i| map(i, &source.data(plan.block_bytes(i))))
                .collect();
            acc = acc.take().map(|a| part.into_iter().fold(a, &mut combine));
        });
        acc.expect("the accumulator is put back after every window")
    }

    /// Fold the blocks of each window into one accumulator per rayon task (`identity`, `fold`)
    /// and merge those with `merge`. Only for accumulators whose merge is exactly associative
    /// and commutative (integer counts): then the result does not depend on how rayon split
    /// the work, and memory is one accumulator per task instead of one per block.
    pub fn fold_commutative<A, I, F, M>(
        &self,
        plan: &ChunkPlan,
        identity: I,
        fold: F,
        merge: M,
    ) -> A
    where
        A: Send,
        I: Fn() -> A + Sync + Send,
        F: Fn(A, usize, &[u8]) -> A + Sync + Send,
        M: Fn(A, A) -> A + Sync + Send,
    {
        let mut acc = identity();
        let source = self.source;
        self.for_each_window(plan, |window| {
            let part = window
                .into_par_iter()
                .fold(&identity, |a, i| {
                    fold(a, i, &source.data(plan.block_bytes(i)))
                })
                .reduce(&identity, &merge);
            acc = merge(std::mem::replace(&mut acc, identity()), part);
        });
        acc
    }

    /// The streaming skeleton: for each window of blocks, in order, run `work(window_blocks)`
    /// while a side task prefetches the next window and releases the previous one, then
    /// report progress.
    ///
    /// The advice runs beside the work, not between windows: `MADV_DONTNEED` on 64 MiB takes
    /// milliseconds (unmapping and TLB shootdowns), and done between windows it left every
    /// worker idle for that long, window after window. At most the previous, the current and
    /// (in the page cache only) the next window are resident.
    fn for_each_window(&self, plan: &ChunkPlan, mut work: impl FnMut(Range<usize>)) {
        let n = plan.num_blocks();
        let per_window = plan.blocks_per_window();
        let window_bytes = |w: Range<usize>| {
            let first = plan.block_bytes(w.start).start;
            let last = plan.block_bytes(w.end - 1).end;
            first..last
        };
        let source = self.source;
        let mut previous: Option<Range<usize>> = None;
        let mut start = 0;
        while start < n {
            let window = start..(start + per_window).min(n);
            let next = (window.end < n)
                .then(|| window_bytes(window.end..(window.end + per_window).min(n)));
            let done = previous.take();
            rayon::in_place_scope(|scope| {
                if next.is_some() || done.is_some() {
                    scope.spawn(move |_| {
                        if let Some(next) = next {
                            source.will_need(next);
                        }
                        if let Some(done) = done {
                            source.release(done);
                        }
                    });
                }
                work(window.clone());
            });
            let covered = window_bytes(window.clone());
            if let Some(progress) = self.progress {
                progress(covered.len() as u64);
            }
            previous = Some(covered);
            start = window.end;
        }
        if let Some(done) = previous {
            source.release(done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_all_units_once_in_order() {
        for (units, block) in [(0, 3), (1, 3), (10, 3), (9, 3), (10, 100)] {
            let plan = ChunkPlan::with_block_units(units, 8, block);
            let covered: Vec<usize> = (0..plan.num_blocks()).flat_map(|i| plan.block(i)).collect();
            assert_eq!(covered, (0..units).collect::<Vec<_>>());
        }
    }

    #[test]
    fn plan_depends_only_on_the_array() {
        let plan = ChunkPlan::new(1 << 30, 8);
        assert_eq!(plan.block_units(), BLOCK_BYTES / 8);
        assert_eq!(ChunkPlan::new(10, 1 << 21).block_units(), 1);
    }
}
