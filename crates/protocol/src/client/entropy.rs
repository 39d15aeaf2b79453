//! Randomness as an input: the transports pass a CSPRNG; tests pass anything.

use crate::validate::NonceStr;

/// A source of random 64-bit values.
pub trait Entropy {
    /// The next random value.
    fn next_u64(&mut self) -> u64;
}

impl<F: FnMut() -> u64> Entropy for F {
    fn next_u64(&mut self) -> u64 {
        self()
    }
}

/// A nonce for a request: 32 characters of `[0-9A-Za-z]` (docs/protocol.md §2.1 for v3; CloudPay's
/// `nonce_str` takes at most 32, docs/protocol.md §3), drawn without bias from `entropy`.
///
/// ```
/// let mut counter = 0u64;
/// let nonce = wxpay_protocol::client::random_nonce(&mut || {
///     counter = counter.wrapping_add(0x9E37_79B9_7F4A_7C15);
///     counter
/// });
/// assert_eq!(nonce.as_str().len(), 32);
/// ```
pub fn random_nonce(entropy: &mut (impl Entropy + ?Sized)) -> NonceStr {
    NonceStr::from_generated(random_alphanumeric(entropy, 32))
}

/// `len` characters of `[0-9A-Za-z]` drawn without bias from `entropy`: nonces of requests
/// and answers, and the 12-character AES-GCM nonces of the certificate download
/// (docs/protocol.md §2.3).
pub fn random_alphanumeric(entropy: &mut (impl Entropy + ?Sized), len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut text = String::with_capacity(len);
    // Rejection sampling on bytes: 248 = 4 * 62. A constant source would never finish, so after
    // a generous number of draws the remaining characters are taken modulo 62.
    let mut draws = 0usize;
    while text.len() < len {
        draws += 1;
        for byte in entropy.next_u64().to_le_bytes() {
            if text.len() < len && (byte < 248 || draws > 64 + len) {
                text.push(char::from(ALPHABET[usize::from(byte % 62)]));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_32_alphanumerics_even_from_bad_sources() {
        let mut counter = 0u64;
        let mut rng = || {
            counter = counter.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            counter
        };
        let n = random_nonce(&mut rng);
        assert_eq!(n.as_str().len(), 32);
        assert!(n.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
        let mut constant = || u64::MAX; // every byte rejected at first
        assert_eq!(random_nonce(&mut constant).as_str().len(), 32);
    }
}
