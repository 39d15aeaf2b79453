//! Property tests: validators accept exactly their documented language, every accepted reply
//! shape round-trips, nothing panics on arbitrary input, and the refund pager terminates.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use wxpay_protocol::security::danger;

use wxpay_protocol::cloudpay::{self, RefundDetails, ReplyShape};
use wxpay_protocol::{
    BaseUrl, Description, MAX_REFUNDS, NonceStr, Offset, Operation, OrderId, OrderRef, OutOrderNo, OutRefundNo,
    OutReturnNo, OutTradeNo, PagingError, RefundId, RefundLookup, RefundPager, Rule, SubMchId, TransactionId, v3,
};

// ---------------------------------------------------------------------------------------------
// Validators

/// The documented languages, written independently of the crate (docs/protocol.md §3).
#[derive(Debug, Clone, Copy)]
enum Class {
    Alnum,
    Merchant,
    Text,
}

fn model(s: &str, max_bytes: usize, class: Class) -> bool {
    let char_ok = |c: char| match class {
        Class::Alnum => c.is_ascii_digit() || c.is_ascii_lowercase() || c.is_ascii_uppercase(),
        Class::Merchant => c.is_ascii_alphanumeric() || "_-|*@".contains(c),
        // BMP (at most 3 UTF-8 bytes) and not a control character (C0, DEL, C1).
        Class::Text => (c as u32) <= 0xFFFF && !((c as u32) < 0x20 || (0x7F..=0x9F).contains(&(c as u32))),
    };
    !s.is_empty() && s.len() <= max_bytes && s.chars().all(char_ok)
}

type Check = fn(&str) -> Result<(), wxpay_protocol::ValidationError>;

fn validators() -> Vec<(&'static str, usize, Class, Check)> {
    vec![
        ("sub_mch_id", 32, Class::Alnum, |s| SubMchId::new(s).map(drop)),
        ("nonce_str", 32, Class::Alnum, |s| NonceStr::new(s).map(drop)),
        ("order_id", 64, Class::Alnum, |s| OrderId::new(s).map(drop)),
        ("transaction_id", 32, Class::Alnum, |s| TransactionId::new(s).map(drop)),
        ("refund_id", 32, Class::Alnum, |s| RefundId::new(s).map(drop)),
        ("out_order_no", 64, Class::Merchant, |s| OutOrderNo::new(s).map(drop)),
        ("out_return_no", 64, Class::Merchant, |s| OutReturnNo::new(s).map(drop)),
        ("out_refund_no", 64, Class::Merchant, |s| OutRefundNo::new(s).map(drop)),
        ("out_trade_no", 32, Class::Merchant, |s| OutTradeNo::new(s).map(drop)),
        ("description", 80, Class::Text, |s| Description::new(s).map(drop)),
    ]
}

/// Characters from every class that matters: allowed ASCII, other ASCII, controls, 2-, 3- and
/// 4-byte UTF-8.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select("0123456789azAZ_-|*@".chars().collect::<Vec<_>>()),
        1 => prop::char::range(' ', '~'),
        1 => prop::sample::select(vec!['\0', '\t', '\n', '\u{7f}', '\u{85}', '\u{9f}']),
        1 => prop::char::range('\u{80}', '\u{7ff}'),
        2 => prop::sample::select(vec!['分', '账', '退', '款', '\u{fffd}', '\u{ffff}']),
        1 => prop::sample::select(vec!['😀', '🎉', '\u{10000}', '\u{10ffff}']),
        1 => any::<char>(),
    ]
}

