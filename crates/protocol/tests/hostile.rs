//! Hostile answers (issue 11), through the core: no amplification, no silent loss, no ambiguity.
//! Each test names the class of the issue it covers; the pager's bound is in `properties.rs`,
//! the time formats in `timestamp.rs`'s unit tests, and peak memory in `alloc.rs`.

use serde_json::{Value, json};
use wxpay_protocol::cloudpay::{FinishResponse, RefundDetails, RefundQueryResponse};
use wxpay_protocol::{Error, MAX_ANSWER_BYTES, MalformedKind};

fn ok(body: &[u8]) -> http::Response<Vec<u8>> {
    http::Response::new(body.to_vec())
}

fn refunds(value: &Value) -> Result<RefundQueryResponse, Error> {
    RefundQueryResponse::parse(&ok(value.to_string().as_bytes()))
}

fn kind(result: Result<impl std::fmt::Debug, Error>) -> MalformedKind {
    match result {
        Err(Error::Malformed(m)) => m.kind().clone(),
        other => panic!("not malformed: {other:?}"),
    }
}

fn answer(extra: Value) -> Value {
    let mut base = json!({"return_code": "SUCCESS", "result_code": "SUCCESS", "transaction_id": "42",
        "total_fee": 300, "cash_fee": 300});
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn indexed_refund(n: usize) -> Value {
    json!({format!("refund_id_{n}"): format!("50{n}"), format!("out_refund_no_{n}"): format!("R{n}"),
        format!("refund_fee_{n}"): 1, format!("refund_status_{n}"): "SUCCESS"})
}

fn merge(mut a: Value, b: Value) -> Value {
    for (k, v) in b.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

/// Class 2: a count or a list past what an answer can hold is refused, and so is a body past
/// `MAX_ANSWER_BYTES`, before anything is parsed.
#[test]
fn amplification_is_refused() {
    let many: Vec<String> = (0..300).map(|i| i.to_string()).collect();
    let body = answer(json!({"refund_count": 300, "refund_id_list": many, "out_refund_no_list": many}));
    assert!(matches!(kind(refunds(&body)), MalformedKind::Inconsistent(s) if s.contains("refund_count 300")));
    let body = answer(json!({"refund_count": 1, "refund_id_list": many, "out_refund_no_list": many}));
    assert!(matches!(kind(refunds(&body)), MalformedKind::Inconsistent(_)));
    let mut huge = br#"{"return_code":"SUCCESS","pad":""#.to_vec();
    huge.resize(MAX_ANSWER_BYTES + 10, b'a');
    huge.extend_from_slice(b"\"}");
    assert_eq!(
        kind(RefundQueryResponse::parse(&ok(&huge))),
        MalformedKind::TooLarge { len: huge.len(), limit: MAX_ANSWER_BYTES }
    );
    let Err(Error::Malformed(m)) = RefundQueryResponse::parse(&ok(&huge)) else { unreachable!() };
    assert_eq!(m.body().len(), MAX_ANSWER_BYTES, "the error keeps at most the limit");
}

/// Class 3: every documented refund or coupon the answer names is listed, or it is malformed.
#[test]
fn nothing_is_silently_lost() {
    // refund_id_5 without refund_id_0..4: not "details not returned".
    let body = answer(merge(json!({"refund_count": 6}), indexed_refund(5)));
    assert!(kind(refunds(&body)).to_string().contains("_5"));
    // A refund past a gap.
    let body = answer(merge(merge(json!({"refund_count": 1}), indexed_refund(0)), indexed_refund(2)));
    assert!(kind(refunds(&body)).to_string().contains("_2"));
    // Coupons `_0_5` without `_0_0`, and a coupon after a gap.
    for coupons in [
        json!({"coupon_refund_id_0_5": "C5", "coupon_refund_fee_0_5": 1}),
        json!({"coupon_refund_id_0_0": "C0", "coupon_refund_fee_0_0": 1, "coupon_refund_id_0_2": "C2", "coupon_refund_fee_0_2": 1}),
    ] {
        let body = answer(merge(merge(json!({"refund_count": 1}), indexed_refund(0)), coupons));
        assert!(matches!(kind(refunds(&body)), MalformedKind::Inconsistent(_)), "{body}");
    }
    // Coupons of a refund that does not exist.
    let body =
        answer(merge(merge(json!({"refund_count": 1}), indexed_refund(0)), json!({"coupon_refund_id_3_0": "C"})));
    assert!(kind(refunds(&body)).to_string().contains("coupon_refund_id_3_0"));
    // A flat coupon array, and a coupon list with a gap.
    let lists = json!({"refund_count": 1, "refund_id_list": ["5001"], "out_refund_no_list": ["R1"],
        "refund_fee_list": [1], "refund_status_list": ["SUCCESS"]});
    let flat = answer(merge(lists.clone(), json!({"coupon_refund_id_array": ["C1"], "coupon_refund_fee_array": [1]})));
    assert!(
        matches!(kind(refunds(&flat)), MalformedKind::InvalidField { field, .. } if field == "coupon_refund_id_array")
    );
    let gap = answer(merge(
        lists.clone(),
        json!({"coupon_refund_id_array": [[null, "C1"]], "coupon_refund_fee_array": [[null, 1]]}),
    ));
    assert!(matches!(kind(refunds(&gap)), MalformedKind::Inconsistent(_)));
    // Counted but not listed, with nothing listed at all, is still "details not returned".
    let counted = refunds(&answer(json!({"refund_count": 3}))).unwrap();
    assert_eq!(counted.refunds, RefundDetails::NotReturned);
    // And an honest answer parses.
    let honest = answer(merge(lists, json!({"coupon_refund_id_array": [["C1"]], "coupon_refund_fee_array": [[1]]})));
    assert_eq!(refunds(&honest).unwrap().listed_refunds()[0].coupons.len(), 1);
}

/// Class 4: a key given twice with different values is ambiguous, at the top level, in the
/// wrapper and inside the finish `receiver` (an object, or an object in a string).
#[test]
fn duplicated_keys_are_malformed() {
    let fail_then_success = br#"{"return_code":"FAIL","return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":1,"cash_fee":1,"refund_count":0}"#;
    assert_eq!(
        kind(RefundQueryResponse::parse(&ok(fail_then_success))),
        MalformedKind::ConflictingField("return_code".into())
    );
    let wrapped = br#"{"errcode":0,"return_code":"FAIL","respdata":{"return_code":"SUCCESS"}}"#;
    assert_eq!(kind(RefundQueryResponse::parse(&ok(wrapped))), MalformedKind::ConflictingField("return_code".into()));
    let same = br#"{"return_code":"SUCCESS","return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":1,"cash_fee":1,"refund_count":0}"#;
    assert!(RefundQueryResponse::parse(&ok(same)).is_ok(), "the same value twice is one field");

    let seed = std::str::from_utf8(include_bytes!("fixtures/doc-examples/002-cloudpay-finish.json")).unwrap();
    assert!(FinishResponse::parse(&ok(seed.as_bytes())).is_ok());
    // Inside the receiver string, and inside a receiver object.
    let in_string = seed.replacen(r#"\"account\":"#, r#"\"account\":\"1\",\"account\":"#, 1);
    assert_ne!(in_string, seed);
    assert_eq!(
        kind(FinishResponse::parse(&ok(in_string.as_bytes()))),
        MalformedKind::ConflictingField("receiver.account".into())
    );
    let object = r#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"1","out_order_no":"P","order_id":"2","receiver":{"type":"MERCHANT_ID","account":"1","account":"2"}}"#;
    assert_eq!(kind(FinishResponse::parse(&ok(object.as_bytes()))), MalformedKind::ConflictingField("account".into()));
}
