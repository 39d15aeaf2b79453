//! The builder of human-readable tables of decoded answers: one aligned `key  value` row per
//! field, amounts as fen with yuan in brackets, and lists (refunds, receivers) as grids. Each
//! operation's table is written next to the operation ([`crate::ops`]).
//!
//! The tables are compact: signatures and nonces are left out (`--json` prints everything).
//! Fields of an answer that no type knows are named in one `extra fields` row; `--json` prints
//! their values.
//!
//! The tables are compact: signatures and nonces are left out (`--json` prints everything).

use std::collections::BTreeSet;
use std::fmt::{self, Display};

use wxpay_protocol::{Extra, Fen};

/// An amount as `888 (8.88 yuan)`.
pub(crate) fn amount(fen: Fen) -> String {
    format!("{fen} ({} yuan)", fen.yuan_string())
}

/// Text from the network or a file, made safe for a terminal and for one table cell:
/// `\n`, `\r`, `\t` and `\\` as those escapes; other control characters (C0 with NUL, ESC
/// and BEL, DEL, C1) and bytes that are not UTF-8 as `\xHH` of their bytes; the Unicode
/// direction controls as `\u{HHHH}`. The result has no control character, so it cannot move
/// the cursor, recolour the terminal, or start a line of its own, and the exact bytes can be
/// told from it (`echo -e` and bash's `printf '%b'` give back all but the direction controls).
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    let hex = |out: &mut String, bytes: &[u8]| bytes.iter().for_each(|b| out.push_str(&format!("\\x{b:02X}")));
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => hex(&mut out, c.encode_utf8(&mut [0; 4]).as_bytes()),
                '\u{61C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                    out.push_str(&format!("\\u{{{:04X}}}", u32::from(c)));
                }
                c => out.push(c),
            }
        }
        hex(&mut out, chunk.invalid());
    }
    out
}

/// [`escape_bytes`] of a string.
pub(crate) fn escape(text: &str) -> String {
    escape_bytes(text.as_bytes())
}

/// What an empty cell shows.
const NONE: &str = "-";

/// The width of `s` on a terminal, for padding: a CJK character takes two columns, a
/// combining mark none (Unicode's East Asian Width, through `unicode-width`).
fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Writes `cells` padded to `widths`, two spaces apart, without trailing spaces.
fn write_cells(out: &mut String, indent: &str, cells: &[&str], widths: &[usize]) {
    let mut line = String::from(indent);
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(width(cell));
        line.extend(std::iter::repeat_n(' ', pad));
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// A grid with a header row; columns are as wide as their widest cell.
#[derive(Debug)]
pub(crate) struct Grid {
    header: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

impl Grid {
    pub(crate) fn new(header: &'static [&'static str]) -> Self {
        Self { header, rows: Vec::new() }
    }

    /// A row; each cell is [`escape`]d.
    pub(crate) fn push(&mut self, row: Vec<String>) {
        self.rows.push(row.iter().map(|cell| escape(cell)).collect());
    }

    fn write(&self, out: &mut String, indent: &str) {
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        write_cells(out, indent, self.header, &widths);
        for row in &self.rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            write_cells(out, indent, &cells, &widths);
        }
    }
}

/// Key/value rows with the keys padded to one width, and grids under some of them.
#[derive(Debug, Default)]
pub(crate) struct Table {
    rows: Vec<(&'static str, String, Option<Grid>)>,
}

impl Table {
    /// A row; the value is [`escape`]d (every value may come from the network).
    pub(crate) fn row(&mut self, key: &'static str, value: impl Display) -> &mut Self {
        self.rows.push((key, escape(&value.to_string()), None));
        self
    }

    /// A row when the value is present.
    pub(crate) fn opt(&mut self, key: &'static str, value: Option<impl Display>) -> &mut Self {
        if let Some(value) = value {
            self.row(key, value);
        }
        self
    }

