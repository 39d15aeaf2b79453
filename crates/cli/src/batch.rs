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
//! - Resume: when `--output FILE` exists, rows whose key has a line with a result or with a final
//!   error (one that is not `"retryable": true`) are skipped; a half-written last line (an
//!   interrupted run) is cut off and its row sent again. The key is the row's effective fields,
//!   so a row is recognised whatever its position, and never gets a new merchant number.
//! - The summary goes to standard error (JSON with `--json`), and a progress bar too when it is a
//!   terminal. The exit code is the highest of the rows' codes: 5 if any transport failure, else
//!   4 if any malformed or unverifiable answer, else 3 if any API error, else 2 if any invalid
//!   row, else 0. Rows skipped on resume count with the outcome recorded for them.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value, json};
use wxpay_protocol::Operation;

use crate::exit::{CliError, Exit};
use crate::input::MAX_BATCH_LINE;
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

/// The longest line of an output file read on resume (a line holds a whole answer, and an
/// `--all-pages` answer lists up to 50 refunds).
const MAX_LINE: usize = 1024 * 1024;

/// The rows of a batch input, read as they are needed: memory holds one row at a time, whatever
/// the size of the file.
struct Rows {
    /// The rows, numbered from 1.
    rows: Box<dyn Iterator<Item = Row>>,
    /// The CSV header's column names (JSON lines name their columns row by row).
    header: Option<Vec<String>>,
}

/// Opens the batch input (`-` for standard input): JSON lines when the first non-space
/// character is `{`, else CSV with a header row.
fn open_rows(path: &Path) -> Result<Rows, CliError> {
    let file = path.display().to_string();
    let reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(|e| CliError::Batch { file: file.clone(), reason: None, source: Some(e) })?)
    };
    rows_of(io::BufReader::new(reader), &file)
}

/// The rows of `reader` (see [`open_rows`]).
fn rows_of(mut reader: io::BufReader<Box<dyn Read>>, file: &str) -> Result<Rows, CliError> {
    let read_error = |e| CliError::Batch { file: file.to_owned(), reason: None, source: Some(e) };
    // Skip a UTF-8 byte order mark and leading white space, to see the first character.
    let mut first = None;
    let mut at_start = true;
    loop {
        let buffer = io::BufRead::fill_buf(&mut reader).map_err(read_error)?;
        if buffer.is_empty() {
            break;
        }
        if at_start && buffer.starts_with(b"\xEF\xBB\xBF") {
            io::BufRead::consume(&mut reader, 3);
            at_start = false;
            continue;
        }
        at_start = false;
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                first = Some(buffer[i]);
                io::BufRead::consume(&mut reader, i);
                break;
            }
            None => {
                let n = buffer.len();
                io::BufRead::consume(&mut reader, n);
            }
        }
    }
    match first {
        None => Ok(Rows { rows: Box::new(std::iter::empty()), header: None }),
        Some(b'{') => {
            Ok(Rows { rows: Box::new(JsonRows { reader, line: 0, number: 0, buffer: Vec::new() }), header: None })
        }
        Some(_) => csv_rows(reader, file),
    }
}

/// JSON lines, one row per non-blank line.
struct JsonRows {
    reader: io::BufReader<Box<dyn Read>>,
    /// The line last read (1-based).
    line: usize,
    /// The row last produced (1-based).
    number: usize,
    buffer: Vec<u8>,
}

impl Iterator for JsonRows {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        loop {
            self.buffer.clear();
            let (read, too_long) = match read_line_bounded(&mut self.reader, &mut self.buffer, MAX_BATCH_LINE) {
                Ok(read) => read,
                Err(e) => {
                    self.number += 1;
                    self.line += 1;
                    let columns = Err(format!("line {}: cannot be read ({e})", self.line));
                    // A read error ends the input: report it as this row, then stop.
                    self.buffer.clear();
                    let row = Row { number: self.number, columns };
                    self.reader = io::BufReader::new(Box::new(io::empty()));
                    return Some(row);
                }
            };
            if read == 0 {
                return None;
            }
            self.line += 1;
            if !too_long && self.buffer.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.number += 1;
            let columns = if too_long {
                Err(format!("line {}: longer than {MAX_BATCH_LINE} bytes", self.line))
            } else {
                json_row(&String::from_utf8_lossy(&self.buffer)).map_err(|e| format!("line {}: {e}", self.line))
            };
            return Some(Row { number: self.number, columns });
        }
    }
}