/// Strings around every limit: 0 to ~90 bytes.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(interesting_char(), 0..40).prop_map(|v| v.into_iter().collect()),
        // Pure ASCII around 32 and 64 bytes.
        (prop::sample::select(vec![31usize, 32, 33, 63, 64, 65, 79, 80, 81]), interesting_char())
            .prop_map(|(n, c)| "A".repeat(n - 1) + &c.to_string()),
        // Multi-byte around 80 bytes: 26 x 3 bytes = 78, then 1 to 4 more.
        interesting_char().prop_map(|c| "分".repeat(26) + &c.to_string()),
        interesting_char().prop_map(|c| "分".repeat(26) + "é" + &c.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn validators_accept_exactly_their_language(s in interesting_string()) {
        for (field, max, class, check) in validators() {
            let expected = model(&s, max, class);
            match check(&s) {
                Ok(()) => prop_assert!(expected, "{field} accepted {s:?}"),
                Err(e) => {
                    prop_assert!(!expected, "{field} rejected {s:?}: {e}");
                    prop_assert_eq!(e.field(), field);
                    // The rule says why: empty, too long, or the first bad character.
                    match e.rule() {
                        Rule::Empty => prop_assert!(s.is_empty()),
                        Rule::TooLong { max_bytes, actual_bytes } => {
                            prop_assert_eq!(*max_bytes, max);
                            prop_assert_eq!(*actual_bytes, s.len());
                        }
                        Rule::Charset { ch, at, .. } => prop_assert_eq!(s[*at..].chars().next(), Some(*ch)),
                        other => prop_assert!(false, "unexpected rule {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn valid_values_are_kept_verbatim(s in "[0-9A-Za-z_|*@-]{1,64}") {
        let v = OutOrderNo::new(s.clone()).unwrap();
        prop_assert_eq!(v.as_str(), s.as_str());
    }

    #[test]
    fn offset_parses_exactly_the_u32_decimals(s in "[-+ 0-9a]{0,12}") {
        let expected = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u32>().is_ok();
        let parsed = s.parse::<Offset>();
        prop_assert_eq!(parsed.is_ok(), expected, "{:?}", s);
        if let Ok(o) = parsed {
            prop_assert_eq!(o.get(), s.parse::<u32>().unwrap());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Builders

fn merchant_no(max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("[0-9A-Za-z_|*@-]{{1,{max}}}")).unwrap()
}

fn alnum(max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("[0-9A-Za-z]{{1,{max}}}")).unwrap()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned()
}

fn query_pairs(uri: &http::Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), percent_decode(v))
        })
        .collect()
}

proptest! {
    #[test]
    fn v3_queries_carry_exactly_the_values(sub in alnum(32), tid in alnum(32), oon in merchant_no(64), orn in merchant_no(64), by_id in any::<bool>()) {
        let request = v3::OrderQueryRequest::new(
            SubMchId::new(&sub).unwrap(), TransactionId::new(&tid).unwrap(), OutOrderNo::new(&oon).unwrap());
        let built = request.build(&BaseUrl::v3_default()).unwrap();
        prop_assert_eq!(built.method(), http::Method::GET);
        prop_assert_eq!(built.uri().path_and_query().unwrap().as_str(), request.path_and_query());
        prop_assert!(!built.uri().query().unwrap().contains(['|', '*', '@', ' ']));
        prop_assert_eq!(query_pairs(built.uri()), vec![
            ("sub_mchid".into(), sub.clone()), ("transaction_id".into(), tid), ("out_order_no".into(), oon.clone())]);

        let order = if by_id { OrderRef::OrderId(OrderId::new(&sub).unwrap()) } else { OrderRef::OutOrderNo(OutOrderNo::new(&oon).unwrap()) };
        let field = order.field();
        let value = order.value().to_owned();
        let request = v3::ReturnQueryRequest::new(SubMchId::new(&sub).unwrap(), order, OutReturnNo::new(&orn).unwrap());
        let built = request.build(&BaseUrl::parse("http://127.0.0.1:9/pfx/").unwrap()).unwrap();
        prop_assert!(built.uri().path().starts_with("/pfx/v3/"));
        prop_assert_eq!(query_pairs(built.uri()), vec![
            ("sub_mchid".into(), sub), (field.into(), value), ("out_return_no".into(), orn)]);
    }

    #[test]
    fn cloudpay_bodies_carry_exactly_the_values(
        sub in alnum(32), nonce in alnum(32), ids in prop::collection::vec(prop::option::of(alnum(32)), 4), offset in prop::option::of(any::<u32>()),
    ) {
        let lookup = RefundLookup::by_priority(
            ids[0].as_deref().map(|s| RefundId::new(s).unwrap()),
            ids[1].as_deref().map(|s| OutRefundNo::new(s).unwrap()),
            ids[2].as_deref().map(|s| TransactionId::new(s).unwrap()),
            ids[3].as_deref().map(|s| OutTradeNo::new(s).unwrap()),
        );
        let winner = ["refund_id", "out_refund_no", "transaction_id", "out_trade_no"]
            .iter().zip(&ids).find(|(_, v)| v.is_some()).map(|(k, v)| (*k, v.clone().unwrap()));
        let Some((field, value)) = winner else {
            prop_assert!(lookup.is_err());
            return Ok(());
        };
        let mut request = cloudpay::RefundQueryRequest::new(SubMchId::new(&sub).unwrap(), lookup.unwrap()).with_nonce(NonceStr::new(&nonce).unwrap());
        if let Some(o) = offset { request = request.offset(Offset::new(o)); }
        let built = request.build(&BaseUrl::cloudpay_default()).unwrap();
        prop_assert_eq!(built.method(), http::Method::POST);
        prop_assert_eq!(built.uri().path(), "/_/pay/queryrefund");
        prop_assert_eq!(built.headers()["content-type"].to_str().unwrap(), "application/json");
        let body: Map<String, Value> = serde_json::from_slice(built.body()).unwrap();
        let mut expected = Map::new();
        expected.insert("sub_mch_id".into(), sub.into());
        expected.insert("nonce_str".into(), nonce.into());
        expected.insert(field.into(), value.into());
        if let Some(o) = offset { expected.insert("offset".into(), o.into()); }
        prop_assert_eq!(body, expected);
    }
}

proptest! {
    #[test]
    fn servers_read_back_exactly_what_clients_build(
        sub in alnum(32), nonce in alnum(32), tid in alnum(32), oon in merchant_no(64), orn in merchant_no(64),
        desc in "[a-z分账 ]{1,20}", by_id in any::<bool>(), offset in prop::option::of(any::<u32>()),
    ) {
        let base = BaseUrl::cloudpay_default();
        let order = || if by_id { OrderRef::OrderId(OrderId::new(&tid).unwrap()) } else { OrderRef::OutOrderNo(OutOrderNo::new(&oon).unwrap()) };

        let rq = cloudpay::ReturnQueryRequest::new(SubMchId::new(&sub).unwrap(), order(), OutReturnNo::new(&orn).unwrap()).with_nonce(NonceStr::new(&nonce).unwrap());
        prop_assert_eq!(cloudpay::ReturnQueryRequest::from_body(rq.build(&base).unwrap().body()).unwrap(), rq);

        let fin = cloudpay::FinishRequest::new(SubMchId::new(&sub).unwrap(),
            TransactionId::new(&tid).unwrap(), OutOrderNo::new(&oon).unwrap(), Description::new(desc.trim()).unwrap_or_else(|_| Description::new("d").unwrap())).with_nonce(NonceStr::new(&nonce).unwrap());
        prop_assert_eq!(cloudpay::FinishRequest::from_body(fin.build(&base).unwrap().body()).unwrap(), fin);

        let mut refund = cloudpay::RefundQueryRequest::new(SubMchId::new(&sub).unwrap(),
            RefundLookup::OutRefundNo(OutRefundNo::new(&orn).unwrap())).with_nonce(NonceStr::new(&nonce).unwrap());
        if let Some(o) = offset { refund = refund.offset(Offset::new(o)); }
        prop_assert_eq!(cloudpay::RefundQueryRequest::from_body(refund.build(&base).unwrap().body()).unwrap(), refund);

        let v3base = BaseUrl::v3_default();
        let oq = v3::OrderQueryRequest::new(SubMchId::new(&sub).unwrap(), TransactionId::new(&tid).unwrap(), OutOrderNo::new(&oon).unwrap());
        let built = oq.build(&v3base).unwrap();
        prop_assert_eq!(v3::OrderQueryRequest::from_query(built.uri().query().unwrap()).unwrap(), oq);
        let rq3 = v3::ReturnQueryRequest::new(SubMchId::new(&sub).unwrap(), order(), OutReturnNo::new(&orn).unwrap());
        let built = rq3.build(&v3base).unwrap();
        prop_assert_eq!(v3::ReturnQueryRequest::from_query(built.uri().query().unwrap()).unwrap(), rq3);
    }

    #[test]
    fn request_readers_never_panic(body in prop::collection::vec(any::<u8>(), 0..200), query in ".{0,80}", v in arbitrary_json()) {
        let _ = cloudpay::ReturnQueryRequest::from_body(&body);
        let _ = cloudpay::FinishRequest::from_body(&body);
        let _ = cloudpay::RefundQueryRequest::from_body(&body);
        let json = v.to_string();
        let _ = cloudpay::RefundQueryRequest::from_body(json.as_bytes());
        let _ = cloudpay::ReturnQueryRequest::from_body(json.as_bytes());
        let _ = v3::OrderQueryRequest::from_query(&query);
        let _ = v3::ReturnQueryRequest::from_query(&query);
    }
}

#[test]
fn request_reader_errors_name_the_field() {
    let err = cloudpay::FinishRequest::from_body(b"[]").unwrap_err();
    assert_eq!((err.field(), err.rule()), ("body", &Rule::NotJsonObject));
    let err = cloudpay::FinishRequest::from_body(
        br#"{"sub_mch_id":"1","nonce_str":"N","transaction_id":"4","out_order_no":"P"}"#,
    )
    .unwrap_err();
    assert_eq!((err.field(), err.rule()), ("description", &Rule::Missing));
    let err = cloudpay::FinishRequest::from_body(br#"{"sub_mch_id":true}"#).unwrap_err();
    assert_eq!(err.field(), "sub_mch_id");
    let err =
        cloudpay::RefundQueryRequest::from_body(br#"{"sub_mch_id":"1","nonce_str":"N","refund_id":"5","offset":-1}"#)
            .unwrap_err();
    assert_eq!(err.field(), "offset");
    let ok = cloudpay::RefundQueryRequest::from_body(
        br#"{"sub_mch_id":1900000109,"nonce_str":"N","refund_id":"5","out_trade_no":"T","offset":"10"}"#,
    )
    .unwrap();
    assert_eq!((ok.lookup().field(), ok.get_offset()), ("refund_id", Some(Offset::new(10))));
    let err = v3::OrderQueryRequest::from_query("sub_mchid=1&sub_mchid=2&transaction_id=4&out_order_no=P").unwrap_err();
    assert_eq!((err.field(), err.rule()), ("sub_mchid", &Rule::Repeated));
    let err = v3::OrderQueryRequest::from_query("sub_mchid=&transaction_id=4&out_order_no=P").unwrap_err();
    assert_eq!((err.field(), err.rule()), ("sub_mchid", &Rule::Empty));
    let err = v3::ReturnQueryRequest::from_query("sub_mchid=1&out_return_no=R").unwrap_err();
    assert!(matches!(err.rule(), Rule::NoneOf(_)));
}

// ---------------------------------------------------------------------------------------------
// Reply shapes: typed answers (made by parsing generated canonical JSON, so that they are
// exactly what the parser produces) re-encoded in every shape parse back equal.

fn text() -> impl Strategy<Value = String> {
    prop_oneof![alnum(20), "[a-z分账 ]{1,12}".prop_map(|s| s)]
}

fn opt<T: std::fmt::Debug + Clone>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    prop::option::of(s)
}

fn compact_time() -> impl Strategy<Value = String> {
    (2000u32..2100, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60, 0u32..60)
        .prop_map(|(y, mo, d, h, mi, s)| format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}"))
}

fn spaced_time() -> impl Strategy<Value = String> {
    (2000u32..2100, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60, 0u32..60)
        .prop_map(|(y, mo, d, h, mi, s)| format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
}

fn rfc3339_time() -> impl Strategy<Value = String> {
    (
        2000u32..2100,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1000,
        prop::sample::select(vec!["+08:00", "Z", "-05:30"]),
    )
        .prop_map(|(y, mo, d, h, mi, s, ms, off)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}{off}"))
}

fn enum_value(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![4 => prop::sample::select(known).prop_map(str::to_owned), 1 => "[A-Z_]{3,10}"]
}

fn insert_opt(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.into(), v);
    }
}

fn return_query_json() -> impl Strategy<Value = Value> {
    (
        (opt(alnum(10)), opt(alnum(10)), opt(alnum(18)), opt(alnum(32)), opt(alnum(32))),
        (alnum(28), merchant_no(20), merchant_no(20), alnum(28)),
        (opt(enum_value(&["MERCHANT_ID"])), opt(alnum(10)), any::<u64>(), opt(text())),
        (
            enum_value(&["PROCESSING", "SUCCESS", "FAILED"]),
            opt(enum_value(&["ACCOUNT_ABNORMAL", "TIME_OUT_CLOSED"])),
            opt(compact_time()),
        ),
    )
        .prop_map(
            |((mch, sub, appid, nonce, sign), (oid, oon, orn, rno), (rat, ra, amount, desc), (result, fail, time))| {
                let mut m = Map::new();
                m.insert("return_code".into(), "SUCCESS".into());
                for (k, v) in
                    [("mch_id", mch), ("sub_mch_id", sub), ("appid", appid), ("nonce_str", nonce), ("sign", sign)]
                {
                    insert_opt(&mut m, k, v.map(Value::from));
                }
                m.insert("order_id".into(), oid.into());
                m.insert("out_order_no".into(), oon.into());
                m.insert("out_return_no".into(), orn.into());
                m.insert("return_no".into(), rno.into());
                insert_opt(&mut m, "return_account_type", rat.map(Value::from));
                insert_opt(&mut m, "return_account", ra.map(Value::from));
                m.insert("return_amount".into(), amount.into());
                insert_opt(&mut m, "description", desc.map(Value::from));
                m.insert("result".into(), result.into());
                insert_opt(&mut m, "fail_reason", fail.map(Value::from));
                insert_opt(&mut m, "finish_time", time.map(Value::from));
                Value::Object(m)
            },
        )
}

fn finish_json() -> impl Strategy<Value = Value> {
    (
        (opt(alnum(10)), opt(alnum(10)), opt(alnum(18)), opt(alnum(18))),
        opt((enum_value(&["MERCHANT_ID", "PERSONAL_OPENID"]), alnum(28), opt(any::<u64>()), opt(text()))),
        (alnum(28), merchant_no(64), alnum(28)),
    )
        .prop_map(|((mch, sub, appid, sub_appid), receiver, (tid, oon, oid))| {
            let mut m = Map::new();
            m.insert("return_code".into(), "SUCCESS".into());
            m.insert("result_code".into(), "SUCCESS".into());
            for (k, v) in [("mch_id", mch), ("sub_mch_id", sub), ("appid", appid), ("sub_appid", sub_appid)] {
                insert_opt(&mut m, k, v.map(Value::from));
            }
            if let Some((ty, account, amount, desc)) = receiver {
                let mut r = Map::new();
                r.insert("type".into(), ty.into());
                r.insert("account".into(), account.into());
                insert_opt(&mut r, "amount", amount.map(Value::from));
                insert_opt(&mut r, "description", desc.map(Value::from));
                m.insert("receiver".into(), Value::Object(r).to_string().into());
            }
            m.insert("transaction_id".into(), tid.into());
            m.insert("out_order_no".into(), oon.into());
            m.insert("order_id".into(), oid.into());
            Value::Object(m)
        })
}

#[derive(Debug, Clone)]
struct GenRefund {
    fields: Vec<(&'static str, Option<Value>)>,
    coupons: Vec<(Option<String>, String, u64)>,
}

fn refund() -> impl Strategy<Value = GenRefund> {
    (
        (
            merchant_no(64),
            alnum(32),
            opt(enum_value(&["ORIGINAL", "BALANCE", "OTHER_BALANCE", "OTHER_BANKCARD"])),
            any::<u64>(),
        ),
        (opt(any::<u64>()), opt(any::<u64>()), opt(0u32..5)),
        (
            enum_value(&["SUCCESS", "REFUNDCLOSE", "PROCESSING", "CHANGE"]),
            opt(enum_value(&["REFUND_SOURCE_RECHARGE_FUNDS", "REFUND_SOURCE_UNSETTLED_FUNDS"])),
            opt(text()),
            opt(spaced_time()),
        ),
        prop::collection::vec((opt(enum_value(&["CASH", "NO_CASH"])), alnum(20), any::<u64>()), 0..3),
    )
        .prop_map(|((orn, rid, channel, fee), (sfee, cfee, ccount), (status, account, recv, time), coupons)| {
            // A listed coupon count must match the coupons when they are listed.
            let ccount = if coupons.is_empty() { ccount } else { Some(coupons.len() as u32) };
            GenRefund {
                fields: vec![
                    ("out_refund_no", Some(orn.into())),
                    ("refund_id", Some(rid.into())),
                    ("refund_channel", channel.map(Value::from)),
                    ("refund_fee", Some(fee.into())),
                    ("settlement_refund_fee", sfee.map(Value::from)),
                    ("coupon_refund_fee", cfee.map(Value::from)),
                    ("coupon_refund_count", ccount.map(Value::from)),
                    ("refund_status", Some(status.into())),
                    ("refund_account", account.map(Value::from)),
                    ("refund_recv_accout", recv.map(Value::from)),
                    ("refund_success_time", time.map(Value::from)),
                ],
                coupons,
            }
        })
}

fn refund_query_json() -> impl Strategy<Value = Value> {
    (
        (opt(alnum(18)), opt(alnum(10)), opt(alnum(10)), alnum(28), opt(merchant_no(32))),
        (any::<u64>(), opt(any::<u64>()), opt(Just("CNY".to_owned())), any::<u64>(), opt(0u32..100)),
        prop_oneof![
            1 => (1u32..50).prop_map(|n| (n, None)),
            4 => prop::collection::vec(refund(), 0..6).prop_map(|v| (v.len() as u32, Some(v))),
        ],
    )
        .prop_map(
            |((appid, mch, sub, tid, otn), (total, settle, fee_type, cash, total_count), (count, refunds))| {
                let mut m = Map::new();
                m.insert("return_code".into(), "SUCCESS".into());
                m.insert("result_code".into(), "SUCCESS".into());
                insert_opt(&mut m, "appid", appid.map(Value::from));
                insert_opt(&mut m, "mch_id", mch.map(Value::from));
                insert_opt(&mut m, "sub_mch_id", sub.map(Value::from));
                m.insert("transaction_id".into(), tid.into());
                insert_opt(&mut m, "out_trade_no", otn.map(Value::from));
                m.insert("total_fee".into(), total.into());
                insert_opt(&mut m, "settlement_total_fee", settle.map(Value::from));
                insert_opt(&mut m, "fee_type", fee_type.map(Value::from));
                m.insert("cash_fee".into(), cash.into());
                m.insert("refund_count".into(), count.into());
                insert_opt(&mut m, "total_refund_count", total_count.map(Value::from));
                for (n, r) in refunds.iter().flatten().enumerate() {
                    for (k, v) in &r.fields {
                        insert_opt(&mut m, &format!("{k}_{n}"), v.clone());
                    }
                    for (i, (ty, id, fee)) in r.coupons.iter().enumerate() {
                        insert_opt(&mut m, &format!("coupon_type_{n}_{i}"), ty.clone().map(Value::from));
                        m.insert(format!("coupon_refund_id_{n}_{i}"), id.clone().into());
                        m.insert(format!("coupon_refund_fee_{n}_{i}"), (*fee).into());
                    }
                }
                Value::Object(m)
            },
        )
}

fn v3_return_query_json() -> impl Strategy<Value = Value> {
    (
        alnum(32),
        alnum(64),
        merchant_no(64),
        merchant_no(64),
        alnum(32),
        alnum(64),
        any::<u64>(),
        enum_value(&["PROCESSING", "SUCCESS", "FAIL"]),
        opt(enum_value(&["ACCOUNT_ABNORMAL", "TIME_OUT_CLOSED"])),
        opt(rfc3339_time()),
    )
        .prop_map(|(sub, oid, oon, orn, rmch, rno, amount, result, fail, time)| {
            let mut m = json!({"sub_mchid": sub, "order_id": oid, "out_order_no": oon, "out_return_no": orn,
                "return_mchid": rmch, "return_no": rno, "amount": amount, "result": result});
            let o = m.as_object_mut().unwrap();
            insert_opt(o, "fail_reason", fail.map(Value::from));
            insert_opt(o, "finish_time", time.map(Value::from));
            m
        })
}

fn v3_order_query_json() -> impl Strategy<Value = Value> {
    let receiver = (
        opt(alnum(32)),
        any::<u64>(),
        text(),
        enum_value(&["PENDING", "SUCCESS", "CLOSED"]),
        opt(rfc3339_time()),
        opt(enum_value(&["ACCOUNT_ABNORMAL", "NO_RELATION", "RECEIVER_HIGH_RISK"])),
        opt(enum_value(&["MERCHANT_ID", "PERSONAL_OPENID"])),
        opt(alnum(64)),
        opt(alnum(64)),
    )
        .prop_map(|(mchid, amount, desc, result, time, fail, ty, account, detail_id)| {
            let mut r = json!({"amount": amount, "description": desc, "result": result});
            let o = r.as_object_mut().unwrap();
            insert_opt(o, "receiver_mchid", mchid.map(Value::from));
            insert_opt(o, "finish_time", time.map(Value::from));
            insert_opt(o, "fail_reason", fail.map(Value::from));
            insert_opt(o, "type", ty.map(Value::from));
            insert_opt(o, "receiver_account", account.map(Value::from));
            insert_opt(o, "detail_id", detail_id.map(Value::from));
            r
        });
    (alnum(32), alnum(32), merchant_no(64), alnum(64), enum_value(&["PROCESSING", "FINISHED"]),
        opt(prop::collection::vec(receiver, 0..4)), opt(enum_value(&["NO_AUTH"])), opt(any::<u64>()), opt(text()))
        .prop_map(|(sub, tid, oon, oid, status, receivers, close, famount, fdesc)| {
            let mut m = json!({"sub_mchid": sub, "transaction_id": tid, "out_order_no": oon, "order_id": oid, "status": status});
            let o = m.as_object_mut().unwrap();
            insert_opt(o, "receivers", receivers.map(Value::from));
            insert_opt(o, "close_reason", close.map(Value::from));
            insert_opt(o, "finish_amount", famount.map(Value::from));
            insert_opt(o, "finish_description", fdesc.map(Value::from));
            m
        })
}

fn ok(body: &[u8]) -> http::Response<Vec<u8>> {
    http::Response::new(body.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn cloudpay_return_query_round_trips_in_every_shape(v in return_query_json()) {
        let typed = cloudpay::ReturnQueryResponse::parse(&ok(v.to_string().as_bytes())).unwrap();
        for shape in ReplyShape::all() {
            let again = cloudpay::ReturnQueryResponse::parse(&ok(&typed.encode(shape)));
            prop_assert_eq!(again.as_ref().ok(), Some(&typed), "{:?}", shape);
        }
    }

    #[test]
    fn cloudpay_finish_round_trips_in_every_shape(v in finish_json()) {
        let typed = cloudpay::FinishResponse::parse(&ok(v.to_string().as_bytes())).unwrap();
        for shape in ReplyShape::all() {
            let again = cloudpay::FinishResponse::parse(&ok(&typed.encode(shape)));
            prop_assert_eq!(again.as_ref().ok(), Some(&typed), "{:?}", shape);
        }
    }

    #[test]
    fn cloudpay_refund_query_round_trips_in_every_shape(v in refund_query_json()) {
        let typed = cloudpay::RefundQueryResponse::parse(&ok(v.to_string().as_bytes())).unwrap();
        if v.get("refund_id_0").is_none() && v["refund_count"] != 0 {
            prop_assert_eq!(&typed.refunds, &RefundDetails::NotReturned);
        }
        for shape in ReplyShape::all() {
            let again = cloudpay::RefundQueryResponse::parse(&ok(&typed.encode(shape)));
            prop_assert_eq!(again.as_ref().ok(), Some(&typed), "{:?}", shape);
        }
    }

    #[test]
    fn cloudpay_failures_round_trip_in_every_shape(
        op in prop::sample::select(cloudpay::CloudPayOp::ALL.to_vec()),
        code in prop::sample::select(vec!["SYSTEMERROR", "PARAM_ERROR", "ORDERNOTEXIST", "NEW_CODE"]),
        message in text(),
    ) {
        let failure = cloudpay::Failure::with_code(code.into(), message.clone());
        for shape in ReplyShape::all() {
            let body = failure.encode(op, shape);
            let response = ok(&body);
            let err = match op {
                cloudpay::CloudPayOp::ReturnQuery => cloudpay::ReturnQueryResponse::parse(&response).map(drop),
                cloudpay::CloudPayOp::Finish => cloudpay::FinishResponse::parse(&response).map(drop),
                _ => cloudpay::RefundQueryResponse::parse(&response).map(drop),
            }.unwrap_err();
            let api = err.as_api().unwrap();
            prop_assert_eq!(api.message(), Some(message.as_str()));
            // The cloud SDK's numeric errCode shadows a business err_code in camelCase answers
            // (docs/protocol.md §1.2); the return query's error_code is not shadowed.
            let shadowed = shape.keys == cloudpay::KeyCase::Camel && op != cloudpay::CloudPayOp::ReturnQuery;
            let expected = if shadowed { None } else { Some(code) };
            prop_assert_eq!(api.code().map(|c| c.as_str()), expected, "{:?}", shape);
        }
    }

    #[test]
    fn v3_answers_round_trip(r in v3_return_query_json(), o in v3_order_query_json()) {
        let typed = v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&ok(r.to_string().as_bytes()))).unwrap();
        let again = v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&ok(&serde_json::to_vec(&typed).unwrap()))).unwrap();
        prop_assert_eq!(again, typed);
        let typed = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok(o.to_string().as_bytes()))).unwrap();
        let again = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok(&serde_json::to_vec(&typed).unwrap()))).unwrap();
        prop_assert_eq!(again, typed);
    }
}

