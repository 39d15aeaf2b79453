//! Notifications (docs/protocol.md §6): `notify::parse_notification` on arbitrary headers and
//! bodies must never panic. The input is `Name: value` lines, a blank line, then the body; the same
//! body is also signed with the platform key, so that the envelope reader and the decryption see
//! every input too (an unsigned request stops at the signature check). Nothing unsigned or
//! undecryptable may parse.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use wxpay_protocol::notify::{parse_notification, sign_notification};
use wxpay_protocol::security::{Apiv3Key, KeyKind, KeySet, RsaPrivateKey, VerifyingKey};

const SERIAL: &str = "PUB_KEY_ID_0112233445566778899AABBCCDDEEFF";
const NOW: i64 = 1_700_000_000;

static KEY: LazyLock<RsaPrivateKey> = LazyLock::new(|| {
    RsaPrivateKey::from_pkcs8_pem(include_str!("../../tests/vectors/doc-request-signature/private_key.pem"))
        .expect("the published test key")
});
static KEYS: LazyLock<KeySet> = LazyLock::new(|| {
    let mut keys = KeySet::new();
    let pem = KEY.public_key_pem().expect("a public key");
    keys.insert(VerifyingKey::from_spki_pem(SERIAL, KeyKind::PublicKey, &pem).expect("a key"));
    keys
});
static APIV3: LazyLock<Apiv3Key> =
    LazyLock::new(|| Apiv3Key::new(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").expect("32 bytes"));

fuzz_target!(|data: &[u8]| {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (&[][..], data),
    };
    let mut request = http::Request::new(body.to_vec());
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(name), http::HeaderValue::from_bytes(value)) {
            request.headers_mut().append(name, value);
        }
    }
    if let Err(e) = parse_notification(&request, NOW, &*KEYS, &APIV3) {
        let _ = (e.to_string(), format!("{e:?}"));
    }
    // Signed: past the signature, the envelope and the decryption must hold.
    if let Ok(signed) = sign_notification("http://127.0.0.1/n", body.to_vec(), NOW, "n", SERIAL, &*KEY) {
        match parse_notification(&signed, NOW, &*KEYS, &APIV3) {
            Ok(n) => {
                // Decrypting arbitrary bytes under our key cannot succeed by chance.
                panic!("arbitrary ciphertext decrypted: {n:?}");
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
