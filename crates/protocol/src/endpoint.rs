//! Base URLs: validated, normalised, and joined with an operation's path.

use std::fmt;

use crate::error::{Rule, ValidationError};

/// A validated base URL: `http` or `https`, a host, an optional path prefix, no query.
///
/// ```
/// use wxpay_protocol::BaseUrl;
/// let base = BaseUrl::parse("http://127.0.0.1:8080/prefix/")?;
/// assert_eq!(base.as_str(), "http://127.0.0.1:8080/prefix");
/// assert!(base.is_loopback());
/// assert!(!BaseUrl::v3_default().is_loopback());
/// assert!(BaseUrl::parse("http://:80").is_err()); // no host
/// assert!(BaseUrl::parse("http://[::1]:8443").unwrap().is_loopback());
/// # Ok::<(), wxpay_protocol::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    /// Normalised text without a trailing slash.
    text: String,
    https: bool,
    host: String,
}

impl BaseUrl {
    /// The field name used in validation errors.
    pub const FIELD: &'static str = "base_url";

    /// WeChat Pay's API v3 endpoint (docs/protocol.md §8.2, §8.4).
    pub const V3_DEFAULT: &'static str = "https://api.mch.weixin.qq.com";

    /// WeChat Pay's v2 endpoint (docs/protocol.md §5): the same host as API v3.
    pub const V2_DEFAULT: &'static str = "https://api.mch.weixin.qq.com";

    /// The WeChat Cloud Hosting open-API sidecar that carries CloudPay (docs/protocol.md §1.1).
    pub const CLOUDPAY_DEFAULT: &'static str = "http://api.weixin.qq.com";

    /// Parses and normalises a base URL.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let invalid = |reason| ValidationError::new(Self::FIELD, Rule::InvalidUrl(reason));
        let uri: http::Uri = s.parse().map_err(|_| invalid("not a URL"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(invalid("the scheme must be http or https")),
        };
        let authority = uri.authority().ok_or_else(|| invalid("a host is required"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("credentials in the URL are not allowed"));
        }
        check_authority(authority.as_str()).map_err(invalid)?;
        if uri.query().is_some() || s.contains('#') {
            return Err(invalid("a base URL has no query or fragment"));
        }
        let path = uri.path().trim_end_matches('/');
        let scheme = if https { "https" } else { "http" };
        Ok(Self { text: format!("{scheme}://{authority}{path}"), https, host: authority.host().to_owned() })
    }

    /// [`BaseUrl::V3_DEFAULT`].
    pub fn v3_default() -> Self {
        Self { text: Self::V3_DEFAULT.to_owned(), https: true, host: "api.mch.weixin.qq.com".to_owned() }
    }

    /// [`BaseUrl::V2_DEFAULT`].
    pub fn v2_default() -> Self {
        Self { text: Self::V2_DEFAULT.to_owned(), https: true, host: "api.mch.weixin.qq.com".to_owned() }
    }

    /// [`BaseUrl::CLOUDPAY_DEFAULT`].
    pub fn cloudpay_default() -> Self {
        Self { text: Self::CLOUDPAY_DEFAULT.to_owned(), https: false, host: "api.weixin.qq.com".to_owned() }
    }

    /// The normalised URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Whether the host is a loopback address (`localhost`, 127.0.0.0/8 or `[::1]`).
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Checks that API v3 (and v2) requests may go to this URL: `https`, or plain `http` to a
    /// loopback address (sandboxes and test servers). Over plain http a signed request travels in clear
    /// text, and the unsigned error answers v3 allows (docs/protocol.md §2.2) could be forged by anyone
    /// on the path.
    ///
    /// ```
    /// use wxpay_protocol::{BaseUrl, Rule};
    /// assert!(BaseUrl::parse("https://api.mch.weixin.qq.com")?.check_v3().is_ok());
    /// assert!(BaseUrl::parse("http://127.0.0.1:8080")?.check_v3().is_ok());
    /// let err = BaseUrl::parse("http://api.mch.weixin.qq.com")?.check_v3().unwrap_err();
    /// assert_eq!((err.field(), err.rule()), ("base_url", &Rule::PlainHttp));
    /// # Ok::<(), wxpay_protocol::ValidationError>(())
    /// ```
    pub fn check_v3(&self) -> Result<(), ValidationError> {
        if self.https || self.is_loopback() { Ok(()) } else { Err(ValidationError::new(Self::FIELD, Rule::PlainHttp)) }
    }

    /// The URI of `path_and_query` (which starts with `/`) under this base.
    pub(crate) fn join(&self, path_and_query: &str) -> Result<http::Uri, ValidationError> {
        format!("{}{path_and_query}", self.text)
            .parse()
            .map_err(|_| ValidationError::new(Self::FIELD, Rule::InvalidUrl("cannot be joined with the path")))
    }
}

/// `host[:port]` where host is a DNS name, an IPv4 address or a bracketed IPv6 address, and
/// port is 1 to 5 digits up to 65535. The `http` crate accepts more (`http://:80`,
/// `http://[];0`), none of which can be connected to.
fn check_authority(authority: &str) -> Result<(), &'static str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']').ok_or("an IPv6 host needs its closing bracket")?;
            v6.parse::<std::net::Ipv6Addr>().map_err(|_| "the bracketed host is not an IPv6 address")?;
            match after {
                "" => (None, None),
                _ => (None, Some(after.strip_prefix(':').ok_or("only a port may follow the host")?)),
            }
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(authority), None),
        },
    };
    if let Some(host) = host {
        let label_ok = |l: &str| {
            !l.is_empty()
                && !l.starts_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let name = host.strip_suffix('.').unwrap_or(host);
        if name.is_empty() || !name.split('.').all(label_ok) {
            return Err("a host name is required (letters, digits, - and _ in dot-separated labels)");
        }
    }
    if let Some(port) = port
        && (port.is_empty()
            || port.len() > 5
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u32>().map_or(true, |p| p > 65535))
    {
        return Err("the port must be a number up to 65535");
    }
    Ok(())
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        for good in [
            "http://localhost",
            "http://127.0.0.1:8080",
            "https://api.mch.weixin.qq.com",
            "http://[::1]:1",
            "http://a-b.c_d.example.",
        ] {
            assert!(BaseUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "http://:80",
            "http://[];0",
            "http://[]",
            "http://[::1",
            "http://[::1]x",
            "http://h:",
            "http://h:65536",
            "http://h:8x",
            "http://.h",
            "http://h..i",
            "http://-h",
            "ftp://h",
            "http://u@h",
            "http://h?q",
            "http://h#f",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
