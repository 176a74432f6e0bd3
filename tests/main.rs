//! The integration tests: one binary, one module per topic.

mod append;
mod cat;
mod convert_npy;
mod crash;