/// Reads up to and including the next `\n` into `buffer`, keeping at most `max` bytes (the
/// rest of a longer line is read and dropped). Returns the bytes read and whether the line was
/// longer than `max`.
fn read_line_bounded(reader: &mut impl io::BufRead, buffer: &mut Vec<u8>, max: usize) -> io::Result<(usize, bool)> {
    let (mut read, mut too_long) = (0, false);
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok((read, too_long));
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let room = max.saturating_sub(buffer.len());
        buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        too_long |= chunk.len() > room;
        let n = chunk.len();
        reader.consume(n);
        read += n;
        if done {
            return Ok((read, too_long));
        }
    }
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
fn csv_rows(reader: io::BufReader<Box<dyn Read>>, file: &str) -> Result<Rows, CliError> {
    let invalid = |reason: String| CliError::Batch { file: file.to_owned(), reason: Some(reason), source: None };
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
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
    let names = header.clone();
    // Byte records, so that a cell that is not UTF-8 is named by its column, not its index.
    let rows = reader.into_byte_records().enumerate().map(move |(i, record)| Row {
        number: i + 1,
        columns: record.map_err(|e| e.to_string()).and_then(|r| {
            if r.len() != names.len() {
                return Err(format!("row has {} fields but the header row has {}", r.len(), names.len()));
            }
            let mut fields = Fields::new();
            for (name, cell) in names.iter().zip(r.iter()) {
                let cell = std::str::from_utf8(cell).map_err(|_| format!("column `{name}` is not UTF-8"))?;
                if !cell.is_empty() {
                    fields.insert(name.clone(), cell.to_owned());
                }
            }
            Ok(fields)
        }),
    });
    Ok(Rows { rows: Box::new(rows), header: Some(header) })
}

