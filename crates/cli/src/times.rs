//! `--json` times: every timestamp of an answer is also given as RFC 3339 with its offset, in a
//! field `<field>_rfc3339` next to the original, which stays exactly as the server wrote it
//! (`20180608170132`, `2016-07-25 15:26:26` or RFC 3339). Only the CLI's JSON view gets the
//! extra field: the answer types serialize in the wire's own format, as the sandbox writes them.

use serde_json::Value;
use wxpay_protocol::Timestamp;

/// One step into an answer's JSON.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// An object's field.
    Key(&'static str),
    /// A list's element.
    Index(usize),
}

/// A timestamp of an answer and where it is in the answer's JSON: `path` leads to the object
/// and `field` names it there.
#[derive(Debug)]
pub(crate) struct Time<'a> {
    /// The way from the answer to the object holding the field.
    pub(crate) path: Vec<Step>,
    /// The field.
    pub(crate) field: &'static str,
    /// The timestamp.
    pub(crate) time: &'a Timestamp,
}

impl<'a> Time<'a> {
    /// `field` of the object at `path`, when the timestamp is there.
    pub(crate) fn at(path: Vec<Step>, field: &'static str, time: Option<&'a Timestamp>) -> Option<Self> {
        time.map(|time| Self { path, field, time })
    }
}

/// Adds `<field>_rfc3339` next to each of `times` in `json`. A field whose text is not the
/// timestamp's original (a path that does not lead to it) is left alone, so that nothing is
/// ever given a time that is not its own.
pub(crate) fn add_rfc3339<'a>(json: &mut Value, times: impl IntoIterator<Item = Time<'a>>) {
    for Time { path, field, time } in times {
        let mut at = Some(&mut *json);
        for step in &path {
            at = at.and_then(|v| match step {
                Step::Key(key) => v.get_mut(*key),
                Step::Index(i) => v.get_mut(*i),
            });
        }
        if let Some(object) = at.and_then(Value::as_object_mut)
            && object.get(field).and_then(Value::as_str) == Some(time.original())
        {
            object.insert(format!("{field}_rfc3339"), time.rfc3339().into());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_time_gets_its_rfc3339_sibling_and_nothing_else_changes() {
        let compact = Timestamp::parse_compact_china("20180608170132").unwrap();
        let spaced = Timestamp::parse_spaced_china("2016-07-25 15:26:26").unwrap();
        let mut value = json!({"finish_time": "20180608170132", "list": [{"t": "x"}, {"t": "2016-07-25 15:26:26"}]});
        add_rfc3339(
            &mut value,
            [
                Time::at(vec![], "finish_time", Some(&compact)),
                Time::at(vec![Step::Key("list"), Step::Index(1)], "t", Some(&spaced)),
                // Not where it says: ignored.
                Time::at(vec![Step::Key("list"), Step::Index(0)], "t", Some(&spaced)),
                Time::at(vec![Step::Key("missing")], "t", Some(&spaced)),
            ]
            .into_iter()
            .flatten(),
        );
        assert_eq!(
            value,
            json!({
                "finish_time": "20180608170132",
                "finish_time_rfc3339": "2018-06-08T17:01:32+08:00",
                "list": [{"t": "x"}, {"t": "2016-07-25 15:26:26", "t_rfc3339": "2016-07-25T15:26:26+08:00"}]
            })
        );
    }
}
