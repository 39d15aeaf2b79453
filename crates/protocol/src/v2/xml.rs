//! The v2 wire's documents: `<xml>` with flat child elements whose text (or CDATA) is a field's
//! value (docs/protocol.md §5). Read with quick-xml's event reader: a document type declaration and
//! entity references other than XML's five predefined ones and character references are
//! refused, never expanded, and nesting, attributes, repeated fields and oversized documents are
//! refused too, so that what is signed and what is read are the same flat set of fields.

use std::collections::BTreeMap;
use std::fmt;

use quick_xml::events::{BytesStart, Event};

/// The most fields a document may hold. The largest documented answer, a refund query with
/// its 50 refunds and their coupons ([`MAX_REFUNDS`](crate::MAX_REFUNDS)), has a few thousand.
pub const MAX_FIELDS: usize = 8192;

/// The longest field name accepted, in bytes.
const MAX_NAME: usize = 64;

/// Why a body is not a v2 document. Fixed words only: nothing of the document is quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed XML (or not UTF-8).
    #[error("not well-formed XML")]
    NotXml,
    /// The root element is not `<xml>`.
    #[error("the root element must be <xml>")]
    Root,
    /// A `<!DOCTYPE>`: refused, so that no entity is ever declared or expanded.
    #[error("a document type declaration is not allowed")]
    DocType,
    /// An entity reference other than `&lt;` `&gt;` `&amp;` `&apos;` `&quot;` or `&#...;`.
    #[error("entity references are not allowed")]
    Entity,
    /// A processing instruction other than the XML declaration.
    #[error("processing instructions are not allowed")]
    ProcessingInstruction,
    /// An element inside a field, or text directly inside `<xml>`.
    #[error("fields must be flat elements holding text")]
    Nested,
    /// An attribute on an element.
    #[error("attributes are not allowed")]
    Attribute,
    /// A field name that is not 1 to 64 ASCII letters, digits or `_`.
    #[error("a field name must be 1 to 64 ASCII letters, digits or _")]
    Name,
    /// The same field twice.
    #[error("field `{0}` is given twice")]
    Duplicate(String),
    /// More than [`MAX_FIELDS`] fields.
    #[error("more than {MAX_FIELDS} fields")]
    TooManyFields,
    /// Content after the end of `<xml>`.
    #[error("content after the document")]
    Trailing,
}

/// Whether `name` may name a field: 1 to 64 ASCII letters, digits or `_` (every v2 field name,
/// the indexed `refund_id_0` ones included).
pub fn is_field_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The fields of a v2 document, by name (sorted, as signing needs them).
///
/// ```
/// use wxpay_protocol::v2::Fields;
/// let fields = Fields::from_xml(b"<xml><return_code><![CDATA[SUCCESS]]></return_code><total>10</total></xml>")?;
/// assert_eq!(fields.get("return_code"), Some("SUCCESS"));
/// assert_eq!(fields.get("total"), Some("10"));
/// assert!(Fields::from_xml(b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml><a>&a;</a></xml>").is_err());
/// # Ok::<(), wxpay_protocol::v2::XmlError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields {
    map: BTreeMap<String, String>,
}

