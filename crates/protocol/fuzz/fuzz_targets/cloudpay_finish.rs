//! CloudPay profit-sharing finish (docs/protocol.md §8.3): `FinishResponse::parse` on any 200
//! answer; a value that parses must round-trip through every `ReplyShape`, camelCase included.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_protocol::cloudpay::FinishResponse;

fuzz_target!(|data: &[u8]| {
    wxpay_protocol_fuzz::fuzz_cloudpay(data, FinishResponse::encode, FinishResponse::parse);
});
