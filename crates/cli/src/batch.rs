//! `--batch FILE`: one call per row of a CSV or JSON-lines file, for reconciliation.
//!
//! - Rows: CSV with a header row of field names, or JSON lines (the file's first non-space
//!   character is `{`). Field names are the API's (`sub_mch_id`, `out_order_no`, ...); flags
//!   given on the command line are defaults for columns a row leaves out or empty. Each row is
//!   validated like flags: a bad row is recorded as invalid input and the run goes on. Columns
//!   that are not fields of the operation are kept in the output but not sent.
//! - Calls run concurrently (`--concurrency`, default 8) through one client, so the client's
//!   documented rate limits hold across rows, and retries resend a row's own values unchanged.
//! - Output: one JSON line per row as it completes, `{"row","key","input","result"}` or
//!   `{"row","key","input","error"}` (the error as `--json` prints it), flushed line by line, to
//!   `--output FILE` or standard output.
//! - Resume: `--output FILE` must be new, empty, or made of this tool's lines (anything else,
//!   a key file say, is refused untouched). When it exists, rows whose key has a line with a result or with a final
//!   error (one that is not `"retryable": true`) are skipped; a half-written last line (an
//!   interrupted run) is cut off and its row sent again. The key is the row's effective fields,
//!   so a row is recognised whatever its position, and never gets a new merchant number.
//! - The summary goes to standard error (JSON with `--json`), and a progress bar too when it is a
//!   terminal. The exit code is the highest of the rows' codes: 5 if any transport failure, else
//!   4 if any malformed or unverifiable answer, else 3 if any API error, else 2 if any invalid
//!   row, else 0. Rows skipped on resume count with the outcome recorded for them.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value, json};
use wxpay_protocol::Operation;

use crate::exit::{CliError, Exit};
use crate::ops::CliOperation;
use crate::run::Report;
use crate::{render, send};

/// The field values of a row (or of a row merged with the flags), by API field name.
type Fields = BTreeMap<String, String>;

/// Operation flags that a row's columns can set: the API fields, each an optional string.
pub(crate) trait RowArgs: Clone {
    /// The API field names, as columns.
    const FIELDS: &'static [&'static str];

    /// The flag that carries `field`, if it is one of [`Self::FIELDS`].
    fn field_mut(&mut self, field: &str) -> Option<&mut Option<String>>;
}

/// One row of the input: its 1-based number, and its columns or why they cannot be read.
#[derive(Debug)]
struct Row {
    /// The row's number among the data rows (the CSV header and blank lines not counted).
    number: usize,
    /// Column name to value (empty values left out).
    columns: Result<Fields, String>,
}

/// The flags merged with a row's columns: the columns win.
fn merged<A: RowArgs>(args: &A, columns: &Fields) -> A {
    let mut merged = args.clone();
    for (name, value) in columns {
        if let Some(slot) = merged.field_mut(name) {
            *slot = Some(value.clone());
        }
    }
    merged
}

/// The fields a merged row sends, by name.
fn effective<A: RowArgs>(merged: &A) -> Fields {
    let mut merged = merged.clone();
    A::FIELDS
        .iter()
        .filter_map(|&name| merged.field_mut(name).and_then(|v| v.clone()).map(|v| (name.to_owned(), v)))
        .collect()
}

/// `%`, `&` and `=` escaped, so that a key can be read back unambiguously.
fn escape(s: &str) -> String {
    s.replace('%', "%25").replace('&', "%26").replace('=', "%3D")
}

/// The stable key of a row: its effective fields as `name=value` joined by `&`, in name order
/// (`out_order_no=P1&sub_mch_id=1900000109&...`).
fn key_of(fields: &Fields) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", escape(k), escape(v))).collect::<Vec<_>>().join("&")
}

/// The rows of `bytes`: JSON lines when the first non-space character is `{`, else CSV.
fn parse_rows(bytes: &[u8], file: &str) -> Result<Vec<Row>, CliError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Ok(Vec::new()),
        Some(b'{') => Ok(json_rows(bytes)),
        Some(_) => csv_rows(bytes, file),
    }
}