impl fmt::Debug for Fields {
    /// Names and values: answers and requests hold no secret (the API v2 key is never a field).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.map.iter()).finish()
    }
}

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, returning the value it replaces. Names must pass
    /// [`is_field_name`]; the builders of this crate only use documented names.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.map.insert(name.into(), value.into())
    }

    /// Removes a field, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.map.remove(name)
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// The fields in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Reads a v2 document (the caller bounds its length: answers through
    /// [`MAX_ANSWER_BYTES`](crate::MAX_ANSWER_BYTES)).
    pub fn from_xml(body: &[u8]) -> Result<Self, XmlError> {
        let mut reader = quick_xml::Reader::from_reader(body);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = true;
        config.trim_text(false);

        let mut map = BTreeMap::new();
        // Where the reader is: before <xml>, inside it, inside a field (its name and text so
        // far), after </xml>.
        let mut field: Option<(String, String)> = None;
        let mut inside_root = false;
        let mut done = false;
        loop {
            let event = reader.read_event().map_err(|_| XmlError::NotXml)?;
            match event {
                Event::Eof => break,
                Event::DocType(_) => return Err(XmlError::DocType),
                Event::PI(_) => return Err(XmlError::ProcessingInstruction),
                Event::Decl(decl) if !inside_root && !done => {
                    // `<?xml version="1.0" encoding="UTF-8"?>` and nothing else: the bytes are
                    // read as UTF-8 whatever a declaration says.
                    let utf8 = match decl.encoding() {
                        None => true,
                        Some(Ok(name)) => name.eq_ignore_ascii_case(b"utf-8"),
                        Some(Err(_)) => false,
                    };
                    if decl.version().is_err() || !utf8 {
                        return Err(XmlError::NotXml);
                    }
                }
                Event::Decl(_) => return Err(XmlError::NotXml),
                Event::Comment(_) => {}
                Event::Start(_) | Event::Empty(_) if done => return Err(XmlError::Trailing),
                // With `expand_empty_elements`, `<a/>` arrives as a start and an end.
                Event::Start(start) | Event::Empty(start) => {
                    let name = element_name(&start)?;
                    if !inside_root {
                        if name != "xml" {
                            return Err(XmlError::Root);
                        }
                        inside_root = true;
                    } else if field.is_some() {
                        return Err(XmlError::Nested);
                    } else {
                        field = Some((name, String::new()));
                    }
                }
                Event::End(_) => match field.take() {
                    Some((name, value)) => put(&mut map, name, value)?,
                    None if inside_root => {
                        inside_root = false;
                        done = true;
                    }
                    None => return Err(XmlError::NotXml),
                },
                Event::Text(text) => {
                    let text = text.xml10_content().map_err(|_| XmlError::NotXml)?;
                    match &mut field {
                        Some((_, value)) => value.push_str(&text),
                        None if text.trim_ascii().is_empty() => {}
                        None if done => return Err(XmlError::Trailing),
                        None if inside_root => return Err(XmlError::Nested),
                        None => return Err(XmlError::NotXml),
                    }
                }
                Event::CData(data) => {
                    let data = data.xml10_content().map_err(|_| XmlError::NotXml)?;
                    match &mut field {
                        Some((_, value)) => value.push_str(&data),
                        None => return Err(if done { XmlError::Trailing } else { XmlError::Nested }),
                    }
                }
                Event::GeneralRef(reference) => {
                    let ch = match reference.resolve_char_ref() {
                        Ok(Some(ch)) => ch,
                        Ok(None) => match reference.as_ref() {
                            b"lt" => '<',
                            b"gt" => '>',
                            b"amp" => '&',
                            b"apos" => '\'',
                            b"quot" => '"',
                            _ => return Err(XmlError::Entity),
                        },
                        Err(_) => return Err(XmlError::NotXml),
                    };
                    match &mut field {
                        Some((_, value)) => value.push(ch),
                        None => return Err(XmlError::Nested),
                    }
                }
            }
        }
        if !done {
            return Err(if inside_root || field.is_some() { XmlError::NotXml } else { XmlError::Root });
        }
        Ok(Self { map })
    }

    /// Writes the document: `<xml>`, then each field in name order, its value as CDATA unless it
    /// is all ASCII digits (as WeChat Pay's own SDKs write them).
    ///
    /// ```
    /// use wxpay_protocol::v2::Fields;
    /// let mut fields = Fields::new();
    /// fields.insert("offset", "10");
    /// fields.insert("body", "a]]>b");
    /// let xml = fields.to_xml();
    /// assert_eq!(xml, "<xml><body><![CDATA[a]]]]><![CDATA[>b]]></body><offset>10</offset></xml>");
    /// assert_eq!(Fields::from_xml(xml.as_bytes()).unwrap(), fields);
    /// fields.insert("body", "line\r\nbreak");
    /// assert_eq!(Fields::from_xml(fields.to_xml().as_bytes()).unwrap(), fields);
    /// ```
    pub fn to_xml(&self) -> String {
        let mut out =
            String::with_capacity(32 + self.map.iter().map(|(k, v)| 2 * k.len() + v.len() + 17).sum::<usize>());
        out.push_str("<xml>");
        for (name, value) in &self.map {
            out.push('<');
            out.push_str(name);
            out.push('>');
            if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                out.push_str(value);
            } else {
                // `]]>` cannot appear inside CDATA: close the section between `]]` and `>`. A
                // carriage return goes as a character reference, which a reader's end-of-line
                // normalisation leaves alone (so the value read is the value signed).
                out.push_str("<![CDATA[");
                out.push_str(&value.replace("]]>", "]]]]><![CDATA[>").replace('\r', "]]>&#13;<![CDATA["));
                out.push_str("]]>");
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        out.push_str("</xml>");
        out
    }

    /// The fields as a JSON object of strings, the form the CloudPay readers take (they accept
    /// digit strings for numbers, docs/protocol.md §1).
    pub(crate) fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.map.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect()
    }
}

