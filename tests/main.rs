//! The integration tests, built as one binary (one link instead of one per file).

mod cli_basic;
mod fixture;
mod format;
mod modes;
mod props;
