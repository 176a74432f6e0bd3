//! Whole-array operations that produce new arrays or grow existing ones: casts
//! ([`cast`]), concatenation ([`concatenate`]), in-place append ([`append`]) and the
//! streaming writer for arrays of unknown length ([`NpyWriter`]).
//!
//! Everything here streams with bounded memory through [`stream`] and writes through
//! [`AtomicFile`](crate::AtomicFile) (or, for an in-place append, in the crash-safe order
//! described in [`append`]).

pub mod append;
pub mod cast;
mod cat;
pub(crate) mod stream;
mod writer;

pub use append::append;
pub use cast::CastMode;
pub use cat::{CatOptions, concatenate};
pub use writer::NpyWriter;

/// A progress callback: called from time to time with the bytes just processed.
pub type Progress<'a> = Option<&'a (dyn Fn(u64) + Sync)>;
