//! The npy-stack `info` reader (`mmnpy::partitioned::pickle::read_info`) on arbitrary bytes.
#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::npy_stack_info(data);
});
