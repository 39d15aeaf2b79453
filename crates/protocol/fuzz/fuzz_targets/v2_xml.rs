//! The v2 XML reader (docs/protocol.md §5): `v2::Fields::from_xml` on arbitrary bytes must never panic,
//! and whatever it accepts must be written back by `to_xml` into a document that reads as the
//! same fields. (That DOCTYPE and entities are refused is a property test, tests/v2.rs: here a
//! `<!DOCTYPE` inside a comment or a CDATA section is rightly accepted.)

#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_protocol::v2::{Fields, XmlError};

fuzz_target!(|data: &[u8]| {
    match Fields::from_xml(data) {
        Ok(fields) => {
            let again = Fields::from_xml(fields.to_xml().as_bytes()).expect("what was read is written back readable");
            assert_eq!(again, fields);
        }
        Err(XmlError::DocType) => assert!(contains(data, b"<!DOCTYPE"), "DocType without a DOCTYPE"),
        Err(_) => {}
    }
});

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}