// ---------------------------------------------------------------------------------------------
// Extra fields: keys no type knows, added to the generated answers at every level, come back in
// `extra` spelled as sent and survive every reply shape (docs/design.md §2, docs/protocol.md §1.2).

/// How a generated extra field is spelled: `x_name` or `xName`, always the same for one name
/// (so that no two spellings of a name meet in one answer), never like a documented field.
fn spell(name: &str) -> String {
    if name.len().is_multiple_of(2) {
        format!("x_{name}")
    } else {
        let mut chars = name.chars();
        let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
        format!("x{}", first.chain(chars).collect::<String>())
    }
}

fn extra_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        text().prop_map(|t| json!({"note": t, "n": [1, 2]})),
    ]
}

/// Up to three extra fields. Names end in a letter and never in `list` / `array`: such keys
/// would read as per-refund indexes or lists, which the refund tests place on purpose.
fn extras() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("[a-z]{1,6}", extra_value(), 0..4).prop_map(|m| {
        m.into_iter()
            .filter(|(n, _)| !n.ends_with("list") && !n.ends_with("array"))
            .map(|(n, v)| (spell(&n), v))
            .collect()
    })
}

fn extend(target: &mut Map<String, Value>, extra: &Map<String, Value>, suffix: &str) {
    for (k, v) in extra {
        target.insert(format!("{k}{suffix}"), v.clone());
    }
}

