//! Profit-sharing notifications (分账动账通知, docs/protocol.md §6): WeChat Pay POSTs a signed JSON
//! envelope whose `resource` is AES-256-GCM encrypted under the APIv3 key, and retries until the
//! merchant answers 200 or 204.
//!
//! Receiving one is a pure function of the request (headers and the exact body), the keys, the
//! APIv3 key and `now`: [`parse_notification`] verifies the signature exactly as an answer's
//! ([`verify_response`](crate::security::verify_response): the raw body, ±300 s, the key by
//! `Wechatpay-Serial`, `WECHATPAY/SIGNTEST/` probes refused), decrypts the resource as the
//! certificate download does ([`decrypt_aes_256_gcm`]) and reads it as a
//! [`ProfitSharingEvent`] for `PROFITSHARING.SUCCESS` and `PROFITSHARING.RETURN`, or keeps the
//! decrypted JSON ([`Event::Other`]) for event types this version does not know. Every failure
//! is a [`NotificationError`]. [`answer_success`] and [`answer_failure`] build what the merchant
//! sends back.
//!
//! The server side ([`NotificationDraft`], [`sign_notification`]) is here too, for the sandbox
//! and for tests of one's own handler.
//!
//! ```
//! use wxpay_protocol::notify::{self, Event, EventType};
//! use wxpay_protocol::security::{Apiv3Key, KeySet};
//! # #[cfg(feature = "aws-lc-rs")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (request, keys, apiv3, now): (http::Request<Vec<u8>>, KeySet, Apiv3Key, i64) = example()?;
//!
//! // `request`: what the web framework received, the body byte for byte.
//! match notify::parse_notification(&request, now, &keys, &apiv3) {
//!     Ok(notification) => {
//!         if let Event::ProfitSharing(event) = &notification.event {
//!             assert_eq!(notification.event_type, EventType::ProfitSharingSuccess);
//!             assert_eq!(event.receiver.amount.get(), 100);
//!         }
//!         let answer = notify::answer_success(); // 200 {"code":"SUCCESS",...}
//!         assert_eq!(answer.status(), 200);
//!     }
//!     Err(e) => {
//!         let answer = notify::answer_failure(http::StatusCode::UNAUTHORIZED, &e.to_string());
//!         assert_eq!(answer.status(), 401);
//!     }
//! }
//! # Ok(())
//! # }
//! # #[cfg(feature = "aws-lc-rs")]
//! # fn example() -> Result<(http::Request<Vec<u8>>, KeySet, Apiv3Key, i64), Box<dyn std::error::Error>> {
//! #     use wxpay_protocol::notify::{sign_notification, NotificationDraft};
//! #     use wxpay_protocol::security::{RsaPrivateKey, VerifyingKey, KeyKind};
//! #     let pem = include_str!("../tests/vectors/doc-request-signature/private_key.pem");
//! #     let key = RsaPrivateKey::from_pkcs8_pem(pem)?;
//! #     let mut keys = KeySet::new();
//! #     keys.insert(VerifyingKey::from_spki_pem("PUB_KEY_ID_01", KeyKind::PublicKey, &key.public_key_pem()?)?);
//! #     let apiv3 = Apiv3Key::new(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb")?;
//! #     let draft = NotificationDraft::new("EV-1", "2018-06-08T10:34:56+08:00", EventType::ProfitSharingSuccess,
//! #         "分账", serde_json::json!({"sp_mchid":"1900000100","sub_mchid":"1900000109",
//! #         "transaction_id":"4200000000000000000000000000","order_id":"3008450740201411110007820472",
//! #         "out_order_no":"P20150806125346","receiver":{"type":"MERCHANT_ID","account":"1900000110",
//! #         "amount":100,"description":"分给商户1900000110"},"success_time":"2018-06-08T10:34:56+08:00"}));
//! #     let body = draft.encrypt(&apiv3, "uluk4a9R25RW")?;
//! #     let request = sign_notification("http://127.0.0.1/notify", body, 1554208460, "n0nce", "PUB_KEY_ID_01", &key)?;
//! #     Ok((request, keys, apiv3, 1554208460))
//! # }
//! # #[cfg(not(feature = "aws-lc-rs"))]
//! # fn main() {}
//! ```