/// How many data rows a batch file has, counted without holding it (for the progress bar's
/// length and time left): its non-blank lines, less the header of a CSV file. `None` for
/// standard input.
fn count_rows(path: &Path) -> Option<u64> {
    if path.as_os_str() == "-" {
        return None;
    }
    let mut reader = io::BufReader::new(File::open(path).ok()?);
    let (mut lines, mut blank, mut first) = (0u64, true, None);
    loop {
        let buffer = io::BufRead::fill_buf(&mut reader).ok()?;
        if buffer.is_empty() {
            break;
        }
        for &b in buffer {
            if b == b'\n' {
                lines += u64::from(!blank);
                blank = true;
            } else if !b.is_ascii_whitespace() {
                first.get_or_insert(b);
                blank = false;
            }
        }
        let n = buffer.len();
        io::BufRead::consume(&mut reader, n);
    }
    lines += u64::from(!blank);
    Some(if first == Some(b'{') { lines } else { lines.saturating_sub(1) })
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

/// How many rows of an existing output file keep their key, to check that a resumed run reads
/// the same input.
const KEY_SAMPLE: usize = 1024;

/// What an existing output file records, read line by line (its size does not matter): the
/// rows that have a final line (one bit each), their outcomes counted, and a sample of keys.
#[derive(Debug, Default)]
struct Previous {
    /// Bit `n` is set when row `n` has a final line.
    done: Vec<u64>,
    /// The outcomes of those rows.
    tally: Tally,
    /// The keys of up to [`KEY_SAMPLE`] of those rows.
    sample: HashMap<usize, String>,
}

impl Previous {
    /// Whether row `number` has a final line.
    fn has(&self, number: usize) -> bool {
        self.done.get(number / 64).is_some_and(|word| word & (1 << (number % 64)) != 0)
    }

    /// Records row `number`'s final line; `false` if it had one already.
    fn mark(&mut self, number: usize) -> bool {
        let (word, bit) = (number / 64, 1u64 << (number % 64));
        if self.done.len() <= word {
            self.done.resize(word + 1, 0);
        }
        let fresh = self.done[word] & bit == 0;
        self.done[word] |= bit;
        fresh
    }
}

/// Reads an existing output file (after cutting off a half-written last line: an interrupted
/// run, whose row is sent again). Returns what it records and a note for standard error.
fn resume(path: &Path) -> Result<(Previous, Option<String>), CliError> {
    let file = path.display().to_string();
    let failed = |source| CliError::BatchOutput { file: file.clone(), source };
    let mut reader = match File::open(path) {
        Ok(f) => io::BufReader::new(f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Previous::default(), None)),
        Err(e) => return Err(failed(e)),
    };
    let mut previous = Previous::default();
    let (mut complete, mut buffer) = (0u64, Vec::new());
    let mut cut = false;
    let refuse = |why: String| {
        let reason = format!("{why}: --output takes a new file, an empty one, or a previous batch run's output");
        CliError::Batch { file: file.clone(), reason: Some(reason), source: None }
    };
    let mut line_number = 0usize;
    loop {
        line_number += 1;
        buffer.clear();
        let (read, too_long) = read_line_bounded(&mut reader, &mut buffer, MAX_LINE).map_err(failed)?;
        if read == 0 {
            break;
        }
        if buffer.last() != Some(&b'\n') {
            // A half-written last line of an interrupted run starts as every line of this tool does.
            if !buffer.starts_with(b"{\"") {
                return Err(refuse("its last line is not a batch result".to_owned()));
            }
            cut = true;
            break;
        }
        complete += read as u64;
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value = (!too_long).then(|| serde_json::from_slice::<Value>(&buffer).ok()).flatten();
        let recorded = value.as_ref().and_then(|v| {
            let row = usize::try_from(v.get("row")?.as_u64()?).ok()?;
            Some((row, v.get("key")?.as_str()?.to_owned(), Outcome::of_line(v)?))
        });
        // Only a file that is empty or made of this tool's own lines is resumed into: anything
        // else (a key file, a PEM file, another program's output) is refused untouched.
        let own = value.as_ref().is_some_and(|v| v.get("input").is_some());
        let recorded = recorded.filter(|_| own);
        match recorded {
            Some((row, key, outcome)) if outcome.is_final() => {
                if previous.mark(row) {
                    previous.tally.count(&outcome);
                    if previous.sample.len() < KEY_SAMPLE {
                        previous.sample.insert(row, key);
                    }
                }
            }
            Some(_) => {}
            None => return Err(refuse(format!("line {line_number} is not a batch result"))),
        }
    }
    let mut notes = Vec::new();
    if cut {
        OpenOptions::new().write(true).open(path).and_then(|f| f.set_len(complete)).map_err(failed)?;
        notes.push(format!("note: cut off a half-written last line of {file}; its row is sent again"));
    }
    Ok((previous, (!notes.is_empty()).then(|| notes.join("\n"))))
}

