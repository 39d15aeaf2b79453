//! API v3 signing for `--dry-run` and verification for `--decode`.
//!
//! The CLI supplies what the protocol takes as inputs (key files, the clock, randomness) and
//! calls `wxpay_protocol::security`; every rule (the signed message, the header, which serial to
//! name, the clock skew limit) is the protocol's.

use wxpay_protocol::NonceStr;
use wxpay_protocol::security::{SignedHeaders, SigningParams, Verification, sign_request};

use crate::args::V3Args;
use crate::credentials;
use crate::exit::CliError;

/// The field name `--nonce` errors are reported under.
const NONCE: &str = "nonce";

/// What `--decode` prints on standard error when no verifying key is given: the answer was
/// read through the protocol's named escape (`security::danger`), unchecked.
pub(crate) const UNVERIFIED: &str = "note: API v3 answer signature not verified \
                                     (give --public-key with --public-key-id, or --platform-cert)";

/// Signs `request` as the merchant (`--mchid`, `--merchant-serial`, `--private-key`) at
/// `--timestamp` (default: now) with `--nonce` (default: a fresh random one), naming in
/// `Wechatpay-Serial` the key the protocol prefers among `--public-key` and `--platform-cert`.
/// The headers are set on `request`; the result also holds the message that was signed.
///
/// `--apiv3-key-file`, if given, is checked too, although only the certificate download (which
/// arrives with the transport) uses it.
pub(crate) fn sign(request: &mut http::Request<Vec<u8>>, args: &V3Args) -> Result<SignedHeaders, CliError> {
    let credentials = credentials::merchant(args)?;
    let keys = credentials::verifying_keys(args)?;
    credentials::apiv3_key(args)?;
    let timestamp = args.timestamp.unwrap_or_else(wxpay_system::unix_now);
    let nonce = match &args.nonce {
        Some(given) => NonceStr::new(given.as_str()).map_err(|e| e.in_field(NONCE))?,
        None => wxpay_system::nonce(),
    };
    let mut params = SigningParams::new(&credentials, timestamp, &nonce);
    if let Some(serial) = keys.preferred_serial() {
        params = params.wechatpay_serial(serial);
    }
    let signed = sign_request(request, &params).map_err(CliError::Signing)?;
    signed.apply_to(request);
    Ok(signed)
}

/// The note for standard error after `--decode` verified an answer.
pub(crate) fn verified_note(verification: &Verification) -> Option<String> {
    match verification {
        Verification::Signed { serial } => {
            // The serial is the answer's: escaped for the terminal.
            let serial = crate::table::escape(serial);
            Some(format!("note: signature verified ({} {serial})", wxpay_protocol::header::WECHATPAY_SERIAL))
        }
        // An unsigned error answer is parsed into its API error, which is all it may be used for.
        _ => None,
    }
}
