//! The integration tests, built as one binary (one link instead of one per file): each topic
//! is a module.

mod cli_basic;
mod engine;
mod fixture;
mod format;
mod modes;
mod ops;
mod pipeline;
mod props;