use http::{HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::extra::Extra;
use crate::header;
use crate::security::verify_signed;
use crate::security::{
    Apiv3Key, CertificateError, Signer, SigningError, VerificationError, Verifier, decrypt_aes_256_gcm,
    encrypt_aes_256_gcm, sign_response,
};
use crate::timestamp::{self, Timestamp};
use crate::wire_enum::wire_enum;
use crate::{Fen, ReceiverType};

/// The only resource algorithm WeChat Pay uses (docs/protocol.md §6).
pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// `resource_type` of an encrypted notification.
pub const RESOURCE_TYPE: &str = "encrypt-resource";

/// When WeChat Pay sends a notification again after a failed delivery, in seconds after the
/// previous attempt: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h, 24 h 4 m
/// in all (docs/protocol.md §6; the partner document 分账动账通知, chapter8_1_10).
pub const RETRY_SCHEDULE_SECS: [u64; 15] =
    [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10_800, 10_800, 10_800, 21_600, 21_600];

wire_enum! {
    /// `event_type`: what the notification announces.
    pub enum EventType {
        /// `PROFITSHARING.SUCCESS`: an amount was shared to the receiver (分账).
        ProfitSharingSuccess = "PROFITSHARING.SUCCESS",
        /// `PROFITSHARING.RETURN`: an amount was returned from the receiver (分账回退).
        ProfitSharingReturn = "PROFITSHARING.RETURN",
    }
}

/// Whether a merchant's answer acknowledges the notification: 200 or 204 (docs/protocol.md §6); any
/// other status, or no answer in time, makes WeChat Pay send it again.
pub fn is_acknowledged(status: StatusCode) -> bool {
    status == StatusCode::OK || status == StatusCode::NO_CONTENT
}

/// `resource`: the encrypted part of the envelope, as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EncryptedResource {
    /// `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// base64(ciphertext + 16-byte tag).
    pub ciphertext: String,
    /// The 12-character nonce.
    pub nonce: String,
    /// The associated data (may be empty).
    #[serde(default)]
    pub associated_data: String,
    /// The type of the plaintext (`profitsharing`).
    #[serde(default)]
    pub original_type: String,
    /// Fields no type knows, kept as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The envelope on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Envelope {
    id: String,
    #[serde(with = "required_rfc3339")]
    create_time: Timestamp,
    event_type: EventType,
    #[serde(default)]
    resource_type: String,
    #[serde(default)]
    summary: String,
    resource: EncryptedResource,
    #[serde(flatten)]
    extra: Extra,
}

mod required_rfc3339 {
    use crate::timestamp::Timestamp;

    pub(super) fn serialize<S: serde::Serializer>(value: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.original())
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

/// A notification whose signature verified, its resource still encrypted
/// ([`verify_notification`]); [`decrypt`](Self::decrypt) gives the [`Notification`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedNotification {
    /// `id`: the notification's unique id. The same notification can arrive more than once.
    pub id: String,
    /// `create_time` (RFC 3339).
    pub create_time: Timestamp,
    /// `event_type`.
    pub event_type: EventType,
    /// `resource_type` (`encrypt-resource`).
    pub resource_type: String,
    /// `summary` (`分账`, ...).
    pub summary: String,
    /// The encrypted resource, as received.
    pub resource: EncryptedResource,
    /// Envelope fields no type knows, kept as sent.
    pub extra: Extra,
    /// The `Wechatpay-Serial` whose key verified the signature.
    pub serial: String,
    /// The `Request-ID` header, when sent.
    pub request_id: Option<String>,
}

/// A verified and decrypted notification.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Notification {
    /// `id`: the notification's unique id. The same notification can arrive more than once.
    pub id: String,
    /// `create_time` (RFC 3339).
    pub create_time: Timestamp,
    /// `event_type`.
    pub event_type: EventType,
    /// `resource_type` (`encrypt-resource`).
    pub resource_type: String,
    /// `summary`.
    pub summary: String,
    /// `resource.original_type` (`profitsharing`).
    pub original_type: String,
    /// The decrypted resource.
    pub event: Event,
    /// Envelope fields no type knows, kept as sent.
    #[serde(skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
    /// The `Wechatpay-Serial` whose key verified the signature.
    pub serial: String,
    /// The `Request-ID` header, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The decrypted resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Event {
    /// `PROFITSHARING.SUCCESS` or `PROFITSHARING.RETURN`.
    ProfitSharing(Box<ProfitSharingEvent>),
    /// An event type this version does not know: the decrypted JSON, as sent.
    Other(Value),
}