/// A generated refund query answer with extra fields on the answer, on each listed refund
/// (`name_$n`) and on each listed coupon (`name_$n_$m`), and those extras.
#[allow(clippy::type_complexity)]
fn refund_query_with_extras()
-> impl Strategy<Value = (Value, Map<String, Value>, Vec<Map<String, Value>>, Vec<Vec<Map<String, Value>>>)> {
    refund_query_json().prop_flat_map(|v| {
        let listed = if v.get("refund_id_0").is_some() { v["refund_count"].as_u64().unwrap() as usize } else { 0 };
        let coupons: Vec<usize> = (0..listed)
            .map(|n| (0..).take_while(|m| v.get(format!("coupon_refund_id_{n}_{m}")).is_some()).count())
            .collect();
        let per_coupon: Vec<_> = coupons.iter().map(|&c| prop::collection::vec(extras(), c)).collect();
        (Just(v), extras(), prop::collection::vec(extras(), listed), per_coupon)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn cloudpay_extras_are_kept_and_round_trip_in_every_shape(
        (mut refund, top, per_refund, per_coupon) in refund_query_with_extras(),
        rq in return_query_json(), rq_extra in extras(),
        fin in finish_json(), fin_extra in extras(), receiver_extra in extras(),
    ) {
        // Refund query: each level's extras where they belong.
        let m = refund.as_object_mut().unwrap();
        extend(m, &top, "");
        for (n, extra) in per_refund.iter().enumerate() {
            extend(m, extra, &format!("_{n}"));
        }
        for (n, coupons) in per_coupon.iter().enumerate() {
            for (c, extra) in coupons.iter().enumerate() {
                extend(m, extra, &format!("_{n}_{c}"));
            }
        }
        let typed = cloudpay::RefundQueryResponse::parse(&ok(refund.to_string().as_bytes())).unwrap();
        prop_assert_eq!(typed.extra.as_map(), &top);
        for (n, r) in typed.listed_refunds().iter().enumerate() {
            prop_assert_eq!(r.extra.as_map(), &per_refund[n]);
            for (c, coupon) in r.coupons.iter().enumerate() {
                prop_assert_eq!(coupon.extra.as_map(), &per_coupon[n][c]);
            }
        }
        for shape in ReplyShape::all() {
            let again = cloudpay::RefundQueryResponse::parse(&ok(&typed.encode(shape)));
            prop_assert_eq!(again.as_ref().ok(), Some(&typed), "{:?}", shape);
        }

        // Return query.
        let mut rq = rq;
        extend(rq.as_object_mut().unwrap(), &rq_extra, "");
        let typed = cloudpay::ReturnQueryResponse::parse(&ok(rq.to_string().as_bytes())).unwrap();
        prop_assert_eq!(typed.extra.as_map(), &rq_extra);
        for shape in ReplyShape::all() {
            let again = cloudpay::ReturnQueryResponse::parse(&ok(&typed.encode(shape)));
            prop_assert_eq!(again.as_ref().ok(), Some(&typed), "{:?}", shape);
        }

        // Finish, with extras on the answer and inside its receiver string.
        let mut fin = fin;
        let m = fin.as_object_mut().unwrap();
        extend(m, &fin_extra, "");
        let receiver = m.get("receiver").and_then(Value::as_str).map(|s| serde_json::from_str::<Map<String, Value>>(s).unwrap());
        if let Some(mut r) = receiver.clone() {
            extend(&mut r, &receiver_extra, "");
            m.insert("receiver".into(), Value::Object(r).to_string().into());
        }
        let typed = cloudpay::FinishResponse::parse(&ok(fin.to_string().as_bytes())).unwrap();
        prop_assert_eq!(typed.extra.as_map(), &fin_extra);
        if let Some(r) = &typed.receiver {
            prop_assert_eq!(r.extra.as_map(), &receiver_extra);
        }
        for shape in ReplyShape::all() {
            let again = cloudpay::FinishResponse::parse(&ok(&typed.encode(shape)));
            prop_assert_eq!(again.as_ref().ok(), Some(&typed), "{:?}", shape);
        }
    }

    #[test]
    fn v3_extras_are_kept_and_written_back(
        r in v3_return_query_json(), r_extra in extras(),
        o in v3_order_query_json(), o_extra in extras(), receiver_extras in prop::collection::vec(extras(), 4),
    ) {
        let mut r = r;
        extend(r.as_object_mut().unwrap(), &r_extra, "");
        let typed = v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&ok(r.to_string().as_bytes()))).unwrap();
        prop_assert_eq!(typed.extra.as_map(), &r_extra);
        prop_assert_eq!(serde_json::to_value(&typed).unwrap(), r);

        let mut o = o;
        extend(o.as_object_mut().unwrap(), &o_extra, "");
        if let Some(receivers) = o.get_mut("receivers").and_then(Value::as_array_mut) {
            for (receiver, extra) in receivers.iter_mut().zip(&receiver_extras) {
                extend(receiver.as_object_mut().unwrap(), extra, "");
            }
        }
        let typed = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok(o.to_string().as_bytes()))).unwrap();
        prop_assert_eq!(typed.extra.as_map(), &o_extra);
        for (i, receiver) in typed.receivers.iter().flatten().enumerate() {
            prop_assert_eq!(receiver.extra.as_map(), &receiver_extras[i]);
            prop_assert_eq!(receiver.detail_id.as_deref(), o["receivers"][i].get("detail_id").and_then(Value::as_str));
        }
        let again = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok(&serde_json::to_vec(&typed).unwrap()))).unwrap();
        prop_assert_eq!(&again, &typed);
    }
}

