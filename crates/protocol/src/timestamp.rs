//! The three time formats of the five operations, parsed into one timestamp type that keeps
//! the original text (docs/protocol.md §3).

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// China Standard Time, in which the CloudPay (v2) times are written (docs/protocol.md §3).
pub const CHINA: UtcOffset = offset!(+8);

/// Which of the documented formats a [`Timestamp`] was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeFormat {
    /// `yyyyMMddHHmmss`, China time (CloudPay return query `finish_time`, docs/protocol.md §8.1).
    CompactChina,
    /// `yyyy-MM-dd HH:mm:ss`, China time (refund `refund_success_time`, docs/protocol.md §8.5).
    SpacedChina,
    /// RFC 3339 with offset, usually with milliseconds (API v3, docs/protocol.md §8.2, §8.4).
    Rfc3339,
}

/// A point in time from an answer, with the text it was read from.
///
/// ```
/// use wxpay_protocol::Timestamp;
/// let a = Timestamp::parse_compact_china("20180608170132")?;
/// let b = Timestamp::parse_rfc3339("2018-06-08T17:01:32.000+08:00")?;
/// assert_eq!(a.instant(), b.instant());
/// assert_eq!(a.original(), "20180608170132");
/// # Ok::<(), wxpay_protocol::InvalidTimestamp>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    instant: OffsetDateTime,
    original: String,
    format: TimeFormat,
}

/// Text that is not a time in the expected format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a time in the {expected} format")]
pub struct InvalidTimestamp {
    expected: &'static str,
}

impl Timestamp {
    /// Parses `yyyyMMddHHmmss` in China time (exactly 14 digits).
    pub fn parse_compact_china(s: &str) -> Result<Self, InvalidTimestamp> {
        const FORMAT: &[time::format_description::FormatItem<'_>] =
            format_description!("[year][month][day][hour][minute][second]");
        Self::parse_china(s, FORMAT, TimeFormat::CompactChina, "yyyyMMddHHmmss")
    }

    /// Parses `yyyy-MM-dd HH:mm:ss` in China time.
    pub fn parse_spaced_china(s: &str) -> Result<Self, InvalidTimestamp> {
        const FORMAT: &[time::format_description::FormatItem<'_>] =
            format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        Self::parse_china(s, FORMAT, TimeFormat::SpacedChina, "yyyy-MM-dd HH:mm:ss")
    }

    /// Parses RFC 3339 (`2015-05-20T13:29:35.120+08:00`), keeping the offset. The date and
    /// time are the documented digits only: `yyyy-MM-ddTHH:mm:ss`, no sign, no wider year.
    pub fn parse_rfc3339(s: &str) -> Result<Self, InvalidTimestamp> {
        if !digits_at(s, "dddd-dd-ddTdd:dd:dd") {
            return Err(InvalidTimestamp { expected: "RFC 3339" });
        }
        let instant = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| InvalidTimestamp { expected: "RFC 3339" })?;
        Ok(Self { instant, original: s.to_owned(), format: TimeFormat::Rfc3339 })
    }

    fn parse_china(
        s: &str,
        format: &[time::format_description::FormatItem<'_>],
        kind: TimeFormat,
        name: &'static str,
    ) -> Result<Self, InvalidTimestamp> {
        // `time` accepts a sign and more than four digits for `[year]`: insist on exactly the
        // documented digits and separators, so "+2018..." and "-2018..." are rejected rather than
        // read as other years.
        let pattern = match kind {
            TimeFormat::CompactChina => "dddddddddddddd",
            _ => "dddd-dd-dd dd:dd:dd",
        };
        if s.len() != pattern.len() || !digits_at(s, pattern) {
            return Err(InvalidTimestamp { expected: name });
        }
        let local = PrimitiveDateTime::parse(s, format).map_err(|_| InvalidTimestamp { expected: name })?;
        Ok(Self { instant: local.assume_offset(CHINA), original: s.to_owned(), format: kind })
    }

    /// The instant, with the offset it was written in (UTC+8 for the China formats).
    pub fn instant(&self) -> OffsetDateTime {
        self.instant
    }

    /// Seconds since the Unix epoch.
    pub fn unix_timestamp(&self) -> i64 {
        self.instant.unix_timestamp()
    }

    /// The text exactly as received.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The format it was written in.
    pub fn format(&self) -> TimeFormat {
        self.format
    }

    /// The instant as RFC 3339 with the offset it was written in: the China formats as
    /// `+08:00` (`20180608170132` is `2018-06-08T17:01:32+08:00`); an RFC 3339 original as
    /// written.
    ///
    /// ```
    /// use wxpay_protocol::Timestamp;
    /// assert_eq!(Timestamp::parse_compact_china("20180608170132")?.rfc3339(), "2018-06-08T17:01:32+08:00");
    /// assert_eq!(Timestamp::parse_spaced_china("2016-07-25 15:26:26")?.rfc3339(), "2016-07-25T15:26:26+08:00");
    /// let v3 = "2015-05-20T13:29:35.120+08:00";
    /// assert_eq!(Timestamp::parse_rfc3339(v3)?.rfc3339(), v3);
    /// # Ok::<(), wxpay_protocol::InvalidTimestamp>(())
    /// ```
    pub fn rfc3339(&self) -> String {
        match self.format {
            TimeFormat::Rfc3339 => self.original.clone(),
            // Four-digit years only (the parsers insist on them), which RFC 3339 can always
            // write; the original is the fallback all the same.
            _ => self.instant.format(&Rfc3339).unwrap_or_else(|_| self.original.clone()),
        }
    }
}

/// Whether `s` starts with `pattern`, where `d` is an ASCII digit and any other byte stands for
/// itself.
fn digits_at(s: &str, pattern: &str) -> bool {
    s.len() >= pattern.len()
        && s.bytes().zip(pattern.bytes()).all(|(b, p)| if p == b'd' { b.is_ascii_digit() } else { b == p })
}

impl fmt::Display for Timestamp {
    /// The original text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.original)
    }
}

/// serde adaptor for v3 answers: RFC 3339 times.
pub(crate) mod rfc3339 {
    pub(crate) mod option {
        use super::super::Timestamp;

