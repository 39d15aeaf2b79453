//! Secrets given as contents ([`Secret`], from the variables made for them), and values given
//! where a path is expected that look like a secret rather than a path
//! ([`looks_like_content`]): those are refused without being shown.

use std::fmt;
use std::path::{Component, Path};

use zeroize::Zeroizing;

/// A secret's contents (a PEM private key, an APIv3 key), from a variable made for them
/// (`WXPAY_PRIVATE_KEY_PEM`, `WXPAY_APIV3_KEY`). `Debug` shows only that it is set; the copy
/// is wiped from memory when dropped.
///
/// ```
/// use wxpay_settings::Secret;
///
/// let key = Secret::new("0123456789abcdefghijklmnopqrstuv");
/// assert_eq!(format!("{key:?}"), "Secret(<set, not shown>)");
/// assert_eq!(key.expose(), b"0123456789abcdefghijklmnopqrstuv");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// The contents as given.
    pub fn new(contents: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(contents.into()))
    }

    /// The contents, for the code that parses them into a key.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<set, not shown>)")
    }
}

/// The longest part of a path that is shown when it names no file: an APIv3 key is 32 bytes,
/// and a key's base64 longer still, so a value with a longer part that is not a file is taken
/// for a secret given in the wrong place.
const LONGEST_UNKNOWN_PART: usize = 31;

/// Whether a value given where a path is expected looks like key material rather than a path:
/// it holds a line break or another control character, or a PEM `-----BEGIN`/`-----END`
/// marker, or it names nothing on disk and either has a part of 32 characters or more or is
/// base64 as long as an APIv3 key (letters, digits, `/` and at least one `+` or `=`, no dot).
///
/// Such a value is refused ("looks like key content, not a path") and never shown; the
/// secret's contents go in the variables made for them, never guessed from a path.
///
/// ```
/// use std::path::Path;
/// use wxpay_settings::looks_like_content;
///
/// assert!(looks_like_content(Path::new("-----BEGIN PRIVATE KEY-----\nMIIE...")));
/// assert!(looks_like_content(Path::new("0123456789abcdefghijklmnopqrstuv"))); // an APIv3 key
/// assert!(!looks_like_content(Path::new("/etc/wxpay/apiclient_key.pem")));
/// ```
pub fn looks_like_content(value: &Path) -> bool {
    let bytes = value.as_os_str().as_encoded_bytes();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if bytes.iter().any(u8::is_ascii_control) || has(b"-----BEGIN") || has(b"-----END") || has(b"PRIVATE KEY") {
        return true;
    }
    let long_part = value.components().any(|c| match c {
        Component::Normal(part) => part.len() > LONGEST_UNKNOWN_PART,
        Component::Prefix(_) | Component::RootDir | Component::CurDir | Component::ParentDir => false,
    });
    let base64 = bytes.len() > LONGEST_UNKNOWN_PART
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b))
        && bytes.iter().any(|b| b"+=".contains(b));
    (long_part || base64) && std::fs::symlink_metadata(value).is_err()
}

/// The path, if it may be shown in an error (or a CLI's `--json`): `None` when it looks like
/// key material ([`looks_like_content`]).
pub fn path_shown(path: &Path) -> Option<&Path> {
    (!looks_like_content(path)).then_some(path)
}

/// A path in `Debug`, or a mark where the value looks like key material.
pub(crate) struct ShownPath<'a>(pub(crate) &'a Path);

impl fmt::Debug for ShownPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match path_shown(self.0) {
            Some(path) => path.fmt(f),
            None => f.write_str("<looks like key content, not shown>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_look_like_keys_are_not_paths() {
        let content = [
            "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----MIIE",
            "line\nbreak",
            // An APIv3 key, alone and under a directory (a config file's relative path).
            "0123456789abcdefghijklmnopqrstuv",
            "/no/such/dir/0123456789abcdefghijklmnopqrstuv",
            // A 32-byte key in base64, whose `/` splits it into short parts.
            "q1w2e3r4/t5y6u7i8o9p0+a1s2d3f4g5h6j7k8l9z0=",
        ];
        for value in content {
            assert!(looks_like_content(Path::new(value)), "{value:?}");
            assert_eq!(path_shown(Path::new(value)), None, "{value:?}");
            assert_eq!(format!("{:?}", ShownPath(Path::new(value))), "<looks like key content, not shown>");
        }
        let paths = [
            "apiclient_key.pem",
            "/etc/wxpay/apiclient_key.pem",
            "/no/such/dir/keys/apiv3_key",
            "/var/lib/wxpay/secrets/merchantkey1",
            "C:\\keys\\apiclient_key.pem",
        ];
        for value in paths {
            assert!(!looks_like_content(Path::new(value)), "{value:?}");
            assert_eq!(path_shown(Path::new(value)), Some(Path::new(value)));
        }
        // An existing file is a path, whatever its name.
        let dir = tempfile::tempdir().unwrap();
        let long = dir.path().join("0123456789abcdefghijklmnopqrstuvwxyz");
        std::fs::write(&long, "").unwrap();
        assert!(!looks_like_content(&long));
    }

    #[test]
    fn a_secret_shows_only_that_it_is_set() {
        let secret = Secret::new("-----BEGIN PRIVATE KEY-----\nMIIE");
        assert_eq!(format!("{secret:?}"), "Secret(<set, not shown>)");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(Secret(<set, not shown>))");
        assert_eq!(secret.expose(), b"-----BEGIN PRIVATE KEY-----\nMIIE");
    }
}