    /// An amount row.
    pub(crate) fn fen(&mut self, key: &'static str, value: Fen) -> &mut Self {
        self.row(key, amount(value))
    }

    /// An amount row when the amount is present.
    pub(crate) fn opt_fen(&mut self, key: &'static str, value: Option<Fen>) -> &mut Self {
        self.opt(key, value.map(amount))
    }

    /// A row followed by a grid.
    pub(crate) fn grid(&mut self, key: &'static str, value: impl Display, grid: Grid) -> &mut Self {
        self.rows.push((key, escape(&value.to_string()), Some(grid)));
        self
    }
}

impl Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key_width = self.rows.iter().map(|(key, _, _)| width(key)).max().unwrap_or(0);
        let mut out = String::new();
        for (key, value, grid) in &self.rows {
            write_cells(&mut out, "", &[key, value], &[key_width]);
            if let Some(grid) = grid {
                grid.write(&mut out, "  ");
            }
        }
        f.write_str(&out)
    }
}

/// A value or [`NONE`].
pub(crate) fn or_none(value: Option<impl Display>) -> String {
    value.map_or_else(|| NONE.to_owned(), |v| v.to_string())
}

/// The names of extra fields, for one row: the answer's as they are, nested ones under their
/// list (`receivers[].name`), each once.
#[derive(Debug, Default)]
pub(crate) struct ExtraNames(BTreeSet<String>);

impl ExtraNames {
    /// The fields of `extra`, under `path` (`""` for the answer itself).
    pub(crate) fn add(&mut self, path: &str, extra: &Extra) -> &mut Self {
        for key in extra.keys() {
            self.0.insert(if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") });
        }
        self
    }

    /// The `extra fields` row, when there are any.
    pub(crate) fn row(&self, t: &mut Table) {
        if !self.0.is_empty() {
            let names: Vec<&str> = self.0.iter().map(String::as_str).collect();
            t.row("extra fields", format!("{} (values: --json)", names.join(", ")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_the_network_cannot_forge_rows_or_drive_the_terminal() {
        let mut grid = Grid::new(&["id"]);
        grid.push(vec!["5001\nresult   SUCCESS".into()]);
        let mut t = Table::default();
        t.row("result", "FAILED\nresult  SUCCESS\x1b[2J\x07\r\0\u{9b}31m\u{202E}\\").grid("refunds", "1", grid);
        let text = t.to_string();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert!(text.contains(r"FAILED\nresult  SUCCESS\x1B[2J\x07\r\x00\xC2\x9B31m\u{202E}\\"), "{text}");
        assert_eq!(escape_bytes(b"a\xFFb"), r"a\xFFb");
    }

    #[test]
    fn keys_and_columns_are_aligned() {
        let mut grid = Grid::new(&["id", "fee"]);
        grid.push(vec!["12345".into(), amount(Fen::new(5))]);
        let mut t = Table::default();
        t.row("a", "x").fen("long_key", Fen::new(888)).grid("list", "1 listed", grid);
        assert_eq!(
            t.to_string(),
            "a         x\nlong_key  888 (8.88 yuan)\nlist      1 listed\n  id     fee\n  12345  5 (0.05 yuan)\n"
        );
    }

    #[test]
    fn chinese_text_takes_two_columns_a_character() {
        let mut grid = Grid::new(&["description", "fee"]);
        grid.push(vec!["分给商户".into(), "1".into()]);
        grid.push(vec!["refund".into(), "2".into()]);
        let mut t = Table::default();
        t.grid("list", "2 listed", grid);
        let text = t.to_string();
        assert_eq!(text, "list  2 listed\n  description  fee\n  分给商户     1\n  refund       2\n");
        // Every `fee` cell starts at the same column of the terminal.
        let columns: Vec<usize> = text.lines().skip(1).map(|l| width(&l[..l.rfind("  ").unwrap() + 2])).collect();
        assert_eq!(columns, [15, 15, 15]);
    }
}
