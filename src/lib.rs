//! mmnpy: NumPy `.npy` arrays larger than memory, memory-mapped and typed.
//!
//! Open a file in one of numpy's `mmap_mode`s and get zero-copy [`ndarray`] views of it:
//!
//! ```
//! use mmnpy::{NpyArray, Order};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("features.npy");
//! // Create a (1000, 8) float32 array (mode "w+"): built at a temporary name, zero-filled.
//! let mut a = NpyArray::<f32>::create(&path, &[1000, 8], Order::C)?;
//! a.view_mut()?.fill(1.5);
//! a.persist()?; // fsync, atomic rename into place
//! drop(a);
//!
//! // Open it read-only (mode "r") and reduce over a zero-copy view.
//! let a = NpyArray::<f32>::open(&path)?;
//! let v = a.view_as::<ndarray::Ix2>()?;
//! assert_eq!(v.shape(), &[1000, 8]);
//! assert_eq!(v.column(3).sum(), 1500.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//! - [`header`]: the `.npy` header, read with guards and written byte-identical to `np.save`.
//! - [`dtype`]: runtime [`DType`] and the [`Element`] trait for typed access.
//! - [`NpyFile`] (untyped, runtime dtype) and [`NpyArray<T>`] (typed views), in modes
//!   `r`, `r+`, `c` and `w+` ([`Mode`]).
//! - [`AtomicFile`]: how every output reaches the disk (temporary, fsync, rename, fsync dir).
//! - [`engine`]: the deterministic parallel chunk plan and driver, fused whole-array
//!   statistics, reductions along an axis and histograms.
//! - [`ops`]: slices (numpy basic indexing) and gathers, casts (safe or numpy's `astype`),
//!   concatenation, crash-safe in-place append and the streaming [`ops::NpyWriter`].
//! - [`pipeline`]: parallel row chunks, fused map/filter/reduce and out-of-core `map` to a file.
//! - [`convert`]: npy <-> npy / raw / CSV / npz / Parquet.
//! - [`partitioned`]: arrays stored as several files — Dask npy-stacks and Zarr v3 arrays
//!   (written and read through the `zarrs` crate) — and [`partitioned::Partitioned`], which
//!   maps an npy-stack or an uncompressed Zarr array as one logical array for the engine.
//!
//! # Safety model
//! A mapped file is valid while nobody truncates it. mmnpy checks the header against the file
//! length before mapping (a short file is an error in every mode; numpy zero-extends in `r+`),
//! never truncates a file it maps, takes advisory locks (shared for `r`/`c`, exclusive for
//! `r+`/`w+`; a conflict is an immediate error), and writes new files by atomic rename, so
//! readers of the old file keep a valid inode. Locks bind only cooperating processes: another
//! program truncating a mapped file makes the next access raise SIGBUS. The `unsafe` code for
//! mappings is in one private module that owns them (the only other `unsafe` calls the SIMD
//! statistics loops after checking the CPU). For untrusted files that fit in memory,
//! [`read_array`] reads into owned memory instead. SAFETY.md in the repository states the
//! model in full.

pub mod dtype;
mod error;
pub mod header;
// The mapping module, allowed `unsafe` (Cargo.toml denies it elsewhere but for engine::simd;
// see SAFETY.md).
#[allow(unsafe_code)]
mod map;
mod read;
pub mod sample;
mod write;

mod array;
pub mod convert;
pub mod engine;
pub mod ops;
pub mod partitioned;
pub mod pipeline;

pub use array::{Mode, NpyArray, NpyFile, OpenOptions};
pub use dtype::{Bool, ByteOrder, DType, Element, Scalar};
pub use error::{Error, ErrorKind, Result};
pub use half::f16;
pub use header::{Header, Order, Version};
pub use num_complex::Complex;
pub use read::read_array;
pub use sample::SampleTable;
pub use write::{AtomicFile, Overwrite, TEMP_SUFFIX};