/// JSON lines: one object per non-blank line; values are strings or whole numbers (ids too long
/// for a JSON number must be strings); `null` counts as absent.
fn json_rows(bytes: &[u8]) -> Vec<Row> {
    let text = String::from_utf8_lossy(bytes);
    let lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    lines
        .enumerate()
        .map(|(i, (line, text))| Row {
            number: i + 1,
            columns: json_row(text).map_err(|e| format!("line {}: {e}", line + 1)),
        })
        .collect()
}

/// One JSON line's columns.
fn json_row(line: &str) -> Result<Fields, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(object) = value else { return Err("not a JSON object".to_owned()) };
    let mut fields = Fields::new();
    for (name, value) in object {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
            Value::Number(_) => {
                return Err(format!("`{name}` is a number that JSON cannot hold exactly; write it as a string"));
            }
            _ => return Err(format!("`{name}` must be a string")),
        };
        if !text.is_empty() {
            fields.insert(name, text);
        }
    }
    Ok(fields)
}

/// CSV with a header row of field names; cells are trimmed, empty cells count as absent.
fn csv_rows(bytes: &[u8], file: &str) -> Result<Vec<Row>, CliError> {
    let invalid = |reason: String| CliError::Batch { file: file.to_owned(), reason: Some(reason), source: None };
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| invalid(format!("the CSV header row cannot be read ({e})")))?
        .iter()
        .map(str::to_owned)
        .collect();
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(invalid(format!("column {} of the header row has no name", i + 1)));
        }
        if header[..i].contains(name) {
            return Err(invalid(format!("column `{name}` appears twice in the header row")));
        }
    }
    // Byte records, so that a cell that is not UTF-8 is named by its column, not its index.
    Ok(reader
        .byte_records()
        .enumerate()
        .map(|(i, record)| Row {
            number: i + 1,
            columns: record.map_err(|e| e.to_string()).and_then(|r| {
                if r.len() != header.len() {
                    return Err(format!("row has {} fields but the header row has {}", r.len(), header.len()));
                }
                let mut fields = Fields::new();
                for (name, cell) in header.iter().zip(r.iter()) {
                    let cell = std::str::from_utf8(cell).map_err(|_| format!("column `{name}` is not UTF-8"))?;
                    if !cell.is_empty() {
                        fields.insert(name.clone(), cell.to_owned());
                    }
                }
                Ok(fields)
            }),
        })
        .collect())
}

/// What a line of the output file says about its row.
#[derive(Debug, Clone)]
enum Outcome {
    /// The call succeeded.
    Done,
    /// The call failed.
    Failed {
        /// The error's `kind` (`api`, `transport`, ...).
        kind: String,
        /// The API error code, for `api`.
        code: Option<String>,
        /// Whether the same row may be sent again.
        retryable: bool,
    },
}

impl Outcome {
    /// The outcome a written line records.
    fn of_line(line: &Value) -> Option<Self> {
        if line.get("result").is_some() {
            return Some(Outcome::Done);
        }
        let error = line.get("error")?;
        Some(Outcome::Failed {
            kind: error["kind"].as_str().unwrap_or("internal").to_owned(),
            code: error["code"].as_str().map(str::to_owned),
            retryable: error["retryable"] == Value::Bool(true),
        })
    }

    /// Whether the row is finished: a result, or an error that sending again cannot change.
    fn is_final(&self) -> bool {
        !matches!(self, Outcome::Failed { retryable: true, .. })
    }

    /// The exit code of this outcome.
    fn exit(&self) -> Exit {
        match self {
            Outcome::Done => Exit::Ok,
            Outcome::Failed { kind, .. } => match kind.as_str() {
                "invalid_input" => Exit::InvalidInput,
                "api" => Exit::Api,
                "malformed" | "unverifiable" => Exit::Malformed,
                "transport" => Exit::Transport,
                _ => Exit::Internal,
            },
        }
    }
}

