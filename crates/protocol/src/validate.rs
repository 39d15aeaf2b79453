//! Validated request fields: every identifier of the five operations as a newtype whose
//! constructor names the field and the rule it broke.
//!
//! # The accepted languages, in one place
//!
//! Lengths are counted in UTF-8 bytes, the stricter of the two readings of `string(N)`
//! (docs/protocol.md §3). Every field is required to be non-empty.
//!
//! | type | field | bytes | characters |
//! |---|---|---|---|
//! | [`SubMchId`] | `sub_mch_id` / `sub_mchid` | 1..=32 | `[0-9A-Za-z]` (WeChat-assigned) |
//! | [`NonceStr`] | `nonce_str` | 1..=32 | `[0-9A-Za-z]` |
//! | [`OrderId`] | `order_id` | 1..=64 | `[0-9A-Za-z]` (WeChat-assigned) |
//! | [`TransactionId`] | `transaction_id` | 1..=32 | `[0-9A-Za-z]` (WeChat-assigned) |
//! | [`RefundId`] | `refund_id` | 1..=32 | `[0-9A-Za-z]` (WeChat-assigned) |
//! | [`OutOrderNo`] | `out_order_no` | 1..=64 | `[0-9A-Za-z_\-\|*@]` (merchant number) |
//! | [`OutReturnNo`] | `out_return_no` | 1..=64 | `[0-9A-Za-z_\-\|*@]` (merchant number) |
//! | [`OutRefundNo`] | `out_refund_no` | 1..=64 | `[0-9A-Za-z_\-\|*@]` (merchant number) |
//! | [`OutTradeNo`] | `out_trade_no` | 1..=32 | `[0-9A-Za-z_\-\|*@]` (merchant number) |
//! | [`Description`] | `description` | 1..=80 | any Unicode scalar in the BMP except control characters |
//! | [`Offset`] | `offset` | — | a non-negative integer (`u32`) |
//!
//! Why these characters:
//! - **Merchant numbers** (`out_*`): the finish's and the v3 documents (docs/protocol.md §8.3,
//!   §8.2, whose escaping is garbled) allow digits, ASCII letters and `_-|*@`. The refund query's
//!   document lists only `_-` for `out_trade_no` and `out_refund_no` (§8.5); WeChat Pay's own
//!   refund documents allow `_-|*@` there too, so we accept the wider set everywhere (§3). A
//!   merchant number never changes under our hands: we accept it exactly or reject it, never trim
//!   or re-encode it.
//! - **WeChat-assigned ids** (`sub_mch_id`, `order_id`, `transaction_id`, `refund_id`): the
//!   documents give only lengths; every id WeChat issues is ASCII digits (28 for a transaction). We accept
//!   ASCII letters too, so a future id format is not refused, and nothing else, because no other
//!   character can be part of an id WeChat issued.
//! - **`nonce_str`**: "random string, at most 32" (docs/protocol.md §8.1, §8.3,
//!   §8.5); WeChat's recommended generator and every SDK use ASCII letters and digits.
//! - **`description`**: free text of at most 80 bytes. WeChat rejects characters outside the
//!   Basic Multilingual Plane (4-byte UTF-8, such as emoji) anywhere (docs/protocol.md §3); control
//!   characters (C0, DEL, C1) cannot be meant in a description and break the v2 XML underneath.

use std::fmt;
use std::str::FromStr;

use crate::error::{Rule, ValidationError};

/// The character classes of the table in the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    /// `[0-9A-Za-z]`.
    Alphanumeric,
    /// `[0-9A-Za-z_\-|*@]`.
    MerchantNumber,
    /// Any BMP scalar value except control characters.
    Text,
}

impl Charset {
    fn allows(self, c: char) -> bool {
        match self {
            Charset::Alphanumeric => c.is_ascii_alphanumeric(),
            Charset::MerchantNumber => c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '|' | '*' | '@'),
            Charset::Text => c.len_utf8() < 4 && !c.is_control(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Charset::Alphanumeric => "ASCII letters and digits",
            Charset::MerchantNumber => "ASCII letters, digits and _-|*@",
            Charset::Text => {
                "characters of the Basic Multilingual Plane (no emoji or other 4-byte UTF-8) \
                 other than control characters"
            }
        }
    }
}

