//! Peak memory of parsing any answer is bounded (issue 11): measured as allocation, with a
//! counting global allocator, not as time. The bound, `PEAK_BOUND`, is stated in
//! docs/errors.md; the answers are the shapes that make a JSON parser allocate the most per
//! input byte, at the size limit (`MAX_ANSWER_BYTES`) and past it.
//!
//! One test in this binary, so that no other test allocates while it measures.

use peak_alloc::PeakAlloc;
use wxpay_protocol::MAX_ANSWER_BYTES;
use wxpay_protocol::cloudpay::{FinishResponse, RefundQueryResponse, ReturnQueryResponse};
use wxpay_protocol::security::danger;
use wxpay_protocol::v3::{OrderQueryResponse, ReturnQueryResponse as V3ReturnQueryResponse};

/// Counts the bytes live and the most live since the last reset.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// The most memory parsing one answer (with each of the five parsers in turn) may take beyond
/// the body itself: 64 times the body limit, 16 MiB for 256 KiB, stated in docs/errors.md. A
/// JSON array of one-digit numbers is the worst case: two input bytes become one 32-byte value,
/// and a growing vector briefly holds its old and new buffers.
const PEAK_BOUND: usize = 64 * MAX_ANSWER_BYTES;

/// The peak of bytes allocated while `f` runs, above what was live before.
fn peak_of(f: impl FnOnce()) -> usize {
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    f();
    ALLOCATOR.peak_usage().saturating_sub(before)
}

/// A body of about `len` bytes: `head`, `item` repeated, `tail`.
fn filled(head: &str, item: &str, sep: &str, tail: &str, len: usize) -> Vec<u8> {
    let mut body = head.as_bytes().to_vec();
    let mut first = true;
    while body.len() + item.len() + sep.len() + tail.len() <= len {
        if !first {
            body.extend_from_slice(sep.as_bytes());
        }
        body.extend_from_slice(item.as_bytes());
        first = false;
    }
    body.extend_from_slice(tail.as_bytes());
    body
}

fn parse_all(body: &[u8]) {
    let response = http::Response::new(body.to_vec());
    let _ = RefundQueryResponse::parse(&response);
    let _ = FinishResponse::parse(&response);
    let _ = ReturnQueryResponse::parse(&response);
    let _ = OrderQueryResponse::parse(&danger::inspect_unverified(&response));
    let _ = V3ReturnQueryResponse::parse(&danger::inspect_unverified(&response));
}

#[test]
fn peak_memory_of_parsing_any_answer_is_bounded() {
    let at_limit = MAX_ANSWER_BYTES;
    let refund_head = r#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"1","total_fee":1,"cash_fee":1,"refund_count":300000,"refund_id_list":["#;
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        // Issue 11's answer: refunds in parallel arrays, far more than refund_count allows.
        ("parallel arrays", filled(refund_head, r#""1""#, ",", "]}", at_limit)),
        ("numbers in an array", filled(r#"{"a":["#, "0", ",", "]}", at_limit)),
        ("empty arrays in an array", filled(r#"{"a":["#, "[]", ",", "]}", at_limit)),
        ("empty objects in an array", filled(r#"{"a":["#, "{}", ",", "]}", at_limit)),
        ("many keys", filled("{", r#""k":0"#, ",", "}", at_limit)),
        ("many distinct keys", {
            let mut s = String::from("{");
            let mut i = 0;
            while s.len() < at_limit - 32 {
                s.push_str(&format!("\"{i}\":0,"));
                i += 1;
            }
            s.push_str("\"end\":0}");
            s.into_bytes()
        }),
        ("indexed refunds", {
            let mut s = String::from(
                r#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"1","total_fee":1,"cash_fee":1,"refund_count":50"#,
            );
            let mut n = 0;
            while s.len() < at_limit - 64 {
                s.push_str(&format!(",\"refund_id_{n}\":\"{n}\""));
                n += 1;
            }
            s.push('}');
            s.into_bytes()
        }),
        ("a wrapped string answer", filled(r#"{"errcode":0,"respdata":"{\"a\":["#, "0", ",", "]}\"}", at_limit)),
        ("deep nesting", filled("", "[", "", "", at_limit)),
        ("past the limit", filled(r#"{"a":["#, "0", ",", "]}", 4 * at_limit)),
    ];
    let mut report = Vec::new();
    for (name, body) in &bodies {
        let peak = peak_of(|| parse_all(body));
        report.push(format!("{name}: {} bytes -> peak {peak} bytes", body.len()));
        assert!(peak <= PEAK_BOUND, "{name}: {peak} bytes allocated, more than {PEAK_BOUND}\n{}", report.join("\n"));
    }
    // The measurement measures: a parse allocates something.
    assert!(peak_of(|| parse_all(&bodies[1].1)) > MAX_ANSWER_BYTES);
    println!("{}", report.join("\n"));
}
