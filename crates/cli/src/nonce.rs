//! A fresh `nonce_str` from the operating system's CSPRNG (DESIGN.md 4.2: 32 characters of
//! `[0-9A-Za-z]`). The protocol core takes randomness as an input; supplying it is the caller's
//! job, and here the CLI is the caller.

use wxpay_protocol::NonceStr;

use crate::exit::CliError;

/// The characters a generated nonce is made of.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// How many characters a generated nonce has.
pub(crate) const LEN: usize = 32;

/// Random bytes at or above this value are rejected, so that `byte % 62` is uniform: 248 is the
/// largest multiple of 62 not above 256.
const ACCEPT_BELOW: u8 = (256 / ALPHABET.len() * ALPHABET.len()) as u8;

/// Generates a nonce of [`LEN`] characters, each uniform over [`ALPHABET`] (rejection sampling),
/// and validates it with [`NonceStr::new`].
pub(crate) fn generate() -> Result<NonceStr, CliError> {
    generate_with(|buf| getrandom::fill(buf).map_err(CliError::Random))
}

/// [`generate`] with the random source as a parameter.
fn generate_with(mut fill: impl FnMut(&mut [u8]) -> Result<(), CliError>) -> Result<NonceStr, CliError> {
    let mut nonce = String::with_capacity(LEN);
    let mut buf = [0u8; 64];
    while nonce.len() < LEN {
        fill(&mut buf)?;
        for &byte in buf.iter().filter(|&&b| b < ACCEPT_BELOW) {
            if nonce.len() == LEN {
                break;
            }
            nonce.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
        }
    }
    Ok(NonceStr::new(nonce)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_bound_is_the_largest_multiple_of_62() {
        assert_eq!(ACCEPT_BELOW, 248);
    }

    #[test]
    fn rejected_bytes_are_skipped_and_the_rest_map_uniformly() {
        // First fill: only rejected bytes; second fill: 0, 61, 62, 247, ... .
        let mut calls = 0;
        let nonce = generate_with(|buf| {
            calls += 1;
            if calls == 1 {
                buf.fill(255);
            } else {
                for (i, b) in buf.iter_mut().enumerate() {
                    *b = [0, 61, 62, 247, 248][i % 5];
                }
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, 2);
        assert_eq!(&nonce.as_str()[..4], "0z0z");
        assert_eq!(nonce.as_str().len(), LEN);
    }

    #[test]
    fn generated_nonces_are_32_alphanumerics_and_differ() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.as_str().len(), LEN);
        assert!(a.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