/// The command line of this run, quoted for a POSIX shell, to resume it.
fn this_command() -> String {
    std::env::args_os()
        .map(|arg| {
            let arg = arg.to_string_lossy().into_owned();
            let plain = !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
            if plain { arg } else { format!("'{}'", arg.replace('\'', "'\\''")) }
        })
        .collect::<Vec<_>>()
        .join(" ")
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
fn progress(len: Option<u64>) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}  {msg}") {
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
/// The input is read as the rows are sent, so memory is bounded by `--concurrency`, not by the
/// size of the file.
pub(crate) fn run<A: CliOperation>(path: &Path, args: &A) -> Result<Report, CliError> {
    let common = args.common();
    let file = path.display().to_string();
    let Rows { rows, header } = open_rows(path)?;
    let output = common.output.as_deref();
    let (mut previous, note) = match output {
        Some(output) => resume(output)?,
        None => (Previous::default(), None),
    };
    let mut tally = std::mem::take(&mut previous.tally);
    if let Some(note) = note {
        eprintln!("{note}");
    }
    let mut noted = std::collections::BTreeSet::new();
    let mut note_columns = |names: &mut dyn Iterator<Item = &String>| {
        let new: Vec<String> = names
            .filter(|n| !A::FIELDS.contains(&n.as_str()) && noted.len() < 100 && noted.insert((*n).clone()))
            .cloned()
            .collect();
        if !new.is_empty() {
            eprintln!(
                "note: column(s) {} are not fields of this operation ({}); they are kept in each line's input, not sent",
                new.iter().map(|n| format!("`{}`", crate::table::escape(n))).collect::<Vec<_>>().join(", "),
                A::FIELDS.join(", ")
            );
        }
    };
    // A file none of whose columns is a field of the operation is not this operation's input
    // (a PEM file read as CSV, say): refused before anything is sent or written. CSV names its
    // columns in the header; JSON lines in their first row.
    let mut rows = rows.peekable();
    let names_a_field = |names: &mut dyn Iterator<Item = &String>| {
        for name in names {
            if A::FIELDS.contains(&name.as_str()) {
                return true;
            }
        }
        false
    };
    let first_names = match (&header, rows.peek()) {
        (Some(header), _) => Some(names_a_field(&mut header.iter())),
        (None, Some(Row { columns: Ok(columns), .. })) => Some(names_a_field(&mut columns.keys())),
        (None, _) => None,
    };
    if first_names == Some(false) {
        let reason = format!(
            "not a CSV or JSON-lines file of this operation's columns ({}): {} names none",
            A::FIELDS.join(", "),
            if header.is_some() { "the header row" } else { "the first row" }
        );
        return Err(CliError::Batch { file, reason: Some(reason), source: None });
    }
    if let Some(header) = &header {
        note_columns(&mut header.iter());
    }

    let shard = common.shard;
    let total = if io::stderr().is_terminal() {
        count_rows(path).map(|n| match shard {
            Some(s) => (n + u64::from(s.count) - u64::from(s.index)) / u64::from(s.count),
            None => n,
        })
    } else {
        None
    };
    let counters = Counters::default();
    let mismatch = std::cell::RefCell::new(None::<CliError>);
    let jobs = rows.filter(|row| shard.is_none_or(|s| s.takes(row.number))).filter_map(|row| {
        counters.rows.set(counters.rows.get() + 1);
        let job = match row.columns {
            Ok(columns) => {
                if header.is_none() {
                    note_columns(&mut columns.keys());
                }
                let merged = merged(args, &columns);
                let fields = effective(&merged);
                let key = key_of(&fields);
                if previous.has(row.number) {
                    if let Some(recorded) = previous.sample.get(&row.number).filter(|k| **k != key) {
                        let reason = format!(
                            "row {} is `{key}` here, but the output file records it as `{recorded}`: \
                             the output belongs to another input (give another --output)",
                            row.number
                        );
                        mismatch.replace(Some(CliError::Batch {
                            file: file.clone(),
                            reason: Some(reason),
                            source: None,
                        }));
                    }
                    counters.skipped.set(counters.skipped.get() + 1);
                    return None;
                }
                let mut input: Map<String, Value> = columns.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
                input.extend(fields.into_iter().map(|(k, v)| (k, Value::String(v))));
                let call = merged.request().map(|op| (merged, op));
                Job { row: row.number, key, input: Value::Object(input), call }
            }
            Err(_) if previous.has(row.number) => {
                counters.skipped.set(counters.skipped.get() + 1);
                return None;
            }
            Err(reason) => Job {
                row: row.number,
                key: format!("row={}", row.number),
                input: Value::Null,
                call: Err(CliError::BadRow(reason)),
            },
        };
        counters.sent.set(counters.sent.get() + usize::from(job.call.is_ok()));
        Some(job)
    });

    let mut out = open_output(output)?;
    let bar = progress(total);
    let concurrency = usize::from(common.concurrency);
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let budget = send::redis_budget(common)?;
    let watched = budget.clone();
    let written = send::with_client_and_budget(args, A::Op::SPEC.api, budget, async |client| -> Result<(), CliError> {
        // Ctrl-C: no new rows are started; the calls in flight finish and are written. A second
        // Ctrl-C ends the process at once (a half-written line is redone on resume).
        let signals = {
            let interrupted = interrupted.clone();
            tokio::spawn(async move {
                while tokio::signal::ctrl_c().await.is_ok() {
                    if interrupted.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        std::process::exit(Exit::Interrupted as i32);
                    }
                }
            })
        };
        // Say on the progress line when the shared budget's Redis is unreachable (nothing is
        // sent meanwhile).
        let watch = watched.map(|budget| {
            let bar = bar.clone();
            tokio::spawn(async move {
                loop {
                    let message = budget.unreachable_since().map(|since| {
                        format!("waiting for Redis (unreachable for {}s; nothing is sent)", since.elapsed().as_secs())
                    });
                    bar.set_message(message.unwrap_or_default());
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            })
        });
        let stop = interrupted.clone();
        let mut lines = futures_util::stream::iter(jobs)
            .take_while(move |_| std::future::ready(!stop.load(std::sync::atomic::Ordering::SeqCst)))
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
            if let Some(e) = mismatch.take() {
                return Err(e);
            }
        }
        signals.abort();
        if let Some(watch) = watch {
            watch.abort();
        }
        mismatch.take().map_or(Ok(()), Err)
    });
    bar.finish_and_clear();
    // A client that cannot be set up fails every row the same way: report it once.
    written??;
    tally.rows = counters.rows.get();
    tally.sent = counters.sent.get();
    tally.skipped = counters.skipped.get();
    eprint!("{}", tally.summary(output, common.json));
    if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        match output {
            Some(_) => eprintln!("interrupted: the rows not sent are sent by the same command:\n  {}", this_command()),
            None => eprintln!("interrupted: give --output FILE to be able to resume"),
        }
        return Ok(Report { exit: Exit::Interrupted, ..Report::new(String::new()) });
    }
    Ok(Report { exit: tally.exit(), ..Report::new(String::new()) })
}

