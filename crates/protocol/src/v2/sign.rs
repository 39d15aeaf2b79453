//! The v2 signature (docs/protocol.md §5): every non-empty field except `sign`, sorted by name in
//! ASCII order, joined as `k=v` with `&`, then `&key=` and the API v2 key; MD5 or HMAC-SHA256
//! (keyed with the API v2 key) of that string, as upper-case hex.

use std::fmt;
use std::sync::Arc;

use md5::Digest as _;
use zeroize::Zeroizing;

use super::xml::Fields;
use crate::security::KeyError;

/// The name of the signature field.
pub const SIGN: &str = "sign";

/// The name of the field that names the algorithm.
pub const SIGN_TYPE: &str = "sign_type";

/// A v2 signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignType {
    /// `MD5`: the v2 default, allowed for the refund query only among these operations.
    Md5,
    /// `HMAC-SHA256`: required by the profit-sharing operations.
    HmacSha256,
}

impl SignType {
    /// The value of `sign_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// Reads a `sign_type` value (exactly as WeChat Pay writes it).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MD5" => Some(SignType::Md5),
            "HMAC-SHA256" => Some(SignType::HmacSha256),
            _ => None,
        }
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// HMAC-SHA256, the crypto an [`ApiV2Key`] signs with (docs/design.md §2: crypto behind small traits).
/// With the `aws-lc-rs` feature (the default), [`ApiV2Key::new`] uses aws-lc-rs; without it,
/// give one to [`ApiV2Key::with_hmac`].
pub trait HmacSha256: fmt::Debug + Send + Sync {
    /// HMAC-SHA256 of `message` under `key`.
    fn hmac_sha256(&self, key: &[u8], message: &[u8]) -> [u8; 32];
}

#[cfg(feature = "aws-lc-rs")]
#[derive(Debug)]
struct AwsLcHmac;

#[cfg(feature = "aws-lc-rs")]
impl HmacSha256 for AwsLcHmac {
    fn hmac_sha256(&self, key: &[u8], message: &[u8]) -> [u8; 32] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
        let tag = aws_lc_rs::hmac::sign(&key, message);
        let mut out = [0; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

/// The API v2 key: the 32 characters set in the merchant platform (API安全 → API密钥), not the
/// APIv3 key. `Debug` never shows it, and its memory is wiped on drop.
///
/// ```
/// # #[cfg(feature = "aws-lc-rs")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use wxpay_protocol::v2::ApiV2Key;
/// let key = ApiV2Key::new(b"192006250b4c09247ec02edce69f6a2d\n")?;
/// assert_eq!(format!("{key:?}"), "ApiV2Key([redacted])");
/// assert!(ApiV2Key::new(b"too short").is_err());
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "aws-lc-rs"))]
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct ApiV2Key {
    key: Zeroizing<[u8; 32]>,
    hmac: Arc<dyn HmacSha256>,
}

impl ApiV2Key {
    /// A key from its 32 bytes; leading and trailing ASCII whitespace (a key file's final
    /// newline) is not part of it. HMAC-SHA256 from aws-lc-rs.
    #[cfg(feature = "aws-lc-rs")]
    pub fn new(key: &[u8]) -> Result<Self, KeyError> {
        Self::with_hmac(key, AwsLcHmac)
    }

    /// A key from its 32 bytes, as [`new`](Self::new) reads them, signing HMAC-SHA256 with
    /// `hmac` (an embedder without the `aws-lc-rs` feature).
    pub fn with_hmac(key: &[u8], hmac: impl HmacSha256 + 'static) -> Result<Self, KeyError> {
        let key = key.trim_ascii();
        let bytes: [u8; 32] = key
            .try_into()
            .map_err(|_| KeyError::InvalidId { field: "apiv2_key", reason: "must be exactly 32 bytes" })?;
        if !bytes.iter().all(u8::is_ascii_graphic) {
            return Err(KeyError::InvalidId { field: "apiv2_key", reason: "must be 32 printable ASCII characters" });
        }
        Ok(Self { key: Zeroizing::new(bytes), hmac: Arc::new(hmac) })
    }
}

impl fmt::Debug for ApiV2Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV2Key([redacted])")
    }
}

/// The string a signature is computed over, without the key: the non-empty fields other than
/// `sign`, sorted, as `k=v` joined with `&`. (The key is appended as `&key=...` when signing;
/// this text never holds it, so it can be logged.)
///
/// ```
/// use wxpay_protocol::v2::{string_to_sign, Fields};
/// let mut f = Fields::new();
/// f.insert("b", "2");
/// f.insert("a", "1");
/// f.insert("empty", "");
/// f.insert("sign", "X");
/// assert_eq!(string_to_sign(&f), "a=1&b=2");
/// ```
pub fn string_to_sign(fields: &Fields) -> String {
    let mut out = String::new();
    for (name, value) in fields.iter() {
        if name == SIGN || value.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// The signature of `fields` with `sign_type` under `key`: upper-case hex.
///
/// ```
/// # #[cfg(feature = "aws-lc-rs")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use wxpay_protocol::v2::{sign, ApiV2Key, Fields, SignType};
/// let mut f = Fields::new();
/// for (k, v) in [("appid", "wxd930ea5d5a258f4f"), ("mch_id", "10000100"), ("device_info", "1000"),
///                ("body", "test"), ("nonce_str", "ibuaiVcKdpRxkhJA")] {
///     f.insert(k, v);
/// }
/// let key = ApiV2Key::new(b"192006250b4c09247ec02edce69f6a2d")?;
/// assert_eq!(sign(&f, SignType::Md5, &key), "9A0A8659F005D6984697E2CA0A9CF3B7");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "aws-lc-rs"))]
/// # fn main() {}
/// ```
pub fn sign(fields: &Fields, sign_type: SignType, key: &ApiV2Key) -> String {
    let mut message = Zeroizing::new(string_to_sign(fields).into_bytes());
    message.extend_from_slice(b"&key=");
    message.extend_from_slice(&key.key[..]);
    match sign_type {
        SignType::Md5 => upper_hex(&md5::Md5::digest(&message[..])),
        SignType::HmacSha256 => upper_hex(&key.hmac.hmac_sha256(&key.key[..], &message)),
    }
}

/// Whether `fields` carry a `sign` that is their signature with `sign_type` under `key`
/// (compared in constant time, exactly: WeChat Pay writes upper-case hex, and a signature in
/// any other spelling is not the one it sent).
pub fn verify(fields: &Fields, sign_type: SignType, key: &ApiV2Key) -> bool {
    let Some(given) = fields.get(SIGN) else { return false };
    let expected = sign(fields, sign_type, key);
    given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn upper_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}
