//! API v3 e-commerce profit-sharing order query (docs/protocol.md §8.4):
//! `v3::OrderQueryResponse::parse` on any 200 answer; a value that parses must serialise to JSON
//! that parses back to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_protocol::v3::OrderQueryResponse;

fuzz_target!(|data: &[u8]| {
    wxpay_protocol_fuzz::fuzz_v3(data, OrderQueryResponse::parse, serde_json::to_vec);
});