/// The decrypted resource of a profit-sharing notification (分账动账通知; the e-commerce and
/// partner documents, with `sp_mchid` and `sub_mchid`; direct merchants get `mchid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProfitSharingEvent {
    /// `mchid` (direct merchants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// `sp_mchid`: the platform or service provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// `sub_mchid`: the sub-merchant that paid out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// `transaction_id`: the WeChat Pay order.
    pub transaction_id: String,
    /// `order_id`: WeChat Pay's profit-sharing (or return) order.
    pub order_id: String,
    /// `out_order_no`: the merchant's profit-sharing order number.
    pub out_order_no: String,
    /// `receiver`: who received (or returned) how much.
    pub receiver: NotifiedReceiver,
    /// `success_time` (RFC 3339).
    #[serde(default, with = "timestamp::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub success_time: Option<Timestamp>,
    /// Fields no type knows, kept as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `receiver` of a profit-sharing notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NotifiedReceiver {
    /// `type` (`MERCHANT_ID`, ...).
    #[serde(rename = "type")]
    pub receiver_type: ReceiverType,
    /// `account`: the receiver's merchant id or openid.
    pub account: String,
    /// `amount`, in fen.
    pub amount: Fen,
    /// `description`.
    #[serde(default)]
    pub description: String,
    /// Fields no type knows, kept as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Why a notification was refused. None of them carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationError {
    /// The signature was not accepted: a missing or malformed header, a stale or future
    /// timestamp, a `WECHATPAY/SIGNTEST/` probe, an unknown serial, an expired key, or a bad
    /// signature (the [`VerificationError`] says which).
    #[error("the notification's signature was not accepted")]
    Verification(#[from] VerificationError),
    /// The (verified) body is not the documented envelope.
    #[error("the notification body is not the documented envelope")]
    MalformedBody(#[source] serde_json::Error),
    /// `resource.algorithm` is not `AEAD_AES_256_GCM`.
    #[error("unsupported resource algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The resource could not be decrypted: a wrong APIv3 key, a wrong nonce or associated data,
    /// a tampered ciphertext, or a field that is not base64 (the [`CertificateError`] says which).
    #[error("the notification resource could not be decrypted")]
    Decryption(#[source] CertificateError),
    /// The decrypted resource is not the documented JSON for its event type.
    #[error("the decrypted resource of {event_type} is not the documented JSON")]
    MalformedResource {
        /// The event type.
        event_type: String,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
}

/// Verifies a notification (pure: `now` is Unix seconds from the caller's clock) and reads its
/// envelope; the resource stays encrypted. The check is the answers' one (docs/protocol.md §2.2).
pub fn verify_notification<B: AsRef<[u8]>>(
    request: &http::Request<B>,
    now: i64,
    verifier: &(impl Verifier + ?Sized),
) -> Result<VerifiedNotification, NotificationError> {
    let body = request.body().as_ref();
    let serial = verify_signed(request.headers(), body, now, verifier)?;
    let envelope: Envelope = serde_json::from_slice(body).map_err(NotificationError::MalformedBody)?;
    let request_id = request.headers().get(header::REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok(VerifiedNotification {
        id: envelope.id,
        create_time: envelope.create_time,
        event_type: envelope.event_type,
        resource_type: envelope.resource_type,
        summary: envelope.summary,
        resource: envelope.resource,
        extra: envelope.extra,
        serial,
        request_id,
    })
}

impl VerifiedNotification {
    /// The decrypted resource's bytes (AES-256-GCM under `key`, the nonce and associated data
    /// as sent).
    pub fn decrypt_plaintext(&self, key: &Apiv3Key) -> Result<Vec<u8>, NotificationError> {
        let r = &self.resource;
        if r.algorithm != ALGORITHM {
            return Err(NotificationError::UnsupportedAlgorithm(r.algorithm.clone()));
        }
        decrypt_aes_256_gcm(key, r.nonce.as_bytes(), r.associated_data.as_bytes(), &r.ciphertext)
            .map_err(NotificationError::Decryption)
    }

    /// Decrypts the resource and reads it: a [`ProfitSharingEvent`] for the profit-sharing
    /// event types, the JSON as sent for any other.
    pub fn decrypt(self, key: &Apiv3Key) -> Result<Notification, NotificationError> {
        let plaintext = self.decrypt_plaintext(key)?;
        let malformed =
            |source| NotificationError::MalformedResource { event_type: self.event_type.to_string(), source };
        let event = match self.event_type {
            EventType::ProfitSharingSuccess | EventType::ProfitSharingReturn => {
                Event::ProfitSharing(Box::new(serde_json::from_slice(&plaintext).map_err(malformed)?))
            }
            _ => Event::Other(serde_json::from_slice(&plaintext).map_err(malformed)?),
        };
        Ok(Notification {
            id: self.id,
            create_time: self.create_time,
            event_type: self.event_type,
            resource_type: self.resource_type,
            summary: self.summary,
            original_type: self.resource.original_type,
            event,
            extra: self.extra,
            serial: self.serial,
            request_id: self.request_id,
        })
    }
}

/// Verifies, decrypts and reads a notification: [`verify_notification`] then
/// [`VerifiedNotification::decrypt`].
pub fn parse_notification<B: AsRef<[u8]>>(
    request: &http::Request<B>,
    now: i64,
    verifier: &(impl Verifier + ?Sized),
    key: &Apiv3Key,
) -> Result<Notification, NotificationError> {
    verify_notification(request, now, verifier)?.decrypt(key)
}

fn answer(status: StatusCode, code: &str, message: &str) -> http::Response<Vec<u8>> {
    let body = serde_json::json!({ "code": code, "message": message }).to_string().into_bytes();
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The answer that acknowledges a notification: 200 with `{"code":"SUCCESS","message":"成功"}`.
pub fn answer_success() -> http::Response<Vec<u8>> {
    answer(StatusCode::OK, "SUCCESS", "成功")
}

/// An answer that refuses a notification, so that WeChat Pay sends it again:
/// `{"code":"FAIL","message":message}` with `status` (a 2xx status is sent as 500: it would
/// acknowledge).
pub fn answer_failure(status: StatusCode, message: &str) -> http::Response<Vec<u8>> {
    let status = if status.is_success() { StatusCode::INTERNAL_SERVER_ERROR } else { status };
    answer(status, "FAIL", message)
}

/// A notification to send (the server side, for the sandbox and for tests): the envelope's
/// fields and the resource in clear.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NotificationDraft {
    /// `id`.
    pub id: String,
    /// `create_time` (RFC 3339, written as given).
    pub create_time: String,
    /// `event_type`.
    pub event_type: EventType,
    /// `summary`.
    pub summary: String,
    /// `resource.original_type` (`profitsharing`).
    pub original_type: String,
    /// `resource.associated_data` (`profitsharing` by default; WeChat Pay keeps it under 16
    /// bytes).
    pub associated_data: String,
    /// The resource in clear.
    pub resource: Value,
}

impl NotificationDraft {
    /// A profit-sharing-shaped draft: `original_type` and `associated_data` `profitsharing`.
    pub fn new(
        id: impl Into<String>,
        create_time: impl Into<String>,
        event_type: EventType,
        summary: impl Into<String>,
        resource: Value,
    ) -> Self {
        Self {
            id: id.into(),
            create_time: create_time.into(),
            event_type,
            summary: summary.into(),
            original_type: "profitsharing".to_owned(),
            associated_data: "profitsharing".to_owned(),
            resource,
        }
    }

    /// The same draft with other associated data.
    pub fn with_associated_data(mut self, associated_data: impl Into<String>) -> Self {
        self.associated_data = associated_data.into();
        self
    }

    /// The JSON body: the envelope, its resource encrypted under `key` with `nonce` (12
    /// characters from the caller's CSPRNG, never reused with the same key).
    pub fn encrypt(&self, key: &Apiv3Key, nonce: &str) -> Result<Vec<u8>, CertificateError> {
        let plaintext = serde_json::to_vec(&self.resource).map_err(|_| CertificateError::Decrypt)?;
        let ciphertext = encrypt_aes_256_gcm(key, nonce.as_bytes(), self.associated_data.as_bytes(), &plaintext)?;
        let body = serde_json::json!({
            "id": self.id,
            "create_time": self.create_time,
            "resource_type": RESOURCE_TYPE,
            "event_type": self.event_type.as_str(),
            "summary": self.summary,
            "resource": {
                "original_type": self.original_type,
                "algorithm": ALGORITHM,
                "ciphertext": ciphertext,
                "associated_data": self.associated_data,
                "nonce": nonce,
            }
        });
        Ok(body.to_string().into_bytes())
    }
}

/// The notification request WeChat Pay sends: `POST uri` with the JSON `body`, signed like an
/// answer ([`sign_response`]: `timestamp` in Unix seconds, `nonce` from the caller's CSPRNG, the
/// key `serial` names) with the five `Wechatpay-*` headers.
pub fn sign_notification(
    uri: &str,
    body: Vec<u8>,
    timestamp: i64,
    nonce: &str,
    serial: &str,
    signer: &(impl Signer + ?Sized),
) -> Result<http::Request<Vec<u8>>, SigningError> {
    let signature = sign_response(&body, timestamp, nonce, serial, signer)?;
    let mut builder = http::Request::post(uri).header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in signature.headers() {
        builder = builder.header(name, value);
    }
    builder.body(body).map_err(|_| SigningError::InvalidHeader("notification URI or Wechatpay-*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_totals_24_hours_4_minutes() {
        assert_eq!(RETRY_SCHEDULE_SECS.iter().sum::<u64>(), 24 * 3600 + 4 * 60);
    }

    #[test]
    fn answers() {
        let ok = answer_success();
        assert!(is_acknowledged(ok.status()));
        let v: Value = serde_json::from_slice(ok.body()).unwrap();
        assert_eq!(v["code"], "SUCCESS");
        let fail = answer_failure(StatusCode::OK, "busy");
        assert_eq!(fail.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!is_acknowledged(fail.status()));
        assert!(is_acknowledged(StatusCode::NO_CONTENT));
        assert!(!is_acknowledged(StatusCode::ACCEPTED));
        let v: Value = serde_json::from_slice(fail.body()).unwrap();
        assert_eq!((v["code"].as_str(), v["message"].as_str()), (Some("FAIL"), Some("busy")));
    }
}