/// Checks `value` against a field's length limit (in UTF-8 bytes) and character class.
fn check(field: &'static str, value: &str, max_bytes: usize, charset: Charset) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(field, Rule::Empty));
    }
    if let Some((at, ch)) = value.char_indices().find(|&(_, c)| !charset.allows(c)) {
        return Err(ValidationError::new(field, Rule::Charset { ch, at, allowed: charset.describe() }));
    }
    if value.len() > max_bytes {
        return Err(ValidationError::new(field, Rule::TooLong { max_bytes, actual_bytes: value.len() }));
    }
    Ok(())
}

macro_rules! validated_string {
    (
        $(#[$meta:meta])*
        $name:ident, field = $field:literal, max_bytes = $max:literal, charset = $charset:ident
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The API field this value is sent as.
            pub const FIELD: &'static str = $field;
            /// The largest accepted length, in UTF-8 bytes.
            pub const MAX_BYTES: usize = $max;

            /// Validates `value`; the error names the field and the rule it broke.
            pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
                let value = value.into();
                check($field, &value, $max, Charset::$charset)?;
                Ok(Self(value))
            }

            /// The value exactly as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value exactly as given.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ValidationError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

validated_string!(
    /// A sub-merchant id (`sub_mch_id` in CloudPay, `sub_mchid` in API v3): 1..=32 ASCII letters
    /// or digits.
    ///
    /// ```
    /// use wxpay_protocol::SubMchId;
    /// assert_eq!(SubMchId::new("1900000109")?.as_str(), "1900000109");
    /// assert!(SubMchId::new("").is_err());
    /// # Ok::<(), wxpay_protocol::ValidationError>(())
    /// ```
    SubMchId, field = "sub_mch_id", max_bytes = 32, charset = Alphanumeric
);
validated_string!(
    /// An app id (`appid`, v2 wire): the service provider's, 1..=32 ASCII letters or digits
    /// (`wx` and 16 hex digits in practice).
    ///
    /// ```
    /// use wxpay_protocol::v2::AppId;
    /// assert!(AppId::new("wxd930ea5d5a258f4f").is_ok());
    /// assert_eq!(AppId::new("wx-1").unwrap_err().field(), "appid");
    /// ```
    AppId, field = "appid", max_bytes = 32, charset = Alphanumeric
);
validated_string!(
    /// The sub-merchant's app id (`sub_appid`, v2 refund query): 1..=32 ASCII letters or digits.
    SubAppId, field = "sub_appid", max_bytes = 32, charset = Alphanumeric
);
validated_string!(
    /// The CloudPay `nonce_str`: 1..=32 ASCII letters or digits.
    NonceStr, field = "nonce_str", max_bytes = 32, charset = Alphanumeric
);
validated_string!(
    /// WeChat's profit-sharing order number (`order_id`): 1..=64 ASCII letters or digits.
    OrderId, field = "order_id", max_bytes = 64, charset = Alphanumeric
);
validated_string!(
    /// WeChat's payment order number (`transaction_id`): 1..=32 ASCII letters or digits
    /// (28 digits in practice; the refund query's document says 28, the others 32:
    /// docs/protocol.md §3).
    TransactionId, field = "transaction_id", max_bytes = 32, charset = Alphanumeric
);
validated_string!(
    /// WeChat's refund number (`refund_id`): 1..=32 ASCII letters or digits.
    RefundId, field = "refund_id", max_bytes = 32, charset = Alphanumeric
);
validated_string!(
    /// The merchant's profit-sharing order number (`out_order_no`): 1..=64 bytes of
    /// `[0-9A-Za-z_-|*@]`.
    ///
    /// ```
    /// use wxpay_protocol::OutOrderNo;
    /// assert!(OutOrderNo::new("P2015|08*06@1_2-3").is_ok());
    /// let err = OutOrderNo::new("P 1").unwrap_err();
    /// assert_eq!(err.field(), "out_order_no");
    /// ```
    OutOrderNo, field = "out_order_no", max_bytes = 64, charset = MerchantNumber
);
validated_string!(
    /// The merchant's profit-sharing return number (`out_return_no`): 1..=64 bytes of
    /// `[0-9A-Za-z_-|*@]`.
    OutReturnNo, field = "out_return_no", max_bytes = 64, charset = MerchantNumber
);
validated_string!(
    /// The merchant's refund number (`out_refund_no`): 1..=64 bytes of `[0-9A-Za-z_-|*@]`.
    OutRefundNo, field = "out_refund_no", max_bytes = 64, charset = MerchantNumber
);
validated_string!(
    /// The merchant's payment order number (`out_trade_no`): 1..=32 bytes of
    /// `[0-9A-Za-z_-|*@]`.
    OutTradeNo, field = "out_trade_no", max_bytes = 32, charset = MerchantNumber
);
validated_string!(
    /// A free-text description (`description`): 1..=80 UTF-8 bytes of BMP characters other than
    /// control characters.
    ///
    /// ```
    /// use wxpay_protocol::Description;
    /// assert!(Description::new("分账已完成").is_ok());
    /// assert!(Description::new("done 🎉").is_err()); // 4-byte UTF-8
    /// assert!(Description::new("分".repeat(27)).is_err()); // 81 bytes
    /// ```
    Description, field = "description", max_bytes = 80, charset = Text
);

impl NonceStr {
    /// A nonce the crate generated itself from `[0-9A-Za-z]` (1 to 32 characters).
    pub(crate) fn from_generated(value: String) -> Self {
        debug_assert!(check(Self::FIELD, &value, Self::MAX_BYTES, Charset::Alphanumeric).is_ok());
        Self(value)
    }
}

/// The refund query's `offset`: a non-negative integer (docs/protocol.md §8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Offset(u32);

impl Offset {
    /// The API field this value is sent as.
    pub const FIELD: &'static str = "offset";

    /// An offset of `value` refunds.
    pub const fn new(value: u32) -> Self {
        Self(value)
    }

    /// The number of refunds to skip.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u32> for Offset {
    fn from(value: u32) -> Self {
        Self(value)
    }
}

impl FromStr for Offset {
    type Err = ValidationError;

    /// Parses decimal digits only: no sign, no spaces, at most `u32::MAX`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(Self::FIELD, Rule::NotANonNegativeInteger));
        }
        s.parse::<u32>()
            .map(Self)
            .map_err(|_| ValidationError::new(Self::FIELD, Rule::OutOfRange { max: u64::from(u32::MAX) }))
    }
}