/// Keys that look like refund and coupon fields, lists, scaffolding or documented fields out
/// of place: the places where a kept field could be written back somewhere else.
const TRICKY_KEYS: &[&str] = &[
    "x_0",
    "x_1",
    "x_7",
    "x0",
    "x00",
    "xA_0",
    "x_a_1",
    "xA1",
    "x_list",
    "xList",
    "x_a_list",
    "x_0_list",
    "x_0_0",
    "x_1_0",
    "x_0_1",
    "x_0_0_0",
    "x_array",
    "xArray",
    "X",
    "x",
    "list",
    "_0",
    "0",
    "errMsg",
    "errmsg",
    "errcode",
    "respdata",
    "errCode",
    "ErrCode",
    "returnMsg",
    "refund_fee_0",
    "refund_fee_5",
    "refundFee_1",
    "refund_fee_list",
    "refund_id_list",
    "refund_status_list",
    "coupon_type_0_0",
    "coupon_refund_fee_0_1",
    "coupon_type_array",
    "coupon_refund_id_array",
    "coupon_refund_fee_0",
    "refund_fee_type_0",
    "refundFeeType_1",
    "mch_id",
    "sub_appid",
    "receiver",
    "total_fee_0",
    "cash_fee_list",
    "refund_id_1",
    "refund_id_2",
    "out_refund_no_1",
    "refund_channel_0",
    "refundChannel_1",
    "coupon_refund_id_0_0",
    "coupon_refund_id_0_1",
    "coupon_refund_id_1_0",
    "coupon_type_1_0",
    "x_2",
    "x_00",
    "xA_1",
    "refund_fee_00",
];

