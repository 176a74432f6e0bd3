//! Inputs the fuzz targets (`fuzz/`) once crashed on, replayed through the same harness code
//! (`fuzz/harness.rs`) on stable Rust: each must now give an `Ok` or an `Err`, never a panic
//! or a violated invariant. Kept under `tests/fixtures/regressions/<target>/`, one file per
//! input, named after the bug it pins.

use std::path::{Path, PathBuf};

#[path = "../fuzz/harness.rs"]
mod harness;

/// The kept inputs of one target, sorted.
fn kept(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// Replay every kept input of `target`, naming the ones that still fail.
fn replay(target: &str, run: impl Fn(&Path, &[u8])) -> usize {
    let files = kept(target);
    let mut failed = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(scratch.path(), &data)));
        if result.is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(failed.is_empty(), "still failing: {failed:?}");
    files.len()
}

#[test]
fn header_regressions() {
    replay("header", |_, data| harness::header(data));
}

#[test]
fn open_regressions() {
    replay("open", harness::open);
}

#[test]
fn slice_expr_regressions() {
    replay("slice_expr", |_, data| harness::slice_expr(data));
}

#[test]
fn csv_regressions() {
    replay("csv", harness::csv);
}

#[test]
fn npz_regressions() {
    replay("npz", harness::npz);
}

#[test]
fn npy_stack_info_regressions() {
    replay("npy_stack_info", |_, data| harness::npy_stack_info(data));
}

#[test]
fn npy_stack_info_with_overflowing_sizes_is_an_error() {
    for name in ["chunk_sizes_overflow.pickle", "array_size_overflow.pickle"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/regressions/npy_stack_info")
            .join(name);
        let err =
            mmnpy::partitioned::pickle::read_info(&std::fs::read(path).unwrap()).expect_err(name);
        assert!(err.to_string().contains("overflow"), "{name}: {err}");
    }
}
