//! `cargo fuzz run http -s none`: see [`cansend_fuzz::http`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cansend_fuzz::http(data));