impl FromIterator<(String, String)> for Fields {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self { map: iter.into_iter().collect() }
    }
}

fn element_name(start: &BytesStart<'_>) -> Result<String, XmlError> {
    if start.attributes().next().is_some() {
        return Err(XmlError::Attribute);
    }
    let name = std::str::from_utf8(start.name().as_ref()).map_err(|_| XmlError::Name)?.to_owned();
    if !is_field_name(&name) {
        return Err(XmlError::Name);
    }
    Ok(name)
}

fn put(map: &mut BTreeMap<String, String>, name: String, value: String) -> Result<(), XmlError> {
    if map.len() >= MAX_FIELDS {
        return Err(XmlError::TooManyFields);
    }
    if map.contains_key(&name) {
        return Err(XmlError::Duplicate(name));
    }
    map.insert(name, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_cdata_references_and_empty_fields() {
        let doc = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n  <a>x&amp;y&#x4e2d;</a>\n  <b><![CDATA[<not a tag>]]></b><c/><d></d><!-- note --></xml>\n";
        let f = Fields::from_xml(doc).unwrap();
        assert_eq!(f.get("a"), Some("x&y中"));
        assert_eq!(f.get("b"), Some("<not a tag>"));
        assert_eq!((f.get("c"), f.get("d")), (Some(""), Some("")));
        assert_eq!(f.len(), 4);
    }

    #[test]
    fn refuses_what_is_not_a_flat_document() {
        let cases: &[(&[u8], XmlError)] = &[
            (b"<!DOCTYPE xml><xml></xml>", XmlError::DocType),
            (b"<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><a>&e;</a></xml>", XmlError::DocType),
            (b"<xml><a>&e;</a></xml>", XmlError::Entity),
            (b"<xml><?pi x?></xml>", XmlError::ProcessingInstruction),
            (b"<xml><a><b>1</b></a></xml>", XmlError::Nested),
            (b"<xml>text</xml>", XmlError::Nested),
            (b"<xml><a x=\"1\">1</a></xml>", XmlError::Attribute),
            (b"<xml><a-b>1</a-b></xml>", XmlError::Name),
            (b"<xml><a>1</a><a>1</a></xml>", XmlError::Duplicate("a".into())),
            (b"<root><a>1</a></root>", XmlError::Root),
            (b"<xml><a>1</a></xml><xml></xml>", XmlError::Trailing),
            (b"<xml><a>1</a></xml>tail", XmlError::Trailing),
            (b"<xml><a>1</b></xml>", XmlError::NotXml),
            (b"<xml><a>1</a>", XmlError::NotXml),
            (b"", XmlError::Root),
            (b"{\"return_code\":\"SUCCESS\"}", XmlError::NotXml),
            (b"<xml><a>\xff</a></xml>", XmlError::NotXml),
            (b"<?xml versi<!DOCTYPEon=\"2.0\"?><xml></xml>", XmlError::NotXml),
            (b"<?xml version=\"1.0\" encoding=\"GBK\"?><xml></xml>", XmlError::NotXml),
        ];
        for (doc, expected) in cases {
            assert_eq!(Fields::from_xml(doc).as_ref(), Err(expected), "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn bounds_the_number_of_fields() {
        let mut doc = String::from("<xml>");
        for i in 0..=MAX_FIELDS {
            doc.push_str(&format!("<f{i}>1</f{i}>"));
        }
        doc.push_str("</xml>");
        assert_eq!(Fields::from_xml(doc.as_bytes()), Err(XmlError::TooManyFields));
    }
}