fn tricky_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        "[a-z]{0,3}".prop_map(Value::from),
        (0u64..3).prop_map(Value::from),
        Just(json!({"k": 1})),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| prop::collection::vec(inner, 0..4).prop_map(Value::from))
}

/// A CloudPay answer of every kind, written in a random reply shape, with tricky keys added
/// inside it (and, when wrapped, beside it): the operation, the shape and the bytes.
fn tricky_cloudpay_answer() -> impl Strategy<Value = (u8, Vec<u8>)> {
    let answer = prop_oneof![
        refund_query_json().prop_map(|v| (2u8, v)),
        return_query_json().prop_map(|v| (0u8, v)),
        finish_json().prop_map(|v| (1u8, v)),
    ];
    let shape = prop::sample::select(ReplyShape::all().collect::<Vec<_>>());
    let keys = || prop::collection::btree_map(prop::sample::select(TRICKY_KEYS.to_vec()), tricky_value(), 0..6);
    (answer, shape, keys(), keys()).prop_map(|((op, v), shape, inner, outer)| {
        let body = v.to_string();
        let encoded = match op {
            0 => cloudpay::ReturnQueryResponse::parse(&ok(body.as_bytes())).unwrap().encode(shape),
            1 => cloudpay::FinishResponse::parse(&ok(body.as_bytes())).unwrap().encode(shape),
            _ => cloudpay::RefundQueryResponse::parse(&ok(body.as_bytes())).unwrap().encode(shape),
        };
        let mut value: Value = serde_json::from_slice(&encoded).unwrap();
        let wrapper = value.as_object_mut().unwrap();
        let object = if shape.wrapped {
            for (k, v) in &outer {
                wrapper.entry(k.to_string()).or_insert_with(|| v.clone());
            }
            wrapper.get_mut("respdata").unwrap().as_object_mut().unwrap()
        } else {
            wrapper
        };
        for (k, v) in inner {
            object.insert(k.to_owned(), v);
        }
        (op, value.to_string().into_bytes())
    })
}

