//! v2 answers (docs/protocol.md §5): arbitrary bytes as the answer to each of the three v2 calls must
//! never panic, and nothing reporting success may parse unless its `sign` verifies. The same
//! bytes are also signed as a server would sign them, so that the CloudPay readers behind the
//! signature check see every input too; and they are read as a request by the server side.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use wxpay_protocol::cloudpay::{FinishRequest, RefundQueryRequest, ReturnQueryRequest};
use wxpay_protocol::security::Mchid;
use wxpay_protocol::v2::{self, ApiV2Key, AppId, Fields, Merchant, SignType};
use wxpay_protocol::{
    Description, NonceStr, Operation, OrderRef, OutOrderNo, OutReturnNo, RefundLookup, SubMchId, TransactionId,
};

static KEY: LazyLock<ApiV2Key> =
    LazyLock::new(|| ApiV2Key::new(b"192006250b4c09247ec02edce69f6a2d").expect("32 bytes"));
static MERCHANT: LazyLock<Merchant> = LazyLock::new(|| {
    Merchant::new(Mchid::new("1900000100").expect("id"), AppId::new("wx8888888888888888").expect("id"), KEY.clone())
});

fn nonce() -> NonceStr {
    NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS").expect("nonce")
}

fuzz_target!(|data: &[u8]| {
    let sub = SubMchId::new("1900000109").expect("id");
    let finish = MERCHANT.call(
        FinishRequest::new(
            sub.clone(),
            TransactionId::new("4208450740201411110007820472").expect("id"),
            OutOrderNo::new("P1").expect("no"),
            Description::new("d").expect("text"),
        )
        .with_nonce(nonce()),
    );
    let returns = MERCHANT.call(
        ReturnQueryRequest::new(
            sub.clone(),
            OrderRef::OutOrderNo(OutOrderNo::new("P1").expect("no")),
            OutReturnNo::new("R1").expect("no"),
        )
        .with_nonce(nonce()),
    );
    let refunds = MERCHANT.call(
        RefundQueryRequest::new(sub, RefundLookup::OutTradeNo(wxpay_protocol::OutTradeNo::new("T1").expect("no")))
            .with_nonce(nonce()),
    );

    let raw = http::Response::new(data.to_vec());
    // Unsigned bytes: only an answer whose sign verifies (which random bytes cannot forge) or
    // an error may come out.
    let signed_ok = Fields::from_xml(data).is_ok_and(|f| f.get("return_code") == Some("SUCCESS"));
    if finish.parse(&raw).is_ok() || returns.parse(&raw).is_ok() || refunds.parse(&raw).is_ok() {
        assert!(signed_ok, "an answer parsed without reporting success");
    }

    // The same fields, signed: the CloudPay readers see them.
    if let Ok(mut fields) = Fields::from_xml(data) {
        fields.remove("sign");
        let sign = v2::sign(&fields, SignType::HmacSha256, &KEY);
        fields.insert("sign", sign);
        let signed = http::Response::new(fields.to_xml().into_bytes());
        let _ = finish.parse(&signed);
        let _ = returns.parse(&signed);
        let _ = refunds.parse(&signed);
    }

    // The server side.
    let _ = v2::read_request::<FinishRequest>(data, &KEY);
    let _ = v2::read_request::<RefundQueryRequest>(data, &KEY);
    let _ = v2::read_request::<ReturnQueryRequest>(data, &KEY);
});
