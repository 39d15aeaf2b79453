//! Money as an integer number of fen (分), never a float (docs/protocol.md §3).

use std::fmt;

/// An amount in fen (1/100 yuan).
///
/// On the wire it is a JSON integer, or a string of digits where the XML-based v2 API shows
/// through CloudPay (docs/protocol.md §1.2); both are accepted when reading, an integer is written.
///
/// ```
/// use wxpay_protocol::Fen;
/// let fee = Fen::new(888);
/// assert_eq!(fee.get(), 888);
/// assert_eq!(fee.to_string(), "888");
/// assert_eq!(fee.yuan_string(), "8.88");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(u64);

impl Fen {
    /// `value` fen.
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// The number of fen.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The amount in yuan with two decimals, for display (`888` fen is `"8.88"`).
    pub fn yuan_string(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl fmt::Display for Fen {
    /// The number of fen, as on the wire.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u64> for Fen {
    fn from(value: u64) -> Self {
        Self(value)
    }
}

impl serde::Serialize for Fen {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Fen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::number::deserialize_u64(d).map(Fen)
    }
}
