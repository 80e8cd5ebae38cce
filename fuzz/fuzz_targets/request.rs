//! `cargo fuzz run request -s none`: see [`cansend_fuzz::request`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cansend_fuzz::request(data));
