//! CloudPay refund query (docs/protocol.md §8.5): `RefundQueryResponse::parse` on any 200 answer; a
//! value that parses must round-trip through every `ReplyShape` (indexed keys and parallel arrays,
//! camelCase included), and its refund list must agree with `refund_count`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_protocol::cloudpay::{RefundDetails, RefundQueryResponse};
use wxpay_protocol_fuzz::{check_parse_error, cloudpay_round_trip, response};

fuzz_target!(|data: &[u8]| {
    match RefundQueryResponse::parse(&response(200, data)) {
        Ok(value) => {
            // docs/protocol.md §1.2: empty lists with refund_count > 0 mean "details not returned".
            match &value.refunds {
                RefundDetails::Listed(refunds) => {
                    assert_eq!(refunds.len(), value.refund_count as usize, "listed refunds != refund_count")
                }
                RefundDetails::NotReturned => assert!(value.refund_count > 0, "NotReturned with refund_count 0"),
                other => panic!("unexpected refund details {other:?}"),
            }
            for refund in value.listed_refunds() {
                if let Some(count) = refund.coupon_refund_count
                    && !refund.coupons.is_empty()
                {
                    assert_eq!(refund.coupons.len(), count as usize, "listed coupons != coupon_refund_count");
                }
            }
            cloudpay_round_trip(&value, RefundQueryResponse::encode, RefundQueryResponse::parse);
        }
        Err(err) => check_parse_error(&err, 200, data),
    }
});
