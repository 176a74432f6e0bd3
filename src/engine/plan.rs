//! Chunk plan and streaming driver.
//!
//! The data is cut into blocks of whole units (elements, or rows for row-wise work) of about
//! [`BLOCK_BYTES`]; blocks are grouped into windows of about [`WINDOW_BYTES`]. The driver's
//! workers take the blocks in file order, one at a time from a shared counter, and the
//! results are put back in block order; behind the lowest unfinished block the pages are
//! released a window at a time (`MADV_DONTNEED`), and the window after the current one is
//! asked for ahead (`MADV_WILLNEED`), so a pass over any file keeps a few windows resident
//! at most.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

    /// The units of the consecutive blocks `blocks` (at least one).
    pub fn blocks_units(&self, blocks: Range<usize>) -> Range<usize> {
        self.block(blocks.start).start..self.block(blocks.end - 1).end
    }

    /// The bytes of the consecutive blocks `blocks` (at least one).
    pub fn blocks_bytes(&self, blocks: Range<usize>) -> Range<usize> {
        let units = self.blocks_units(blocks);
        units.start * self.unit_bytes..units.end * self.unit_bytes
    }

    fn blocks_per_window(&self) -> usize {
        if let Some(blocks) = self.window_blocks {
            return blocks;
        }
        (WINDOW_BYTES / (self.block_units * self.unit_bytes).max(1)).max(1)
    }
}

/// Runs work over the blocks of a [`ChunkPlan`] on the current rayon pool, in file order.
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

    /// Call `progress(bytes)` after each block, in block order, with the bytes it covered.
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
        self.stream(
            plan,
            |_| (),
            |(), i, bytes| f(i, bytes),
            |r| results.push(r),
        );
        results
    }

    /// Map every block with `map`, then combine the results in block order with `combine`,
    /// starting from `init`: a deterministic parallel reduction. Results are combined as soon
    /// as every earlier block's is, so only the blocks in flight hold results.
    pub fn fold_blocks<R, A, F, C>(&self, plan: &ChunkPlan, map: F, init: A, mut combine: C) -> A
    where
        R: Send,
        A: Send,
        F: Fn(usize, &[u8]) -> R + Sync,
        C: FnMut(A, R) -> A + Send,
    {
        let mut acc = Some(init);
        self.stream(
            plan,
            |_| (),
            |(), i, bytes| map(i, bytes),
            |r| acc = acc.take().map(|a| combine(a, r)),
        );
        acc.expect("the accumulator is put back after every block")
    }

    /// Fold the blocks into one accumulator per worker (`identity`, `fold`) and merge those
    /// with `merge`. Only for accumulators whose merge is exactly associative and commutative
    /// (integer counts): then the result does not depend on which worker took which block,
    /// and memory is one accumulator per worker instead of one per block.
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
        let accs = Mutex::new(Vec::new());
        self.stream(
            plan,
            |_| Folding {
                acc: Some(identity()),
                into: &accs,
            },
            |worker, i, bytes| {
                worker.acc = worker.acc.take().map(|a| fold(a, i, bytes));
            },
            |()| (),
        );
        let accs = accs
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        accs.into_iter().fold(identity(), merge)
    }

    /// [`stream_blocks`] over the blocks of the source's data: `map` gets each block's bytes,
    /// and the windows' pages are released and asked for in the source.
    fn stream<W, R, S, M, D>(&self, plan: &ChunkPlan, worker: S, map: M, done: D)
    where
        W: Send,
        R: Send,
        S: Fn(usize) -> W + Sync,
        M: Fn(&mut W, usize, &[u8]) -> R + Sync,
        D: FnMut(R) + Send,
    {
        let source = self.source;
        let paging = SourcePaging { source, plan };
        stream_blocks(
            plan,
            &paging,
            self.progress,
            |b| plan.block_bytes(b).len() as u64,
            worker,
            |state, i| map(state, i, &source.data(plan.block_bytes(i))),
            done,
        );
    }
}

/// What the streaming skeleton tells about pages, a window of blocks at a time.
pub(crate) trait Paging: Sync {
    /// Every block of `blocks` is finished: their pages may go.
    fn release(&self, blocks: Range<usize>);
    /// `blocks` come next: ask for their pages ahead of the readers.
    fn announce(&self, blocks: Range<usize>);
}

/// [`Paging`] of a source's data: `MADV_DONTNEED` and `MADV_WILLNEED` on the blocks' bytes.
struct SourcePaging<'a> {
    source: &'a dyn Source,
    plan: &'a ChunkPlan,
}

