//! Reading CloudPay request bodies, for servers such as the sandbox: the same validated types a
//! client builds, so a server accepts exactly what the documents allow.

use serde_json::{Map, Value};

use crate::error::{Rule, ValidationError};
use crate::validate::Offset;

/// The fields of a request body.
#[derive(Debug)]
pub(crate) struct RequestBody(Map<String, Value>);

impl RequestBody {
    /// Parses a JSON object body.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, ValidationError> {
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            _ => Err(ValidationError::new("body", Rule::NotJsonObject)),
        }
    }

    /// A string field as text; numbers are taken as their decimal text (XML-era clients send
    /// ids unquoted). Absent or `null` is `None`; other types are an error naming the field.
    pub(crate) fn opt_str(&self, field: &'static str) -> Result<Option<String>, ValidationError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Some(_) => Err(ValidationError::new(field, Rule::WrongType { expected: "a string" })),
        }
    }

    /// A required string field.
    pub(crate) fn str(&self, field: &'static str) -> Result<String, ValidationError> {
        self.opt_str(field)?.ok_or_else(|| ValidationError::new(field, Rule::Missing))
    }

    /// A required field validated by `parse`.
    pub(crate) fn parse_field<T>(
        &self,
        field: &'static str,
        parse: impl FnOnce(String) -> Result<T, ValidationError>,
    ) -> Result<T, ValidationError> {
        parse(self.str(field)?)
    }

    /// An optional field validated by `parse`.
    pub(crate) fn parse_opt<T>(
        &self,
        field: &'static str,
        parse: impl FnOnce(String) -> Result<T, ValidationError>,
    ) -> Result<Option<T>, ValidationError> {
        self.opt_str(field)?.map(parse).transpose()
    }

    /// The optional `offset`: a JSON integer or a string of digits.
    pub(crate) fn offset(&self) -> Result<Option<Offset>, ValidationError> {
        match self.0.get(Offset::FIELD) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| ValidationError::new(Offset::FIELD, Rule::NotANonNegativeInteger))
                .and_then(|n| {
                    u32::try_from(n)
                        .map_err(|_| ValidationError::new(Offset::FIELD, Rule::OutOfRange { max: u64::from(u32::MAX) }))
                })
                .map(|n| Some(Offset::new(n))),
            Some(Value::String(s)) => s.parse().map(Some),
            Some(_) => Err(ValidationError::new(Offset::FIELD, Rule::NotANonNegativeInteger)),
        }
    }
}
