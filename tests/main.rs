//! The integration tests, one binary (see STYLE.md): each topic is a module.

mod engine;
