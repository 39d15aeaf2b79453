//! Validated request fields: every constructor on arbitrary UTF-8. What is accepted is kept
//! exactly (nothing trimmed or re-encoded), fits the byte limit and the documented character
//! class (docs/protocol.md §3); what is rejected names its field. Also `Offset`, the three
//! timestamp formats and `BaseUrl`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_protocol::{
    BaseUrl, CHINA, Description, InvalidTimestamp, NonceStr, Offset, OrderId, OutOrderNo, OutRefundNo, OutReturnNo,
    OutTradeNo, RefundId, SubMchId, TimeFormat, Timestamp, TransactionId, ValidationError,
};

/// One of the `Timestamp` parsers.
type TimeParser = fn(&str) -> Result<Timestamp, InvalidTimestamp>;

/// `[0-9A-Za-z_\-|*@]`, the merchant-number class.
fn merchant_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '|' | '*' | '@')
}

/// Checks one validated newtype: on success the value is the input, within `max` bytes, non-empty
/// and in the class `allowed`; on failure the error names `field`.
fn check<T>(
    input: &str,
    result: Result<T, ValidationError>,
    as_str: fn(&T) -> &str,
    field: &str,
    max: usize,
    allowed: fn(char) -> bool,
) {
    match result {
        Ok(value) => {
            assert_eq!(as_str(&value), input, "{field}: the value was changed");
            assert!(!input.is_empty(), "{field}: empty accepted");
            assert!(input.len() <= max, "{field}: {} bytes accepted, the limit is {max}", input.len());
            assert!(input.chars().all(allowed), "{field}: a character outside its class accepted: {input:?}");
        }
        Err(err) => {
            assert_eq!(err.field(), field, "the error names another field");
            let _ = err.to_string();
        }
    }
}

macro_rules! check_newtype {
    ($input:expr, $ty:ident, $allowed:expr) => {
        check($input, $ty::new($input), $ty::as_str, $ty::FIELD, $ty::MAX_BYTES, $allowed)
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };

    let alnum: fn(char) -> bool = |c| c.is_ascii_alphanumeric();
    check_newtype!(input, SubMchId, alnum);
    check_newtype!(input, NonceStr, alnum);
    check_newtype!(input, OrderId, alnum);
    check_newtype!(input, TransactionId, alnum);
    check_newtype!(input, RefundId, alnum);
    check_newtype!(input, OutOrderNo, merchant_char);
    check_newtype!(input, OutReturnNo, merchant_char);
    check_newtype!(input, OutRefundNo, merchant_char);
    check_newtype!(input, OutTradeNo, merchant_char);
    // WeChat rejects 4-byte UTF-8 (emoji) anywhere; control characters break the XML underneath.
    check_newtype!(input, Description, |c| c.len_utf8() < 4 && !c.is_control());

    match input.parse::<Offset>() {
        Ok(offset) => {
            assert!(input.bytes().all(|b| b.is_ascii_digit()), "offset {input:?} accepted");
            assert_eq!(offset.to_string().parse::<Offset>(), Ok(offset));
            assert_eq!(input.trim_start_matches('0').parse::<u64>().unwrap_or(0), u64::from(offset.get()));
        }
        Err(err) => assert_eq!(err.field(), Offset::FIELD),
    }

    let parsers: [(TimeParser, TimeFormat); 3] = [
        (Timestamp::parse_compact_china, TimeFormat::CompactChina),
        (Timestamp::parse_spaced_china, TimeFormat::SpacedChina),
        (Timestamp::parse_rfc3339, TimeFormat::Rfc3339),
    ];
    for (parse, format) in parsers {
        if let Ok(t) = parse(input) {
            assert_eq!(t.original(), input, "a timestamp must keep its text");
            assert_eq!(t.to_string(), input);
            assert_eq!(t.format(), format);
            assert_eq!(parse(t.original()).as_ref(), Ok(&t), "reparsing the original differs");
            if format != TimeFormat::Rfc3339 {
                assert_eq!(t.instant().offset(), CHINA, "China times are UTC+8");
                assert!(input.is_ascii(), "a China time with non-ASCII text accepted: {input:?}");
            }
        }
    }

    if let Ok(base) = BaseUrl::parse(input) {
        let text = base.as_str();
        assert!(text.starts_with("http://") || text.starts_with("https://"), "scheme {text:?}");
        assert_eq!(base.is_https(), text.starts_with("https://"));
        assert!(!text.ends_with('/'), "a normalised base URL has no trailing slash: {text:?}");
        assert!(!text.contains(['?', '#']), "query or fragment kept: {text:?}");
        let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")).unwrap_or_default();
        let authority = rest.split('/').next().unwrap_or_default();
        assert!(!authority.contains('@'), "credentials kept: {text:?}");
        // The documented contract: "a host is required" (the port, if any, is not the host).
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.split(':').next().unwrap_or_default(),
        };
        assert!(!host.is_empty(), "a base URL without a host accepted: {input:?} -> {text:?}");
        let _ = base.is_loopback();
        // Normalising is idempotent.
        let again = BaseUrl::parse(text).unwrap_or_else(|e| panic!("normalised {text:?} does not parse: {e}"));
        assert_eq!(again, base, "normalising twice differs");
        // Every operation's path can be joined onto a validated base.
        let request = wxpay_protocol::cloudpay::FinishRequest::new(
            SubMchId::new("1900000109").unwrap(),
            TransactionId::new("4208450740201411110007820472").unwrap(),
            OutOrderNo::new("P20150806125346").unwrap(),
            Description::new("分账已完成").unwrap(),
        ).with_nonce(NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS").unwrap());
        if let Err(e) = wxpay_protocol::Operation::build(&request, &base) {
            panic!("validated base {text:?} cannot be joined with a path: {e}");
        }
    }
});
