//! CloudPay profit-sharing return query (docs/protocol.md §8.1): `ReturnQueryResponse::parse` on
//! any 200 answer; a value that parses must round-trip through every `ReplyShape`, camelCase
//! included.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_protocol::cloudpay::ReturnQueryResponse;

fuzz_target!(|data: &[u8]| {
    wxpay_protocol_fuzz::fuzz_cloudpay(data, ReturnQueryResponse::encode, ReturnQueryResponse::parse);
});
