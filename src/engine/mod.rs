//! The parallel chunked engine: a deterministic [`ChunkPlan`] and a streaming driver whose
//! workers on the rayon pool take its blocks in file order, while the pages behind them are
//! released window by window, so the file streams through the page cache with bounded
//! resident memory.
//!
//! Determinism: block boundaries depend only on the array (never on the thread count), every
//! block's result is computed by the same code on the same bytes, and results are combined in
//! block order, so the output has the same bits with 1 or 16 threads.

mod axis;
mod columns;
mod elements;
mod histogram;
mod kernel;
#[doc(hidden)]
pub mod naive;
mod plan;
mod reducible;
// Allowed `unsafe` to call its `#[target_feature]` functions (see SAFETY.md).
#[allow(unsafe_code)]
mod simd;
mod source;
mod stats;
#[cfg(test)]
mod tests;

pub use axis::{AxisStats, stats_axis};
pub use histogram::{Histogram, histogram};
pub use plan::{BLOCK_BYTES, ChunkPlan, Driver, WINDOW_BYTES};
pub(crate) use plan::{Paging, stream_blocks};
/// A cache-line prefetch hint, for other modules' gathers.
pub(crate) use simd::prefetch;
pub use source::Source;
pub use stats::{PassOptions, Stats, Value, stats};
