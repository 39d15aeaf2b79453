//! The table builder and its terminal escaping (`crates/cli/src/table.rs`) on any values.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wxpay_cli_fuzz::fuzz_table(data));