impl serde::Serialize for Offset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_bytes_not_chars() {
        // 26 three-byte characters are 78 bytes: accepted; one more two-byte char makes 80.
        assert!(Description::new("分".repeat(26)).is_ok());
        assert!(Description::new(format!("{}é", "分".repeat(26))).is_ok());
        let err = Description::new(format!("{}éa", "分".repeat(26))).unwrap_err();
        assert_eq!(err.rule(), &Rule::TooLong { max_bytes: 80, actual_bytes: 81 });
    }

    #[test]
    fn charset_error_names_char_and_position() {
        let err = OutReturnNo::new("R2019#1").unwrap_err();
        assert_eq!(err.field(), "out_return_no");
        match err.rule() {
            Rule::Charset { ch, at, .. } => assert_eq!((*ch, *at), ('#', 5)),
            other => panic!("unexpected rule {other:?}"),
        }
    }

    #[test]
    fn empty_is_rejected_with_its_own_rule() {
        assert_eq!(SubMchId::new("").unwrap_err().rule(), &Rule::Empty);
    }

    #[test]
    fn offset_parses_digits_only() {
        assert_eq!("24".parse::<Offset>().unwrap().get(), 24);
        for bad in ["", "-1", "+1", " 1", "1.0", "0x10"] {
            let err = bad.parse::<Offset>().unwrap_err();
            assert_eq!(err.field(), "offset", "{bad:?}");
        }
        assert!(matches!("4294967296".parse::<Offset>().unwrap_err().rule(), Rule::OutOfRange { .. }));
    }
}
