//! API v3 e-commerce profit-sharing return query (docs/protocol.md §8.2):
//! `v3::ReturnQueryResponse::parse` on any 200 answer; a value that parses must serialise to JSON
//! that parses back to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_protocol::v3::ReturnQueryResponse;

fuzz_target!(|data: &[u8]| {
    wxpay_protocol_fuzz::fuzz_v3(data, ReturnQueryResponse::parse, serde_json::to_vec);
});