        pub(crate) fn serialize<S: serde::Serializer>(value: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(t) => s.serialize_str(t.original()),
                None => s.serialize_none(),
            }
        }

        /// An absent or empty field is `None`.
        pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            match <Option<String> as serde::Deserialize>::deserialize(d)? {
                None => Ok(None),
                Some(s) if s.is_empty() => Ok(None),
                Some(s) => Timestamp::parse_rfc3339(&s).map(Some).map_err(serde::de::Error::custom),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_formats() {
        let compact = Timestamp::parse_compact_china("20160725152626").unwrap();
        let spaced = Timestamp::parse_spaced_china("2016-07-25 15:26:26").unwrap();
        let rfc = Timestamp::parse_rfc3339("2016-07-25T07:26:26.000Z").unwrap();
        assert_eq!(compact.unix_timestamp(), spaced.unix_timestamp());
        assert_eq!(compact.unix_timestamp(), rfc.unix_timestamp());
        assert_eq!(compact.instant().offset(), CHINA);
        assert_eq!(rfc.format(), TimeFormat::Rfc3339);
    }

    #[test]
    fn strict_widths() {
        for bad in ["2016072515262", "201607251526261", "+2016072515262", "20161325152626", "2016-07-25T15:26:26"] {
            assert!(Timestamp::parse_compact_china(bad).is_err(), "{bad}");
        }
        for bad in ["2016-7-25 15:26:26", "2016-07-25 15:26", "2016-07-25T15:26:26", " 2016-07-25 15:26:26"] {
            assert!(Timestamp::parse_spaced_china(bad).is_err(), "{bad}");
        }
        assert!(Timestamp::parse_rfc3339("2015-05-20 13:29:35").is_err());
        // Signed and wider years (issue 11): `time` reads them as years -2018, 12018.
        for bad in ["-20180608170132", "+20180608170132", "120180608170132", "2018060817013\u{663}"] {
            assert!(Timestamp::parse_compact_china(bad).is_err(), "{bad}");
        }
        for bad in ["-2016-07-25 15:26:26", "+2016-07-25 15:26:26", "12016-07-25 15:26:26", "2016-07-25 15:26-26"] {
            assert!(Timestamp::parse_spaced_china(bad).is_err(), "{bad}");
        }
        for bad in ["-2015-05-20T13:29:35+08:00", "+2015-05-20T13:29:35Z", "12015-05-20T13:29:35Z"] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3339_keeps_offset_and_millis() {
        let t = Timestamp::parse_rfc3339("2015-05-20T13:29:35.120+08:00").unwrap();
        assert_eq!(t.instant().offset(), CHINA);
        assert_eq!(t.instant().millisecond(), 120);
        assert_eq!(t.to_string(), "2015-05-20T13:29:35.120+08:00");
    }
}
