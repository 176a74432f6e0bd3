//! The slice-expression parser and resolver (`SliceExpr`) against small shapes.
#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::slice_expr(data);
});
