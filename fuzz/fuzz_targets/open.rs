//! The whole open path on arbitrary file contents: open in r, c and r+, view, reduce.
#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::open(harness::scratch(), data);
});
