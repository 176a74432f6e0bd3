//! The whole open path on arbitrary file contents: open in r, c and r+, view, reduce.
#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

/// One scratch directory per fuzzing process, emptied by the harness after every input.
fn scratch() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("scratch dir")).path()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::open(scratch(), data);
});
