//! The CSV importer (`csv_to_npy`) on arbitrary text.
#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::csv(harness::scratch(), data);
});
