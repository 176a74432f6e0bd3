//! The integration tests, built as one binary (one link instead of one per file): each topic
//! is a module.

mod append;
mod cat;
mod cli_basic;
mod concurrency;
mod convert_npy;
mod crash;
mod demo;
mod engine;
mod fixture;
mod format;
mod formats;
mod hostile;
mod interop;
mod modes;
mod ops;
mod pipeline;
mod progress;
mod props;
mod regressions;
mod scaleout;
