//! The npz reader (`NpzArchive`, `read_member`, `open_member`, `extract_member`) on arbitrary bytes.
#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::npz(harness::scratch(), data);
});