impl Paging for SourcePaging<'_> {
    fn release(&self, blocks: Range<usize>) {
        self.source.release(self.plan.blocks_bytes(blocks));
    }

    fn announce(&self, blocks: Range<usize>) {
        self.source.will_need(self.plan.blocks_bytes(blocks));
    }
}

/// The streaming skeleton. Each worker (one per thread of the pool, with its own state from
/// `worker`) takes the next block in order from a shared counter and maps it with `map`; the
/// results reach `done` in block order, as soon as every earlier block's has (and `progress`,
/// if any, gets `progress_bytes(block)` for each). Behind the lowest unfinished block the
/// windows are released (`paging.release`) one at a time, and the window after the current
/// one is announced (`paging.announce`) ahead of the readers, so a pass over any file keeps a
/// few windows resident at most. Streams file-to-file work ([`ops`](crate::ops)) as well as
/// the reductions ([`Driver`]).
///
/// No barrier between windows: blocks run one after the other whatever window they lie
/// in, and a worker that finishes takes the next block at once. Waiting for the slowest
/// block of every 64 MiB window (and for the advice, when a worker ran it) cost about a
/// tenth of `stats --axis 0` on two threads, and a third with a busy second core. A
/// worker starts a block only within a window of the lowest unfinished one, so at most
/// about two windows are mapped even when a worker is held up: with another process
/// busy on one of the two cores, peak RSS of `stats --axis 0` on a 4 GiB table was
/// 135-140 MiB, against up to 188 MiB without the bound.
pub(crate) fn stream_blocks<W, R, S, M, D>(
    plan: &ChunkPlan,
    paging: &dyn Paging,
    progress: Option<&(dyn Fn(u64) + Sync)>,
    progress_bytes: impl Fn(usize) -> u64 + Sync,
    worker: S,
    map: M,
    done: D,
) where
    W: Send,
    R: Send,
    S: Fn(usize) -> W + Sync,
    M: Fn(&mut W, usize) -> R + Sync,
    D: FnMut(R) + Send,
{
    let n = plan.num_blocks();
    if n == 0 {
        return;
    }
    let per_window = plan.blocks_per_window();
    let window = |w: usize| w * per_window..((w + 1) * per_window).min(n);
    let windows = n.div_ceil(per_window);
    let (next, unfinished) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let stopped = AtomicBool::new(false);
    let order = Mutex::new(InOrder {
        first: 0,
        pending: VecDeque::new(),
        done,
        released: 0,
        announced: 1,
    });
    let workers = rayon::current_num_threads().clamp(1, n);
    rayon::scope(|scope| {
        for w in 0..workers {
            let (worker, map, order, progress_bytes) = (&worker, &map, &order, &progress_bytes);
            let (next, unfinished) = (&next, &unfinished);
            let stopped = &stopped;
            scope.spawn(move |_| {
                // A panicking worker stops the others, which could otherwise wait forever
                // for its block; the scope then passes the panic on.
                let _stop_on_panic = StopOnPanic(stopped);
                let mut state = worker(w);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    // At most a window ahead of the lowest unfinished block: a worker held
                    // up (descheduled, say) must not leave the others mapping pages far
                    // ahead of what can be released. The worker of that block never waits.
                    // A worker running inside another block on this thread (a block's
                    // own parallel work let rayon start it there) never waits: the block
                    // below it may be the lowest unfinished one.
                    while i >= unfinished.load(Ordering::Acquire) + per_window
                        && !InBlock::on_this_thread()
                    {
                        if stopped.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::yield_now();
                    }
                    let result = {
                        let _in_block = InBlock::enter();
                        map(&mut state, i)
                    };
                    let advice = {
                        let mut order = order.lock().unwrap_or_else(|p| p.into_inner());
                        order.finish(i, result, progress, progress_bytes);
                        unfinished.store(order.first, Ordering::Release);
                        order.advice(per_window, windows)
                    };
                    if let Some(w) = advice.release {
                        paging.release(window(w));
                    }
                    if let Some(w) = advice.announce {
                        paging.announce(window(w));
                    }
                }
                drop(state);
            });
        }
    });
    let order = order.into_inner().unwrap_or_else(|p| p.into_inner());
    for w in order.released..windows {
        paging.release(window(w));
    }
}