/// Counts kept while rows stream past.
#[derive(Debug, Default)]
struct Counters {
    /// This run's rows (this shard's).
    rows: std::cell::Cell<usize>,
    /// Rows sent.
    sent: std::cell::Cell<usize>,
    /// Rows skipped: the output already has their final line.
    skipped: std::cell::Cell<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{CommonArgs, V3Args};

    /// The rows of `bytes`, read as a batch file is.
    fn parse_rows(bytes: &[u8], file: &str) -> Result<Vec<Row>, CliError> {
        let reader: Box<dyn Read> = Box::new(io::Cursor::new(bytes.to_vec()));
        Ok(rows_of(io::BufReader::new(reader), file)?.rows.collect())
    }

    #[test]
    fn lines_longer_than_the_limit_are_invalid_rows_and_the_next_row_is_read() {
        let mut jsonl = b"{\"a\":\"".to_vec();
        jsonl.extend(std::iter::repeat_n(b'x', MAX_BATCH_LINE + 10));
        jsonl.extend_from_slice(b"\"}\n\n{\"b\":\"2\"}\n");
        let rows = parse_rows(&jsonl, "f").unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].columns.as_ref().unwrap_err().contains("longer than"), "{:?}", rows[0].columns);
        assert_eq!((rows[1].number, rows[1].columns.as_ref().unwrap()["b"].as_str()), (2, "2"));
    }

    #[test]
    fn a_resume_remembers_final_rows_by_number() {
        let mut previous = Previous::default();
        assert!(previous.mark(1) && previous.mark(64) && previous.mark(1_000_000));
        assert!(!previous.mark(64), "a row is counted once");
        assert!(previous.has(1) && previous.has(64) && previous.has(1_000_000));
        assert!(!previous.has(2) && !previous.has(63) && !previous.has(5_000_000));
        assert_eq!(previous.done.len(), 1_000_000 / 64 + 1, "one bit a row: 125 KB for a million");
    }

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
