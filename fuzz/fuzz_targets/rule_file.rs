//! `cargo fuzz run rule_file -s none`: see [`cansend_fuzz::rule_file`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cansend_fuzz::rule_file(data));