thread_local! {
    /// How many blocks this thread is inside (more than one when a block's parallel work
    /// let rayon run another worker on the thread meanwhile).
    static BLOCKS_ENTERED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks this thread as inside a block while it lives.
struct InBlock;

impl InBlock {
    fn enter() -> InBlock {
        BLOCKS_ENTERED.with(|n| n.set(n.get() + 1));
        InBlock
    }

    fn on_this_thread() -> bool {
        BLOCKS_ENTERED.with(|n| n.get() > 0)
    }
}

impl Drop for InBlock {
    fn drop(&mut self) {
        BLOCKS_ENTERED.with(|n| n.set(n.get() - 1));
    }
}

/// Raises the flag when dropped by a panic.
struct StopOnPanic<'a>(&'a AtomicBool);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// A worker's accumulator in [`Driver::fold_commutative`], handed over when the worker stops.
struct Folding<'m, A> {
    acc: Option<A>,
    into: &'m Mutex<Vec<A>>,
}

impl<A> Drop for Folding<'_, A> {
    fn drop(&mut self) {
        if let Some(acc) = self.acc.take() {
            self.into
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(acc);
        }
    }
}

/// The blocks' results put back in block order for the streaming skeleton, and how far the
/// finished blocks reach.
struct InOrder<R, D> {
    /// Blocks `0..first` are finished and handed to `done`.
    first: usize,
    /// The results of blocks `first..`, finished or not yet.
    pending: VecDeque<Option<R>>,
    done: D,
    /// Windows `0..released` are released.
    released: usize,
    /// Windows `0..announced` were asked for (the first window is read on demand).
    announced: usize,
}

/// What to tell the kernel after a block finished: a window to release, one to ask for.
struct Advice {
    release: Option<usize>,
    announce: Option<usize>,
}

impl<R, D: FnMut(R)> InOrder<R, D> {
    /// Record block `i`'s result and hand over every result now in order.
    fn finish(
        &mut self,
        i: usize,
        result: R,
        progress: Option<&(dyn Fn(u64) + Sync)>,
        bytes: impl Fn(usize) -> u64,
    ) {
        let k = i - self.first;
        if self.pending.len() <= k {
            self.pending.resize_with(k + 1, || None);
        }
        self.pending[k] = Some(result);
        while let Some(Some(_)) = self.pending.front() {
            if let Some(Some(result)) = self.pending.pop_front() {
                (self.done)(result);
            }
            if let Some(progress) = progress {
                progress(bytes(self.first));
            }
            self.first += 1;
        }
    }

    /// The window to release (every block of it finished, once each) and the one to ask for
    /// (the one after the window of the lowest unfinished block, once each).
    fn advice(&mut self, per_window: usize, windows: usize) -> Advice {
        let mut advice = Advice {
            release: None,
            announce: None,
        };
        if (self.released + 1) * per_window <= self.first {
            advice.release = Some(self.released);
            self.released += 1;
        }
        let wanted = self.first / per_window + 1;
        if self.announced <= wanted && self.announced < windows {
            advice.announce = Some(self.announced);
            self.announced += 1;
        }
        advice
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

    /// A source of `len` bytes (byte `k` is `k % 251`) that records the advice it gets.
    struct Recording {
        bytes: Vec<u8>,
        shape: Vec<usize>,
        released: Mutex<Vec<Range<usize>>>,
        announced: Mutex<Vec<Range<usize>>>,
    }

    impl Recording {
        /// A one-dimensional `u8` source of `bytes`, nothing recorded yet.
        fn of(bytes: Vec<u8>) -> Recording {
            Recording {
                shape: vec![bytes.len()],
                bytes,
                released: Mutex::new(Vec::new()),
                announced: Mutex::new(Vec::new()),
            }
        }
    }

    impl Source for Recording {
        fn path(&self) -> &std::path::Path {
            std::path::Path::new("recording")
        }
        fn dtype(&self) -> crate::DType {
            crate::DType::native(crate::Scalar::U8)
        }
        fn shape(&self) -> &[usize] {
            &self.shape
        }
        fn order(&self) -> crate::Order {
            crate::Order::C
        }
        fn data(&self, range: Range<usize>) -> std::borrow::Cow<'_, [u8]> {
            std::borrow::Cow::Borrowed(&self.bytes[range])
        }
        fn will_need(&self, range: Range<usize>) {
            self.announced.lock().unwrap().push(range);
        }
        fn release(&self, range: Range<usize>) {
            self.released.lock().unwrap().push(range);
        }
    }