/// The outcomes an existing output file records, by key (the last line of a key wins), after
/// cutting off a half-written last line. Returns the outcomes and a note for standard error.
fn resume(path: &Path) -> Result<(HashMap<String, Outcome>, Option<String>), CliError> {
    let file = path.display().to_string();
    let failed = |source| CliError::BatchOutput { file: file.clone(), source };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((HashMap::new(), None)),
        Err(e) => return Err(failed(e)),
    };
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut outcomes = HashMap::new();
    // Only a file that is empty or made of this tool's own lines is resumed into: anything
    // else (a key file, a PEM file, another program's output) is refused untouched.
    let refuse = |why: String| {
        let reason = format!("{why}: --output takes a new file, an empty one, or a previous batch run's output");
        CliError::Batch { file: file.clone(), reason: Some(reason), source: None }
    };
    for (n, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let value = serde_json::from_slice::<Value>(line).ok();
        let own = value.as_ref().filter(|v| v.get("row").is_some_and(Value::is_u64) && v.get("input").is_some());
        match own.and_then(|v| Some((v.get("key")?.as_str()?.to_owned(), Outcome::of_line(v)?))) {
            Some((key, outcome)) => {
                outcomes.insert(key, outcome);
            }
            None => return Err(refuse(format!("line {} is not a batch result", n + 1))),
        }
    }
    // A half-written last line of an interrupted run starts as every line of this tool does.
    if complete < bytes.len() && !bytes[complete..].starts_with(b"{\"") {
        return Err(refuse("its last line is not a batch result".to_owned()));
    }
    let mut notes = Vec::new();
    if complete < bytes.len() {
        // An interrupted run: the row of the half-written line is sent again.
        OpenOptions::new().write(true).open(path).and_then(|f| f.set_len(complete as u64)).map_err(failed)?;
        notes.push(format!("note: cut off a half-written last line of {file}; its row is sent again"));
    }
    Ok((outcomes, (!notes.is_empty()).then(|| notes.join("\n"))))
}

/// A row ready to run: its number, key and input, and its call (or why it has none).
#[derive(Debug)]
struct Job<C: CliOperation> {
    /// The row's number.
    row: usize,
    /// Its key.
    key: String,
    /// What the output shows as its input.
    input: Value,
    /// The row's flags and the validated request they build.
    call: Result<(C, C::Op), CliError>,
}

/// Counts of outcomes, for the summary and the exit code.
#[derive(Debug, Default)]
struct Tally {
    /// Rows in the input.
    rows: usize,
    /// Rows sent in this run (invalid rows are not sent).
    sent: usize,
    /// Rows skipped because the output already has their final outcome.
    skipped: usize,
    /// Rows that succeeded (this run or before).
    done: usize,
    /// API errors by code.
    api: BTreeMap<String, usize>,
    /// Other failures by kind.
    failed: BTreeMap<String, usize>,
    /// The highest exit code of any row.
    exit: u8,
}

impl Tally {
    /// Counts one row's outcome.
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Done => self.done += 1,
            Outcome::Failed { kind, code, .. } if kind == "api" => {
                *self.api.entry(code.clone().unwrap_or_else(|| "(no code)".to_owned())).or_default() += 1;
            }
            Outcome::Failed { kind, .. } => *self.failed.entry(kind.clone()).or_default() += 1,
        }
        self.exit = self.exit.max(outcome.exit() as u8);
    }

    /// The exit code of the batch.
    fn exit(&self) -> Exit {
        [Exit::Transport, Exit::Malformed, Exit::Api, Exit::InvalidInput, Exit::Internal]
            .into_iter()
            .find(|e| *e as u8 == self.exit)
            .unwrap_or(Exit::Ok)
    }

    /// The summary for standard error.
    fn summary(&self, output: Option<&Path>, json: bool) -> String {
        if json {
            let summary = json!({"batch": {
                "rows": self.rows, "sent": self.sent, "skipped": self.skipped, "done": self.done,
                "api_errors": self.api, "failed": self.failed, "exit": self.exit,
            }});
            return format!("{summary}\n");
        }
        let counts = |map: &BTreeMap<String, usize>| {
            let total: usize = map.values().sum();
            // API codes come from the network: escaped for the terminal.
            let each: Vec<String> = map.iter().map(|(k, n)| format!("{} {n}", crate::table::escape(k))).collect();
            if each.is_empty() { total.to_string() } else { format!("{total}  ({})", each.join(", ")) }
        };
        let mut out = format!("batch: {} rows, {} sent", self.rows, self.sent);
        if self.skipped > 0 {
            let file = output.map(|p| p.display().to_string()).unwrap_or_default();
            out.push_str(&format!(", {} skipped (already in {file})", self.skipped));
        }
        out.push_str(&format!(
            "\n  done        {}\n  API errors  {}\n  failed      {}\n",
            self.done,
            counts(&self.api),
            counts(&self.failed)
        ));
        out
    }
}

