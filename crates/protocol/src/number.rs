//! Non-negative integers that arrive as JSON numbers or as strings of digits
//! (docs/protocol.md §1.2: the v2 API under CloudPay is XML, so numbers may arrive as strings).

use serde_json::Value;

/// Reads a non-negative integer from a JSON number or a string of ASCII digits.
/// Anything else (negative, fractional, exponent, signs, spaces, overflow) is `None`.
pub(crate) fn u64_from_value(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => u64_from_digits(s),
        _ => None,
    }
}

/// Parses a string made only of ASCII digits.
pub(crate) fn u64_from_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// serde helper: a `u64` from a number or a digit string.
pub(crate) fn deserialize_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let value = <Value as serde::Deserialize>::deserialize(d)?;
    u64_from_value(&value)
        .ok_or_else(|| serde::de::Error::custom(format_args!("expected a non-negative integer, got {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_digit_strings() {
        assert_eq!(u64_from_value(&json!(888)), Some(888));
        assert_eq!(u64_from_value(&json!("888")), Some(888));
        for bad in [
            json!(-1),
            json!(1.5),
            json!("-1"),
            json!(" 1"),
            json!("1e3"),
            json!(""),
            json!(null),
            json!("18446744073709551616"),
        ] {
            assert_eq!(u64_from_value(&bad), None, "{bad}");
        }
    }
}
