//! The `--decode` raw HTTP reader (`crates/cli/src/decode.rs`) on any input.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wxpay_cli_fuzz::fuzz_raw_http(data));