/// A progress bar on standard error when it is a terminal; hidden otherwise.
fn progress(len: usize) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}") {
        bar.set_style(style);
    }
    bar
}

/// Where the row lines go.
fn open_output(path: Option<&Path>) -> Result<Box<dyn Write>, CliError> {
    match path {
        None => Ok(Box::new(io::stdout())),
        Some(path) => OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|f| Box::new(f) as Box<dyn Write>)
            .map_err(|source| CliError::BatchOutput { file: path.display().to_string(), source }),
    }
}

/// Runs the operation of `args` for every row of `path`: each row's columns merged over the
/// flags, validated exactly as a single run validates flags, and sent the way a single run sends.
pub(crate) fn run<A: CliOperation>(path: &Path, args: &A) -> Result<Report, CliError> {
    let common = args.common();
    let file = path.display().to_string();
    let rows = parse_rows(&crate::input::batch_file(path)?, &file)?;
    let output = common.output.as_deref();
    let (previous, note) = match output {
        Some(output) => resume(output)?,
        None => (HashMap::new(), None),
    };
    if let Some(note) = note {
        eprintln!("{note}");
    }
    // A file none of whose rows names a field of the operation is not this operation's input
    // (a PEM file read as CSV, say): refused before anything is sent or written.
    let names_a_field =
        |r: &Row| r.columns.as_ref().is_ok_and(|c| c.keys().any(|name| A::FIELDS.contains(&name.as_str())));
    if !rows.is_empty() && !rows.iter().any(names_a_field) {
        let reason = format!(
            "not a CSV or JSON-lines file of this operation's columns ({}): no row names one",
            A::FIELDS.join(", ")
        );
        return Err(CliError::Batch { file, reason: Some(reason), source: None });
    }
    let extra: Vec<String> = {
        let mut names: Vec<String> = rows
            .iter()
            .filter_map(|r| r.columns.as_ref().ok())
            .flat_map(|c| c.keys())
            .filter(|name| !A::FIELDS.contains(&name.as_str()))
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    };
    if !extra.is_empty() {
        eprintln!(
            "note: column(s) {} are not fields of this operation ({}); they are kept in each line's input, not sent",
            extra.iter().map(|n| format!("`{}`", crate::table::escape(n))).collect::<Vec<_>>().join(", "),
            A::FIELDS.join(", ")
        );
    }

    let mut tally = Tally { rows: rows.len(), ..Tally::default() };
    let mut jobs = Vec::new();
    for row in rows {
        let job = match row.columns {
            Ok(columns) => {
                let merged = merged(args, &columns);
                let fields = effective(&merged);
                let key = key_of(&fields);
                if let Some(outcome) = previous.get(&key).filter(|o| o.is_final()) {
                    tally.skipped += 1;
                    tally.count(outcome);
                    continue;
                }
                let mut input: Map<String, Value> = columns.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
                input.extend(fields.into_iter().map(|(k, v)| (k, Value::String(v))));
                let call = merged.request().map(|op| (merged, op));
                Job { row: row.number, key, input: Value::Object(input), call }
            }
            Err(reason) => Job {
                row: row.number,
                key: format!("row={}", row.number),
                input: Value::Null,
                call: Err(CliError::BadRow(reason)),
            },
        };
        jobs.push(job);
    }
    tally.sent = jobs.iter().filter(|j| j.call.is_ok()).count();

    let mut out = open_output(output)?;
    let bar = progress(jobs.len());
    let concurrency = usize::from(common.concurrency);
    let written = send::with_client(common, args.v3(), A::Op::SPEC.api, async |client| -> Result<(), CliError> {
        let mut lines = futures_util::stream::iter(jobs)
            .map(|job| async move {
                let result = match job.call {
                    Ok((args, op)) => args.send(client, op).await,
                    Err(e) => Err(e),
                };
                (job.row, job.key, job.input, result)
            })
            .buffer_unordered(concurrency);
        while let Some((row, key, input, result)) = lines.next().await {
            let mut line = json!({"row": row, "key": key, "input": input});
            match result {
                Ok(shown) => line["result"] = shown.json,
                Err(e) => line["error"] = render::error_json(&e)["error"].take(),
            }
            if let Some(outcome) = Outcome::of_line(&line) {
                tally.count(&outcome);
            }
            let text = render::json_line(&line)?;
            let mut write = || out.write_all(text.as_bytes()).and_then(|()| out.flush());
            // On standard output, keep the bar off the lines that share the terminal.
            let written = if output.is_none() { bar.suspend(write) } else { write() };
            written.map_err(|source| match output {
                Some(p) => CliError::BatchOutput { file: p.display().to_string(), source },
                None => CliError::Output(source),
            })?;
            bar.inc(1);
        }
        Ok(())
    });
    bar.finish_and_clear();
    // A client that cannot be set up fails every row the same way: report it once.
    written??;
    eprint!("{}", tally.summary(output, common.json));
    Ok(Report { exit: tally.exit(), ..Report::new(String::new()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{CommonArgs, V3Args};

    #[test]
    fn csv_and_json_lines_read_the_same_rows() {
        let csv = b"sub_mch_id, transaction_id ,memo\n1900000109,4208450740201411110007820472,a\n,42,\n";
        let rows = parse_rows(csv, "f").unwrap();
        assert_eq!(rows.len(), 2);
        let first = rows[0].columns.as_ref().unwrap();
        assert_eq!(first["transaction_id"], "4208450740201411110007820472");
        assert_eq!(first["memo"], "a");
        assert_eq!(rows[1].columns.as_ref().unwrap().len(), 1, "empty cells are absent");

        let jsonl = b"\n{\"sub_mch_id\":\"1900000109\",\"offset\":10,\"x\":null}\n\n{\"transaction_id\":4.2e27}\n[1]\n";
        let rows = parse_rows(jsonl, "f").unwrap();
        assert_eq!(rows.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(rows[0].columns.as_ref().unwrap()["offset"], "10");
        assert!(rows[1].columns.as_ref().unwrap_err().contains("write it as a string"));
        assert!(rows[2].columns.as_ref().unwrap_err().contains("not a JSON object"));
    }

    #[test]
    fn bad_csv_headers_are_refused() {
        assert!(matches!(parse_rows(b"a,a\n1,2\n", "f"), Err(CliError::Batch { .. })));
        let rows = parse_rows(b"a,b\n1\n", "f").unwrap();
        assert!(rows[0].columns.is_err(), "a record with the wrong number of fields is a bad row");
    }

    #[test]
    fn keys_are_stable_and_unambiguous() {
        let fields: Fields = [("b".to_owned(), "x&y=z%".to_owned()), ("a".to_owned(), "1".to_owned())].into();
        assert_eq!(key_of(&fields), "a=1&b=x%26y%3Dz%25");
    }

    #[test]
    fn flags_are_defaults_for_missing_columns() {
        let args = crate::ops::ecommerce::OrderQueryArgs {
            sub_mchid: Some("1900000109".into()),
            transaction_id: Some("1".into()),
            out_order_no: None,
            common: test_common(),
            v3: test_v3(),
        };
        let row: Fields =
            [("transaction_id".to_owned(), "2".to_owned()), ("out_order_no".to_owned(), "P".to_owned())].into();
        let merged = merged(&args, &row);
        assert_eq!(key_of(&effective(&merged)), "out_order_no=P&sub_mchid=1900000109&transaction_id=2");
    }

    fn test_common() -> CommonArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            common: CommonArgs,
        }
        T::parse_from(["t"]).common
    }

    fn test_v3() -> V3Args {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            v3: V3Args,
        }
        T::parse_from(["t"]).v3
    }

    #[test]
    fn outcomes_decide_what_is_skipped() {
        let done = Outcome::of_line(&json!({"key": "k", "result": {}})).unwrap();
        assert!(done.is_final());
        let busy =
            Outcome::of_line(&json!({"error": {"kind": "api", "code": "SYSTEMERROR", "retryable": true}})).unwrap();
        assert!(!busy.is_final());
        let gone =
            Outcome::of_line(&json!({"error": {"kind": "api", "code": "REFUNDNOTEXIST", "retryable": false}})).unwrap();
        assert!(gone.is_final());
        let mut tally = Tally::default();
        for o in [&done, &gone, &busy] {
            tally.count(o);
        }
        assert_eq!(tally.exit(), Exit::Api);
        tally.count(&Outcome::Failed { kind: "transport".into(), code: None, retryable: true });
        assert_eq!(tally.exit(), Exit::Transport);
        assert_eq!(tally.api["REFUNDNOTEXIST"], 1);
    }
}