/// Asserts that a parsed answer written in every reply shape parses back to itself.
fn assert_round_trips<T: PartialEq + std::fmt::Debug>(
    body: &[u8],
    parse: fn(&http::Response<Vec<u8>>) -> Result<T, wxpay_protocol::Error>,
    encode: fn(&T, ReplyShape) -> Vec<u8>,
) -> Result<(), TestCaseError> {
    if let Ok(typed) = parse(&ok(body)) {
        for shape in ReplyShape::all() {
            let bytes = encode(&typed, shape);
            let again = parse(&ok(&bytes));
            prop_assert_eq!(
                again.as_ref().ok(),
                Some(&typed),
                "{:?}\n  from: {}\n  wrote: {}",
                shape,
                String::from_utf8_lossy(body),
                String::from_utf8_lossy(&bytes)
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// What the fuzz targets assert, for answers full of keys no type knows: whatever parses
    /// writes back in every shape to the same value.
    #[test]
    fn whatever_parses_round_trips_with_its_extra_fields((op, body) in tricky_cloudpay_answer()) {
        match op {
            0 => assert_round_trips(&body, cloudpay::ReturnQueryResponse::parse, cloudpay::ReturnQueryResponse::encode)?,
            1 => assert_round_trips(&body, cloudpay::FinishResponse::parse, cloudpay::FinishResponse::encode)?,
            _ => assert_round_trips(&body, cloudpay::RefundQueryResponse::parse, cloudpay::RefundQueryResponse::encode)?,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// No panics on arbitrary input.

const KEYS: &[&str] = &[
    "errcode",
    "errmsg",
    "respdata",
    "errCode",
    "errMsg",
    "return_code",
    "returnCode",
    "result_code",
    "err_code",
    "error_code",
    "refund_count",
    "total_refund_count",
    "refund_id_0",
    "refund_id_1",
    "out_refund_no_0",
    "refund_fee_0",
    "refund_status_0",
    "coupon_refund_id_0_0",
    "coupon_refund_fee_0_0",
    "coupon_refund_count_0",
    "refund_id_list",
    "out_refund_no_list",
    "refund_fee_list",
    "coupon_refund_id_array",
    "coupon_refund_fee_array",
    "receiver",
    "transaction_id",
    "total_fee",
    "cash_fee",
    "order_id",
    "out_order_no",
    "out_return_no",
    "return_no",
    "return_amount",
    "result",
    "finish_time",
    "refund_success_time_0",
    "sub_mchid",
    "amount",
    "status",
    "receivers",
    "code",
    "message",
    "detail",
    "return_mchid",
    "description",
];

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        prop::sample::select(vec![
            "SUCCESS",
            "FAIL",
            "",
            "1",
            "-1",
            "4294967296",
            "20180608170132",
            "2016-07-25 15:26:26",
            "{\"type\":1}",
            "{}"
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned), inner, 0..12)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn parse_all(status: u16, body: &[u8]) {
    let response = http::Response::builder().status(status).body(body.to_vec()).unwrap();
    let _ = cloudpay::ReturnQueryResponse::parse(&response);
    let _ = cloudpay::FinishResponse::parse(&response);
    let _ = cloudpay::RefundQueryResponse::parse(&response);
    let _ = v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&response));
    let _ = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&response));
    let err = v3::parse_error(&response);
    let _ = (err.to_string(), err.retry_class(), err.outcome_unknown());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn parsers_never_panic_on_bytes(status in prop::sample::select(vec![200u16, 204, 400, 401, 404, 429, 500, 502]), body in prop::collection::vec(any::<u8>(), 0..256)) {
        parse_all(status, &body);
    }

    #[test]
    fn parsers_never_panic_on_json(v in arbitrary_json()) {
        let body = v.to_string();
        parse_all(200, body.as_bytes());
        let wrapped = json!({"errcode": 0, "respdata": v}).to_string();
        parse_all(200, wrapped.as_bytes());
    }

    #[test]
    fn base_url_never_panics(s in ".{0,40}") {
        if let Ok(base) = BaseUrl::parse(&s) {
            prop_assert!(base.as_str().starts_with("http"));
            let _ = base.is_loopback();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The pager always terminates.

fn page(ids: &[String], total: Option<u32>) -> cloudpay::RefundQueryResponse {
    let mut m = Map::new();
    for (k, v) in [("return_code", "SUCCESS"), ("result_code", "SUCCESS"), ("transaction_id", "42")] {
        m.insert(k.into(), v.into());
    }
    m.insert("total_fee".into(), 1.into());
    m.insert("cash_fee".into(), 1.into());
    m.insert("refund_count".into(), ids.len().into());
    insert_opt(&mut m, "total_refund_count", total.map(Value::from));
    for (n, id) in ids.iter().enumerate() {
        m.insert(format!("refund_id_{n}"), id.clone().into());
        m.insert(format!("out_refund_no_{n}"), format!("R{id}").into());
        m.insert(format!("refund_fee_{n}"), 1.into());
        m.insert(format!("refund_status_{n}"), "SUCCESS".into());
    }
    cloudpay::RefundQueryResponse::parse(&ok(Value::Object(m).to_string().as_bytes())).unwrap()
}

fn order_pager(start: Option<u32>) -> RefundPager {
    let mut request = cloudpay::RefundQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        RefundLookup::TransactionId(TransactionId::new("42").unwrap()),
    )
    .with_nonce(NonceStr::new("N").unwrap());
    if let Some(s) = start {
        request = request.offset(Offset::new(s));
    }
    RefundPager::new(request)
}

/// An adversarial page: any count of ids (possibly repeated, or always new: a server that keeps
/// inventing refunds), any total or none, up to the issue 11 server's 1000000000 and beyond.
fn adversarial_page() -> impl Strategy<Value = (Vec<String>, Option<u32>)> {
    let id = prop_oneof![(0u32..40).prop_map(|i| i.to_string()), any::<u32>().prop_map(|i| format!("x{i}"))];
    let total = prop_oneof![0u32..60, Just(1_000_000_000), any::<u32>()];
    (prop::collection::vec(id, 0..12), opt(total))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn pager_terminates_on_any_answers(pages in prop::collection::vec(adversarial_page(), 1..80), start in opt(0u32..5)) {
        let mut pager = order_pager(start);
        let mut pushes = 0usize;
        let mut first_total = None;
        let (mut listed, mut reported, mut failed) = (0usize, 0usize, false);
        // The pages repeat: a server may answer for ever.
        for (ids, total) in pages.iter().cycle().take(500) {
            let Some(request) = pager.next_request(NonceStr::new("N2").unwrap()) else { break };
            prop_assert!(request.get_offset().is_some(), "order-level pages always carry an offset");
            first_total = first_total.or(*total);
            pushes += 1;
            match pager.push(page(ids, *total)) {
                Ok(refunds) => {
                    // What a page lists is what the pager reports, refund for refund.
                    prop_assert_eq!(refunds.iter().map(|r| r.refund_id.clone()).collect::<Vec<_>>(), ids.clone());
                    listed += ids.len();
                    reported += refunds.len();
                }
                Err(_) => {
                    prop_assert!(pager.next_request(NonceStr::new("N3").unwrap()).is_none(), "an error ends paging");
                    prop_assert_eq!(pager.push(page(ids, *total)), Err(PagingError::AlreadyComplete));
                    failed = true;
                    break;
                }
            }
        }
        // The pager ends within its bound: every accepted page advances the offset by at least
        // one refund toward a fixed total of at most MAX_REFUNDS, so paging never takes more
        // than MAX_REFUNDS + 1 answers, whatever the server claims.
        prop_assert!(pager.is_complete() || failed, "the pager ended ({pushes} answers)");
        prop_assert!(pushes <= MAX_REFUNDS as usize + 1, "{pushes} pages");
        prop_assert!(pushes <= first_total.unwrap_or(0) as usize + 1 || pushes <= 1, "{pushes} pages, total {first_total:?}");
        prop_assert!(pager.received() <= MAX_REFUNDS as usize);
        // Never fewer refunds than the answers listed, unless it says so with an error.
        prop_assert_eq!(reported, listed);
        prop_assert_eq!(pager.received(), reported);
    }

    #[test]
    fn pager_bound_is_configurable(max in 0u32..200, total in any::<u32>()) {
        let mut pager = order_pager(None).with_max_refunds(max);
        let mut pushes = 0u32;
        while let Some(request) = pager.next_request(NonceStr::new("N").unwrap()) {
            let offset = request.get_offset().unwrap().get();
            // A server that invents ten new refunds per page and claims `total`.
            let ids: Vec<String> = (offset..offset + 10).map(|i| format!("i{i}")).collect();
            pushes += 1;
            if pager.push(page(&ids, Some(total))).is_err() {
                break;
            }
        }
        prop_assert!(pushes <= max / 10 + 1, "{pushes} pages for a bound of {max}");
        prop_assert!(pager.received() as u32 <= max);
    }

    #[test]
    fn pager_collects_every_refund_from_an_honest_server(total in 0u32..=MAX_REFUNDS) {
        let all: Vec<String> = (0..total).map(|i| format!("50{i:04}")).collect();
        let mut pager = order_pager(None);
        let mut got = Vec::new();
        let mut pages = 0;
        while let Some(request) = pager.next_request(NonceStr::new("N").unwrap()) {
            let offset = request.get_offset().unwrap().get() as usize;
            let end = (offset + 10).min(all.len());
            got.extend(pager.push(page(&all[offset..end], Some(total))).unwrap().into_iter().map(|r| r.refund_id));
            pages += 1;
            prop_assert!(pages <= 7);
        }
        prop_assert_eq!(got, all);
        prop_assert_eq!(pages, (total as usize).div_ceil(10).max(1));
        prop_assert_eq!(pager.total(), Some(total));
    }
}

#[test]
fn pager_thirty_six_refunds_in_four_pages() {
    let all: Vec<String> = (0..36).map(|i| format!("{i}")).collect();
    let mut pager = order_pager(None);
    let mut offsets = Vec::new();
    while let Some(request) = pager.next_request(NonceStr::new("N").unwrap()) {
        let offset = request.get_offset().unwrap().get() as usize;
        offsets.push(offset);
        pager.push(page(&all[offset..(offset + 10).min(36)], Some(36))).unwrap();
    }
    assert_eq!(offsets, [0, 10, 20, 30]);
    assert_eq!(pager.received(), 36);
}

#[test]
fn pager_errors() {
    let ids = |r: std::ops::Range<u32>| r.map(|i| i.to_string()).collect::<Vec<_>>();
    let mut p = order_pager(None);
    assert_eq!(p.push(page(&ids(0..10), None)), Err(PagingError::MissingTotal { refund_count: 10 }));
    let mut p = order_pager(None);
    p.push(page(&ids(0..10), Some(20))).unwrap();
    assert_eq!(p.push(page(&ids(10..20), Some(21))), Err(PagingError::TotalChanged { before: 20, now: 21 }));
    let mut p = order_pager(None);
    p.push(page(&ids(0..10), Some(20))).unwrap();
    assert_eq!(p.push(page(&[], Some(20))), Err(PagingError::EmptyPage { offset: 10, total: 20 }));
    let mut p = order_pager(None);
    p.push(page(&ids(0..10), Some(20))).unwrap();
    assert_eq!(p.push(page(&ids(5..15), Some(20))), Err(PagingError::Duplicate { refund_id: "5".into() }));
    // Issue 11: a server that claims a billion refunds is stopped at the first page.
    let mut p = order_pager(None);
    assert_eq!(
        p.push(page(&ids(0..10), Some(1_000_000_000))),
        Err(PagingError::TooManyRefunds { total: 1_000_000_000, max: MAX_REFUNDS })
    );
    let mut p = order_pager(None).with_max_refunds(60);
    p.push(page(&ids(0..10), Some(60))).unwrap();
    let mut p = order_pager(None);
    assert_eq!(p.push(page(&ids(0..11), Some(20))), Err(PagingError::PageTooLong { refund_count: 11 }));
    // A page of another payment is not the next page of this one.
    let mut p = order_pager(None);
    p.push(page(&ids(0..10), Some(20))).unwrap();
    let mut other = page(&ids(10..20), Some(20));
    other.transaction_id = "43".into();
    assert_eq!(p.push(other), Err(PagingError::OrderChanged { before: "42".into(), now: "43".into() }));
    let mut p = order_pager(None);
    assert_eq!(
        p.push(page(&ids(0..10), Some(5))),
        Err(PagingError::PastTotal { offset: 0, refund_count: 10, total: 5 })
    );
    let not_returned = cloudpay::RefundQueryResponse::parse(&ok(
        br#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"1","total_fee":1,"cash_fee":1,"refund_count":4}"#,
    ))
    .unwrap();
    assert_eq!(order_pager(None).push(not_returned), Err(PagingError::DetailsNotReturned { refund_count: 4 }));

    // A single-refund lookup is one answer, and carries no offset.
    let mut single = RefundPager::new(
        cloudpay::RefundQueryRequest::new(
            SubMchId::new("1").unwrap(),
            RefundLookup::RefundId(RefundId::new("5001").unwrap()),
        )
        .with_nonce(NonceStr::new("N").unwrap()),
    );
    assert_eq!(single.next_request(NonceStr::new("N").unwrap()).unwrap().get_offset(), None);
    assert_eq!(single.push(page(&ids(0..1), None)).unwrap().len(), 1);
    assert!(single.is_complete());
}