    #[test]
    fn the_stream_hands_results_over_in_order_and_advises_each_window_once() {
        let len = 1000;
        for threads in [1, 2, 3, 8] {
            let source = Recording::of((0..len).map(|k| (k % 251) as u8).collect());
            let plan = ChunkPlan::with_block_units(len, 1, 7).with_window_blocks(4);
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let progressed = AtomicUsize::new(0);
            let progress = |bytes: u64| {
                progressed.fetch_add(bytes as usize, Ordering::Relaxed);
            };
            let driver = Driver::new(&source).progress(&progress);
            let (blocks, sum, bytes) = pool.install(|| {
                let blocks = driver.map_blocks(&plan, |i, b| (i, b.to_vec()));
                let sum = driver.fold_commutative(
                    &plan,
                    || 0u64,
                    |a, _, b| a + b.iter().map(|&x| u64::from(x)).sum::<u64>(),
                    |a, b| a + b,
                );
                let bytes = driver.fold_blocks(
                    &plan,
                    |_, b| b.to_vec(),
                    Vec::new(),
                    |mut a, b| {
                        a.extend(b);
                        a
                    },
                );
                (blocks, sum, bytes)
            });
            let indices: Vec<usize> = blocks.iter().map(|(i, _)| *i).collect();
            assert_eq!(indices, (0..plan.num_blocks()).collect::<Vec<_>>());
            let mapped: Vec<u8> = blocks.into_iter().flat_map(|(_, b)| b).collect();
            assert_eq!(mapped, source.bytes);
            assert_eq!(bytes, source.bytes);
            assert_eq!(sum, source.bytes.iter().map(|&x| u64::from(x)).sum::<u64>());
            assert_eq!(progressed.load(Ordering::Relaxed), 3 * len);
            // Three passes over 36 windows of 28 bytes (the last of 20): each window released
            // once per pass, each but the first announced once per pass.
            let windows: Vec<Range<usize>> = (0..len.div_ceil(28))
                .map(|w| w * 28..((w + 1) * 28).min(len))
                .collect();
            for (advice, skip) in [(&source.released, 0), (&source.announced, 1)] {
                let mut got = advice.lock().unwrap().clone();
                got.sort_by_key(|r| r.start);
                let want: Vec<Range<usize>> = windows
                    .iter()
                    .skip(skip)
                    .flat_map(|w| [w.clone(), w.clone(), w.clone()])
                    .collect();
                assert_eq!(got, want, "{threads} threads");
            }
        }
    }

    #[test]
    fn a_panicking_block_is_passed_on_and_does_not_hang_the_others() {
        let len = 64;
        let source = Recording::of(vec![0; len]);
        let plan = ChunkPlan::with_block_units(len, 1, 1).with_window_blocks(2);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                Driver::new(&source).map_blocks(&plan, |i, _| {
                    if i == 5 {
                        panic!("block 5");
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    i
                })
            })
        }));
        assert!(outcome.is_err());
    }

    #[test]
    fn nested_parallel_work_in_blocks_of_concurrent_passes_does_not_deadlock() {
        // Blocks that fork their own parallel work let rayon run another worker's task (of
        // this pass or another on the same pool) on a thread while its block waits: a worker
        // nested in a block must not wait for the lowest unfinished block, which may be the
        // one below it. That interleaving is rare (rayon steals the oldest task first); this
        // checks that passes of such blocks finish, with the right results.
        let len = 200;
        let source = Recording::of((0..len).map(|k| k as u8).collect());
        let plan = ChunkPlan::with_block_units(len, 1, 1).with_window_blocks(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let pass = || {
            Driver::new(&source).map_blocks(&plan, |i, b| {
                let pause = std::time::Duration::from_micros(200);
                let (x, ()) = rayon::join(
                    || {
                        std::thread::sleep(pause);
                        b[0]
                    },
                    || std::thread::sleep(pause),
                );
                (i, x)
            })
        };
        let want: Vec<(usize, u8)> = (0..len).map(|i| (i, i as u8)).collect();
        for _ in 0..10 {
            let (a, (b, c)) = pool.install(|| rayon::join(pass, || rayon::join(pass, pass)));
            assert!(a == want && b == want && c == want);
        }
    }

    #[test]
    fn plan_depends_only_on_the_array() {
        let plan = ChunkPlan::new(1 << 30, 8);
        assert_eq!(plan.block_units(), BLOCK_BYTES / 8);
        assert_eq!(ChunkPlan::new(10, 1 << 21).block_units(), 1);
    }
}
